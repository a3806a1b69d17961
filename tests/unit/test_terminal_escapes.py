"""What the CLI prints never carries a control character a terminal would obey.

A request's path (and so any field of a record) is the client's choice: ESC clears the
screen or forges earlier lines, BEL ends a window title, U+009B starts an escape sequence as
ESC [ does. Readable lines show them escaped; JSON lines keep them as JSON escapes.
"""

import io
import json
import re

from microservicios.cluster.held_output import HeldOutput
from microservicios.telemetry.logs import EventLogger, ReadableSink, StreamSink, errors_only
from tests.helpers import eventually

# Every C0 control, DEL and every C1 control.
CONTROLS = "".join(chr(code) for code in (*range(0x20), *range(0x7F, 0xA0)))
RAW_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def record(**fields: object) -> dict:
    return {"ts": "2026-11-28T16:40:01.123+00:00", "level": "INFO", "service": "users",
            "event": "http.request", **fields}  # fmt: skip


def test_a_readable_line_escapes_every_control_character_of_any_field():
    """Path, detail or any other value: each control character shows as a visible escape."""
    sink_output = io.StringIO()
    ReadableSink(sink_output)(record(path=f"/users/{CONTROLS}", detail=f"x{CONTROLS}y", n=1))
    line = sink_output.getvalue()
    assert line.endswith("\n") and not RAW_CONTROL.search(line[:-1]), repr(line)
    assert r"path=/users/\x00\x01" in line and r"\x1b\x1c\x1d\x1e\x1f\x7f\x80" in line
    assert r"detail=x\x00" in line and r"\x9b\x9c\x9d\x9e\x9fy" in line
    assert r"\t\n\x0b\x0c\r" in line  # tab and line breaks too: one record, one line


def test_a_json_line_has_no_raw_control_character_and_parses_back():
    """StreamSink: C0 as json.dumps writes it, DEL and C1 as \\u escapes; same value back."""
    stream = io.StringIO()
    EventLogger("users", sinks=[StreamSink(stream)]).info("http.request", path=CONTROLS + "ñ")
    line = stream.getvalue()
    assert line.count("\n") == 1 and not RAW_CONTROL.search(line[:-1]), repr(line)
    assert r"\u007f\u0080" in line and r"\u009b" in line and "ñ" in line
    assert json.loads(line)["path"] == CONTROLS + "ñ"


def test_a_childs_line_that_is_not_a_record_is_escaped_too():
    """--processes: a child's other stderr lines (a traceback) reach the terminal escaped."""
    shown = io.StringIO()
    output = HeldOutput(shown, hold=False)
    output.follow(io.BytesIO(b"Traceback: /users/\x1b[2J\xc2\x9b\x07\n"))
    assert eventually(lambda: bool(shown.getvalue()), seconds=30)
    assert shown.getvalue() == "Traceback: /users/\\x1b[2J\\x9b\\x07\n", repr(shown.getvalue())


def test_errors_only_lets_errors_through_and_nothing_else():
    """--quiet in threads mode: ERROR records are written, INFO and WARNING ones are not."""
    stream = io.StringIO()
    logger = EventLogger("users", level="DEBUG", sinks=[errors_only(ReadableSink(stream))])
    logger.info("http.request", path="/users/")
    logger.warning("order.dependency_unavailable")
    logger.error("database.unavailable")
    assert [line.split()[1:4] for line in stream.getvalue().splitlines()] == [
        ["ERROR", "users", "database.unavailable"]
    ]
