"""What a client chooses (a path, a trace id) cannot make the cluster keep more than its
bounds: a long value is cut in the record, and every buffer of records is bounded in bytes."""

import json

from microservicios.panel.activity import Activity
from microservicios.telemetry.logbook import LogBook
from microservicios.telemetry.logs import EventLogger

MIB = 1024 * 1024
# The bounds the README states.
KEPT_CHARS = 2048
LOG_BOOK_BYTES = 16 * MIB
PANEL_SPAN_BYTES = 8 * MIB
PANEL_TAIL_BYTES = 2 * MIB
LONG = "/users/" + "a" * 60_000  # one object, shared by every record: the test stays light


def json_size(records: list[dict]) -> int:
    """What the records would take as JSON lines: the measure the README's bounds use."""
    return sum(len(json.dumps(record, ensure_ascii=False, default=str)) for record in records)


def span(number: int, trace_id: str, path: str = LONG) -> dict:
    return {
        "ts": "2025-01-01T10:00:00.000+00:00",
        "level": "INFO",
        "service": "gateway",
        "event": "http.request",
        "request_id": f"r{number}",
        "trace_id": trace_id,
        "span_id": f"s{number}",
        "method": "GET",
        "path": path,
        "route": "sin ruta",
        "status": 404,
        "duration_ms": 1.0,
        "started_at": 1_000_000.0 + number,
        "parent_span_id": None,
    }


def test_a_long_value_is_cut_with_a_visible_mark():
    """A 60 KB path becomes its first 2 KB and «…(cortado, 60007 bytes)»; short ones stay."""
    kept: list[dict] = []
    logger = EventLogger("gateway", sinks=[kept.append])
    logger.info("http.request", path=LONG, method="GET")
    logger.info("http.request", path="/users/1", method="GET")
    cut = kept[0]["path"]
    assert cut.startswith(LONG[:KEPT_CHARS])
    assert cut.endswith(f"…(cortado, {len(LONG)} bytes)")
    assert len(cut) < KEPT_CHARS + 40
    assert kept[1]["path"] == "/users/1"


def test_the_log_book_keeps_at_most_its_bytes_and_the_newest_records():
    """3,000 records of 60 KB (180 MB as JSON) leave at most 16 MiB in cluster.logs(),
    the newest among them."""
    logbook = LogBook()
    for number in range(3_000):
        logbook(span(number, trace_id=f"{number:032x}"))
    kept = logbook.records()
    assert json_size(kept) <= LOG_BOOK_BYTES
    assert kept[-1]["request_id"] == "r2999"
    assert len(kept) > 100  # bounded, not emptied


def test_a_huge_record_does_not_empty_the_log_book():
    """One record larger than the whole bound is still kept (alone), so the newest is
    always there to read."""
    logbook = LogBook(max_bytes=1_000)
    logbook(span(1, trace_id="a" * 32))
    assert [record["request_id"] for record in logbook.records()] == ["r1"]


def test_the_panel_keeps_spans_of_many_traces_within_its_bytes():
    """200 spans of 60 KB in each of 300 client-chosen trace ids (3.6 GB as JSON): the
    waterfalls the panel can still open hold at most 8 MiB, the newest trace's
    among them."""
    activity = Activity()
    trace_ids = [f"{number:032x}" for number in range(300)]
    for number in range(200 * 300):
        activity(span(number, trace_id=trace_ids[number % 300]))
    kept = [record for trace_id in trace_ids for record in activity.spans(trace_id)]
    assert json_size(kept) <= PANEL_SPAN_BYTES
    assert activity.spans(trace_ids[-1])  # the newest trace can still be opened


def test_the_panel_log_tail_stays_within_its_bytes():
    """Thousands of 60 KB records: what a browser that connects gets stays under
    2 MiB, the newest record last."""
    activity = Activity()
    for number in range(3_000):
        activity(span(number, trace_id=f"{number:032x}"))
    _, tail = activity.logs_after(0)
    assert json_size(tail) <= PANEL_TAIL_BYTES
    assert tail[-1]["request_id"] == "r2999"
