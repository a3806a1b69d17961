"""Structured JSON log records and request ids."""

import io
import json
import re
from datetime import datetime

from microservicios.common.web.middleware import incoming_request_id
from microservicios.telemetry.logs import EventLogger, StreamSink, readable_line, request_id_var
from microservicios.telemetry.tracing import new_id

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(\+00:00|Z)$")


def test_record_has_timestamp_level_service_event_and_request_id():
    """Each record carries ts (ISO 8601, milliseconds), level, service, event, request_id."""
    records = []
    logger = EventLogger("users", sinks=[records.append])
    logger.info("user.created", user_id=3)
    [record] = records
    assert ISO_MS.match(record["ts"]), record["ts"]
    assert datetime.fromisoformat(record["ts"]).utcoffset().total_seconds() == 0
    assert record["level"] == "INFO"
    assert record["service"] == "users"
    assert record["event"] == "user.created"
    assert record["request_id"] is None
    assert record["user_id"] == 3


def test_record_carries_the_current_request_id():
    """The request id in the context variable is stamped on the record."""
    records = []
    logger = EventLogger("items", sinks=[records.append])
    token = request_id_var.set("req-42")
    try:
        logger.warning("item.no_stock")
    finally:
        request_id_var.reset(token)
    assert records[0]["request_id"] == "req-42"


def test_level_threshold_drops_lower_levels():
    """With level WARNING, debug and info are dropped; warning and error are kept."""
    records = []
    logger = EventLogger("orders", level="warning", sinks=[records.append])
    logger.debug("a")
    logger.info("b")
    logger.warning("c")
    logger.error("d")
    assert [(r["level"], r["event"]) for r in records] == [("WARNING", "c"), ("ERROR", "d")]


def test_default_level_is_info():
    """Without a level (or with an unknown one) debug is dropped and info kept."""
    records = []
    for logger in (
        EventLogger("users", sinks=[records.append]),
        EventLogger("users", level="VERBOSE", sinks=[records.append]),
    ):
        logger.debug("hidden")
        logger.info("shown")
    assert [r["event"] for r in records] == ["shown", "shown"]


def test_every_sink_receives_the_record():
    """A record goes to all sinks."""
    first, second = [], []
    EventLogger("gateway", sinks=[first.append, second.append]).info("service.started")
    assert len(first) == len(second) == 1


def test_stream_sink_writes_one_json_line_per_record():
    """StreamSink writes each record as a JSON line, non-ASCII kept readable."""
    stream = io.StringIO()
    logger = EventLogger("items", sinks=[StreamSink(stream)])
    logger.info("item.created", name="Ñandú")
    logger.info("item.created", name="Lápiz")
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["Ñandú", "Lápiz"]
    assert "Ñandú" in lines[0]


def test_stream_sink_escapes_every_line_break_that_splitlines_knows():
    """Characters that end a line for str.splitlines() never appear raw in a record's line."""
    stream = io.StringIO()
    text = "a\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i\u2028j\u2029k"
    logger = EventLogger("gateway", sinks=[StreamSink(stream)])
    logger.info("http.request", path=text)
    logger.info("http.request", path="/ok")
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["path"] for line in lines] == [text, "/ok"]


def test_new_ids_are_32_hex_digits_and_differ():
    """Generated request and trace ids are 32 lowercase hex digits, not repeated."""
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)


def test_incoming_request_id_accepts_a_sane_value_and_refuses_others():
    """A printable id up to 128 chars is reused; empty, too long or control chars are not."""

    def scope(value: bytes) -> dict:
        return {"headers": [(b"x-request-id", value)]}

    assert incoming_request_id(scope(b" abc-123 ")) == "abc-123"
    assert incoming_request_id(scope(b"x" * 128)) == "x" * 128
    assert incoming_request_id(scope(b"x" * 129)) is None
    assert incoming_request_id(scope(b"")) is None
    assert incoming_request_id(scope(b"a\x01b")) is None
    assert incoming_request_id({"headers": []}) is None


def test_readable_line_is_one_short_line_per_record():
    """The terminal format: time, level, service, event, details, then the request's ids
    shortened to 8 characters; any line break in a value escaped, so one record is one line."""
    record = {
        "ts": "2026-11-28T16:40:01.123+00:00", "level": "INFO", "service": "users",
        "event": "http.request", "request_id": "r" * 32, "trace_id": "t" * 32,
        "method": "GET", "path": "/users/a\u2028b\nc", "status": 200, "duration_ms": 1.5,
    }  # fmt: skip
    line = readable_line(record)
    assert line.startswith("16:40:01.123 INFO    users    http.request method=GET")
    assert "status=200 duration_ms=1.5" in line and "r" * 32 not in line
    assert line.endswith(" request_id=rrrrrrrr trace_id=tttttttt")
    assert len(line.splitlines()) == 1
