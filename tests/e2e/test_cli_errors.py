"""`python -m microservicios.cluster` refuses what it cannot do with one Spanish line."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import CLI, free_port, subprocess_env


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + list(args), capture_output=True, text=True, timeout=60, cwd=cwd, env=subprocess_env()
    )


def ports_arg(gateway: int) -> str:
    return f"gateway={gateway},users={free_port()},items={free_port()},orders={free_port()}"


def assert_one_spanish_error(finished: subprocess.CompletedProcess, expected: str) -> None:
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert expected in output, output
    assert "Traceback" not in output and "Address already in use" not in output, output


@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_a_taken_port_suggests_ports_auto(tmp_path, mode):
    """A port in use: Spanish reason and the command-line fix, not Cluster(ports='auto')."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        finished = run_cli(*mode, "--ports", ports_arg(port), "--data-dir", "d", cwd=tmp_path)
    assert_one_spanish_error(finished, f"No se pudo abrir el puerto {port}")
    assert "usá --ports auto" in finished.stderr
    assert "Cluster(" not in finished.stderr


@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_two_services_on_one_port_are_named(tmp_path, mode):
    """Two services given the same port: the error names both, not another program."""
    port = free_port()
    finished = run_cli(*mode, "--ports", f"gateway={port},users={port}", cwd=tmp_path)
    assert_one_spanish_error(finished, f"tienen el mismo puerto, {port}")
    assert "'gateway'" in finished.stderr and "'users'" in finished.stderr
    assert "otro programa" not in finished.stderr


def test_a_port_out_of_range_is_a_usage_error(tmp_path):
    """--ports gateway=70000 exits 2 with a Spanish line, no OverflowError."""
    finished = run_cli("--ports", "gateway=70000", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_spanish_error(finished, "los puertos van de 1 a 65535")
    assert "OverflowError" not in finished.stderr


def loading_the_web_stack(pid: int) -> bool:
    """Linux: pydantic's compiled core is mapped, so the CLI is loading FastAPI (the Python
    start-up, which only Python itself can handle a Ctrl-C in, is over)."""
    return "pydantic_core" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_ctrl_c_during_start_up_says_so_in_spanish(tmp_path, mode):
    """Ctrl-C while loading or starting: a Spanish line, a non-zero exit, no traceback."""
    process = subprocess.Popen(
        CLI + [*mode, "--ports", "auto", "--data-dir", "d"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=subprocess_env(PYTHONUNBUFFERED="1"),
    )
    try:
        deadline = time.monotonic() + 30
        while not loading_the_web_stack(process.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)  # loading FastAPI, or already starting
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, output
    assert "interrumpido" in output, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "Servicio" not in output  # no table: the cluster never was up
