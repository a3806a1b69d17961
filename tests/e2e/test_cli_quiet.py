"""`--quiet`: «sin logs, salvo errores», in threads mode as with --processes.

The ERROR record is a real one: a test holds users' SQLite database locked, so a POST
waits out the busy timeout and answers 503 with a `database.unavailable` record.
"""

import os
import re
import sqlite3
import subprocess

import httpx
import pytest

from tests.helpers import LineReader, start_cli, stop_cli

USERS_ROW = re.compile(r"^\s*users\s+(http://127\.0\.0\.1:\d+)")
ERROR_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} ERROR +users +database\.unavailable")


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_quiet_shows_errors_and_no_request_lines(tmp_path, mode):
    """With --quiet a service's ERROR record is printed, readable; its INFO request lines
    are not."""
    data = tmp_path / "data"
    process = start_cli(
        tmp_path,
        *["--quiet", "--ports", "auto", "--no-panel", "--data-dir", str(data), *mode],
        stderr=subprocess.STDOUT,
    )
    try:
        reader = LineReader(process.stdout)
        users = reader.wait_for(USERS_ROW, seconds=60)
        assert users, reader.seen
        assert httpx.get(f"{users.group(1)}/users/", timeout=30).status_code == 200
        lock = sqlite3.connect(data / "users.db", timeout=30, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")  # no other writer until we are done
            body = {"name": "Ana", "email": "ana@example.com"}
            answer = httpx.post(f"{users.group(1)}/users/", json=body, timeout=60)
        finally:
            lock.close()
        assert answer.status_code == 503, answer.text
        assert reader.wait_for(ERROR_LINE, seconds=30), reader.seen
    finally:
        stop_cli(process)
    output = reader.rest(10)
    assert "http.request" not in output and "service.started" not in output, output
    assert "Cluster detenido." in output
