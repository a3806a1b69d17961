"""`--processes` supervises its children: one that dies is restarted on its port, every stop
signal stops them all, and none outlives the launcher, not even a launcher killed with SIGKILL.

The CLI runs in a temporary directory (no developer's .env), on free ports, in a process group
of its own (as a terminal's foreground job is). Waits are bounded polls: this machine may be slow.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from microservicios.cluster.cluster import resolve_ports
from microservicios.cluster.processes import ProcessCluster
from microservicios.cluster.supervision import FIRST_DELAY_S, ChildExit
from microservicios.serve.runner import answers_health
from tests.helpers import LineReader, connection_refused, eventually, start_cli

pytestmark = pytest.mark.skipif(
    os.name == "nt", reason="SIGKILL, SIGHUP and process groups are POSIX-only"
)

TABLE_ROW = re.compile(r"^(\w+)\s+http://127\.0\.0\.1:(\d+)\s+(\d+)\s")
UNEXPECTED = "terminó inesperadamente"


def is_running(pid: int) -> bool:
    """True if process `pid` exists and has not exited (a zombie nobody reaped yet has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    if not Path("/proc/self/stat").exists():
        return True  # no /proc (macOS): os.kill's answer is all we have
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@dataclass
class Launcher:
    """`python -m microservicios.cluster --processes` running, and what its table said."""

    process: subprocess.Popen
    output: LineReader
    ports: dict[str, int]
    pids: dict[str, int]

    def assert_nothing_left(self) -> None:
        """Every child of the table has exited and no port of the cluster accepts connections."""
        left = lambda: [name for name, pid in self.pids.items() if is_running(pid)]  # noqa: E731
        assert eventually(lambda: not left(), seconds=30), f"still running: {left()}"
        for name, port in self.ports.items():
            assert connection_refused(port), f"{name} still serves on {port}"


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """The CLI in --processes mode, serving; killed at the end with any child it left."""
    with launched(tmp_path, "--quiet") as running:
        yield running


@contextlib.contextmanager
def launched(tmp_path: Path, *options: str, **popen: Any) -> Iterator[Launcher]:
    """`--processes --ports auto` with `options`, once its table is out; killed at the end
    with any child it left."""
    process = start_cli(
        tmp_path,
        *["--processes", *options, "--ports", "auto", "--data-dir", str(tmp_path / "data")],
        start_new_session=True,
        **popen,
    )
    output = LineReader(process.stdout)
    rows: list[re.Match] = []
    try:
        assert output.wait_for(re.compile(r"^gateway\s"), seconds=90), "".join(output.seen)
        rows = [match for line in output.seen if (match := TABLE_ROW.match(line))]
        assert [row[1] for row in rows] == ["users", "items", "orders", "gateway"], output.seen
        ports = {row[1]: int(row[2]) for row in rows}
        yield Launcher(process, output, ports, pids={row[1]: int(row[3]) for row in rows})
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in (int(row[3]) for row in rows):
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)


def supervise_until(cluster: ProcessCluster, exits: list[ChildExit], done: Callable[[], bool]):
    """A condition for `eventually`: one supervise() pass (its reports go to `exits`), then `done`."""

    def condition() -> bool:
        exits.extend(cluster.supervise())
        return done()

    return condition


def test_supervise_restarts_a_child_killed_with_sigkill(tmp_path):
    """ProcessCluster: after SIGKILL, status() shows orders down, supervise() reports it once
    and restarts it, and it answers /health again on the same port with a new pid."""
    cluster = ProcessCluster(resolve_ports("auto"), tmp_path, quiet=True)
    cluster.start()
    try:
        port, old_pid = cluster.ports["orders"], cluster.pids()["orders"]
        os.kill(old_pid, signal.SIGKILL)
        assert eventually(lambda: not cluster.status()["orders"], seconds=30)

        exits: list[ChildExit] = []
        back = lambda: cluster.pids()["orders"] != old_pid and answers_health("127.0.0.1", port)  # noqa: E731
        assert eventually(supervise_until(cluster, exits, back), seconds=60)
        assert exits == [ChildExit("orders", old_pid, -signal.SIGKILL, FIRST_DELAY_S)]
        assert cluster.status() == dict.fromkeys(cluster.ports, True)
        assert cluster.ports["orders"] == port
    finally:
        cluster.stop()


def up_without_answering(cluster: ProcessCluster, name: str, busy: Callable[[], bool]) -> int:
    """While `busy()`, ask status() again and again; how many times it said `name` was up
    while its /health did not answer."""
    lies = 0
    while busy():
        if cluster.status()[name] and not answers_health("127.0.0.1", cluster.ports[name]):
            lies += 1
        time.sleep(0.01)  # leave the starting process some of the machine
    return lies


def test_a_service_is_up_only_once_its_new_process_answers(tmp_path):
    """After revive() and after a supervisor restart, status() (what the panel shows as
    'activo') says up only when the service answers, not while its process is starting."""
    cluster = ProcessCluster(resolve_ports("auto"), tmp_path, quiet=True)
    cluster.start()
    try:
        cluster.kill("items")
        reviving = threading.Thread(target=cluster.revive, args=("items",))
        reviving.start()
        assert up_without_answering(cluster, "items", reviving.is_alive) == 0
        assert cluster.status()["items"] is True

        old_pid = cluster.pids()["items"]
        os.kill(old_pid, signal.SIGKILL)
        assert eventually(lambda: not cluster.status()["items"], seconds=30)
        exits: list[ChildExit] = []
        restarted = supervise_until(cluster, exits, lambda: cluster.pids()["items"] != old_pid)
        assert eventually(restarted, seconds=30)
        answering = lambda: answers_health("127.0.0.1", cluster.ports["items"])  # noqa: E731
        assert up_without_answering(cluster, "items", lambda: not answering()) == 0
        assert cluster.status()["items"] is True
    finally:
        cluster.stop()


def test_a_child_that_dies_at_every_start_is_restarted_ever_more_slowly(tmp_path):
    """While its port is taken, users dies at each start: every wait doubles (no busy loop),
    and users is back once the port is free again."""
    cluster = ProcessCluster(resolve_ports("auto"), tmp_path, quiet=True)
    cluster.start()
    try:
        port = cluster.ports["users"]
        os.kill(cluster.pids()["users"], signal.SIGKILL)
        blockers: list[socket.socket] = []

        def take_port() -> bool:
            try:
                blockers.append(socket.create_server(("127.0.0.1", port)))
                return True
            except OSError:
                return False

        assert eventually(take_port, seconds=30)
        exits: list[ChildExit] = []
        with blockers[0]:
            assert eventually(supervise_until(cluster, exits, lambda: len(exits) >= 3), 90)
        assert [exit.restart_in for exit in exits] == [
            FIRST_DELAY_S,
            2 * FIRST_DELAY_S,
            4 * FIRST_DELAY_S,
        ]
        assert [exit.returncode > 0 for exit in exits] == [
            False,
            True,
            True,
        ]  # SIGKILL, then failed starts

        back = lambda: answers_health("127.0.0.1", port)  # noqa: E731
        assert eventually(supervise_until(cluster, exits, back), seconds=60)
    finally:
        cluster.stop()


def test_the_launcher_reports_and_restarts_a_killed_child(launcher):
    """kill -9 on orders: the launcher prints one Spanish line saying so, orders answers /health
    again on its port, and Ctrl-C still stops everything."""
    pid = launcher.pids["orders"]
    os.kill(pid, signal.SIGKILL)
    line = re.compile(
        rf"^El servicio 'orders' \(pid {pid}\) {UNEXPECTED} \(señal SIGKILL\); "
        r"lo reinicio en \d+(\.\d+)? s\.$"
    )
    assert launcher.output.wait_for(line, seconds=30), "".join(launcher.output.seen)
    assert eventually(lambda: answers_health("127.0.0.1", launcher.ports["orders"]), seconds=60)

    launcher.process.send_signal(signal.SIGINT)
    assert launcher.process.wait(timeout=60) == 0
    assert launcher.output.rest(10).count(UNEXPECTED) == 1
    launcher.assert_nothing_left()


def test_ctrl_c_in_a_terminal_stops_every_child(launcher):
    """Ctrl-C in a terminal (SIGINT to the launcher and its children at once): exit 0,
    "Cluster detenido.", no child taken for dead and restarted, none left behind."""
    os.killpg(launcher.process.pid, signal.SIGINT)
    assert launcher.process.wait(timeout=60) == 0
    output = launcher.output.rest(10)
    assert "Cluster detenido." in output
    assert UNEXPECTED not in output
    launcher.assert_nothing_left()


def test_ctrl_c_twice_in_a_terminal_stops_quietly(tmp_path):
    """Ctrl-C pressed twice, 0.1 s apart, in a terminal (each time SIGINT to the launcher and
    its children at once): exit 0, "Cluster detenido.", and no traceback from any service."""
    with launched(tmp_path, stderr=subprocess.STDOUT) as running:
        os.killpg(running.process.pid, signal.SIGINT)
        time.sleep(0.1)
        os.killpg(running.process.pid, signal.SIGINT)
        assert running.process.wait(timeout=60) == 0
        output = running.output.rest(10)
        assert "Cluster detenido." in output
        for noise in ("Traceback", "KeyboardInterrupt", "CancelledError", UNEXPECTED):
            assert noise not in output, output
        running.assert_nothing_left()


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_signal_to_the_launcher_stops_every_child(launcher, name):
    """SIGINT, SIGTERM (an IDE's stop button) or SIGHUP (its terminal closed), to the launcher
    alone: exit 0, "Cluster detenido.", no child left running or serving."""
    launcher.process.send_signal(getattr(signal, name))
    assert launcher.process.wait(timeout=60) == 0
    assert "Cluster detenido." in launcher.output.rest(10)
    launcher.assert_nothing_left()


def test_children_exit_when_the_launcher_is_killed(launcher):
    """kill -9 on the launcher (no chance to clean up): every child notices and exits."""
    launcher.process.kill()
    launcher.process.wait(timeout=30)
    launcher.assert_nothing_left()
