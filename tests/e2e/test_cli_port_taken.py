"""--processes: a service restarted on a port another program took meanwhile says so in
one Spanish line (it used to be uvicorn's English line, after the app had started)."""

import os
import re
import signal
import socket
import subprocess

import pytest

from microservicios.serve.runner import answers_health
from tests.helpers import LineReader, eventually, start_cli, stop_cli

USERS_ROW = re.compile(r"^users\s+http://127\.0\.0\.1:(\d+)\s+(\d+)\s")
ATTEMPTS = 5  # the launcher may restart users before the test takes its port: try again


def take_port_of_killed(pid: int, port: int) -> socket.socket | None:
    """Kill `pid` and bind its port as soon as the port is free; None if users was
    restarted on it first."""
    os.kill(pid, signal.SIGKILL)
    taken: list[socket.socket] = []

    def bound() -> bool:
        try:
            taken.append(socket.create_server(("127.0.0.1", port)))
        except OSError:
            return False
        return True

    return taken[0] if eventually(bound, seconds=30, poll=0.005) else None


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL and SIGINT are POSIX-only here")
def test_a_restart_on_a_taken_port_is_one_spanish_line(tmp_path):
    """users killed, its port taken by another program: the child says in Spanish which
    port is taken; once the port is free again users is back; no traceback, no English line."""
    process = start_cli(
        tmp_path,
        *["--processes", "--ports", "auto", "--no-panel", "--data-dir", str(tmp_path / "data")],
        stderr=subprocess.STDOUT,
    )
    try:
        reader = LineReader(process.stdout)
        users = reader.wait_for(USERS_ROW, seconds=60)
        assert users, reader.seen
        port, pid = int(users.group(1)), int(users.group(2))
        for _ in range(ATTEMPTS):
            taken = take_port_of_killed(pid, port)
            if taken is not None:
                break
            restarted = reader.wait_for(re.compile(r"'users' arrancó de nuevo \(pid (\d+)\)"), 60)
            assert restarted, reader.seen
            pid = int(restarted.group(1))
        assert taken is not None, "users was always restarted before the port could be taken"
        with taken:
            error = re.compile(rf"^Error: no se pudo abrir el puerto {port}: ya lo está usando")
            assert reader.wait_for(error, seconds=60), reader.seen
        assert eventually(lambda: answers_health("127.0.0.1", port), seconds=60), reader.seen
    finally:
        stop_cli(process)
    output = reader.rest(10)
    assert "Traceback" not in output and "address already in use" not in output, output
