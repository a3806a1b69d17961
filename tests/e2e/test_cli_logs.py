"""The CLI's log lines: readable by default (with each request's ids), or with
--log-format json the JSON lines a service alone writes, to pipe into a log system."""

import json
import os
import re
import subprocess

import httpx
import pytest

from tests.helpers import LineReader, start_cli, stop_cli

GATEWAY_ROW = re.compile(r"^\s*gateway\s+(http://127\.0\.0\.1:\d+)")
# What EventLogger puts first in every record, in this order (see telemetry/logs.py).
RECORD_HEAD = ["ts", "level", "service", "event", "request_id", "trace_id", "span_id"]


def create_user_through(gateway: str) -> str:
    """POST a user through the gateway; the request id the gateway answered with."""
    body = {"name": "Ana", "email": "ana@example.com"}
    response = httpx.post(f"{gateway}/users/", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers["X-Request-ID"]


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_log_format_json_writes_the_services_own_json_lines(tmp_path, mode):
    """--log-format json: every log line (on stderr, as a service alone writes them) is
    one JSON record in the service's own format, ids included; the table stays on stdout."""
    process = start_cli(
        tmp_path,
        *["--log-format", "json", "--ports", "auto", "--no-panel", *mode],
        *["--data-dir", str(tmp_path / "data")],
        stderr=subprocess.PIPE,
    )
    try:
        table, logs = LineReader(process.stdout), LineReader(process.stderr)
        gateway = table.wait_for(GATEWAY_ROW, seconds=60)
        assert gateway, table.seen + logs.seen
        request_id = create_user_through(gateway.group(1))
        users_line = re.compile(rf'"service": "users".*"request_id": "{request_id}"')
        assert logs.wait_for(users_line, seconds=30), logs.seen
    finally:
        stop_cli(process)
    lines = [line.rstrip("\n") for line in logs.rest(10).splitlines()]
    assert lines, "no log lines"
    records = [json.loads(line) for line in lines]  # each one parses: nothing else is there
    for line, record in zip(lines, records, strict=True):
        assert list(record)[: len(RECORD_HEAD)] == RECORD_HEAD, line
        assert line == json.dumps(record, ensure_ascii=False), line  # the services' spelling
    ours = [record for record in records if record["request_id"] == request_id]
    assert {record["service"] for record in ours} >= {"gateway", "users"}, ours
    assert len({record["trace_id"] for record in ours}) == 1 and ours[0]["trace_id"], ours
    assert "Cluster detenido." in table.rest(10)


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
def test_the_readable_lines_show_each_requests_ids(tmp_path):
    """By default a request's log lines are readable and carry its request id and trace id
    (their first 8 characters), the same on the gateway's line and on users'."""
    process = start_cli(
        tmp_path,
        *["--ports", "auto", "--no-panel", "--data-dir", str(tmp_path / "data")],
        stderr=subprocess.STDOUT,
    )
    try:
        reader = LineReader(process.stdout)
        gateway = reader.wait_for(GATEWAY_ROW, seconds=60)
        assert gateway, reader.seen
        request_id = create_user_through(gateway.group(1))
        short = request_id[:8]
        users_line = re.compile(
            rf"^\d\d:\d\d:\d\d\.\d{{3}} INFO +users +http\.request .*request_id={short} "
            r"trace_id=([0-9a-f]{8})$"
        )
        users = reader.wait_for(users_line, seconds=30)
        assert users, reader.seen
        gateway_line = re.compile(
            rf" gateway +http\.request .*request_id={short} trace_id={users.group(1)}$"
        )
        assert reader.wait_for(gateway_line, seconds=30), reader.seen
    finally:
        stop_cli(process)
    assert request_id not in "".join(reader.seen)  # short: the whole id is in the JSON
