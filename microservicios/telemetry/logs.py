"""JSON-lines logging, one logger per app instance.

All four services can share one Python process, so each app owns an `EventLogger`
that stamps its own service name; nothing is registered globally. The request id
travels in a context variable, set by the request middleware of each service.
"""

import json
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from microservicios.telemetry.tracing import current_span

LogRecord = dict[str, Any]
LogSink = Callable[[LogRecord], None]


class MeasuredRecord(dict[str, Any]):
    """A record as `EventLogger` makes it: a plain dict to whoever reads it, that also keeps
    its size once measured (`telemetry/logbook.record_size`), since every sink that bounds
    its memory asks for it (the log book, the panel's tail and its spans)."""

    __slots__ = ("measured_size",)
    measured_size: int  # set by record_size, the first time a sink asks


LEVELS = MappingProxyType({"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40})
INFO = "INFO"
# A client chooses some values (a path can be 60 KB): a record keeps this much of any text.
MAX_VALUE_CHARS = 2048

# Context variables are per task/thread, not shared state: each request sees its own id.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


# What json.dumps leaves raw with ensure_ascii=False although a terminal obeys it (DEL, the
# C1 controls: U+009B starts an escape sequence as ESC [ does) or str.splitlines() ends a
# line at it (U+0085, U+2028, U+2029). json.dumps already escapes the C0 controls.
_RAW_IN_JSON = MappingProxyType(
    {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)}
)


def escape_json_controls(line: str) -> str:
    """A JSON line with DEL, the C1 controls, U+2028 and U+2029 as JSON escapes: raw, one
    could drive the terminal showing the line, or make one record two lines."""
    return line.translate(_RAW_IN_JSON)


class StreamSink:
    """Writes each record as one JSON line to a text stream (stderr by default)."""

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, record: LogRecord) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str)
        if not line.isascii() or "\x7f" in line:  # most lines are ASCII, without DEL
            line = escape_json_controls(line)
        with self._lock:
            stream = self._stream or sys.stderr
            stream.write(line + "\n")
            stream.flush()


def clipped(text: str) -> str:
    """The first MAX_VALUE_CHARS of `text`, marked so that a reader sees it was cut."""
    size = len(text.encode("utf-8", "replace"))
    return f"{text[:MAX_VALUE_CHARS]}…(cortado, {size} bytes)"


class EventLogger:
    """Emits structured events (`service.started`, `order.created`, ...) as dicts to its sinks."""

    def __init__(self, service: str, level: str = "INFO", sinks: list[LogSink] | None = None):
        self.service = service
        self.threshold = LEVELS.get(level.upper(), LEVELS["INFO"])
        self.sinks: list[LogSink] = list(sinks) if sinks is not None else [StreamSink()]

    def enabled(self, level: str) -> bool:
        """Whether a record at `level` is written (it is at or above the level and there is
        a sink for it): if not, a caller need not build it."""
        return LEVELS[level] >= self.threshold and bool(self.sinks)

    def log(self, level: str, event: str, **fields: Any) -> None:
        if LEVELS[level] < self.threshold:
            return
        for key, value in fields.items():  # a fresh dict, ours to change
            if type(value) is str and len(value) > MAX_VALUE_CHARS:
                fields[key] = clipped(value)
        span = current_span.get()
        record = MeasuredRecord(
            ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
            level=level,
            service=self.service,
            event=event,
            request_id=request_id_var.get(),
            trace_id=span.trace_id if span else None,
            span_id=span.span_id if span else None,
        )
        record.update(fields)  # as {**fields} would: a field given overrides the above
        for sink in self.sinks:
            sink(record)

    def debug(self, event: str, **fields: Any) -> None:
        self.log("DEBUG", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.log("INFO", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.log("WARNING", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.log("ERROR", event, **fields)


# Fields a person reading a terminal does not need on every line (they stay in the JSON);
# the request's ids are shown too, but shortened and last.
_NOT_SHOWN = frozenset(
    {"ts", "level", "service", "event", "request_id", "trace_id", "span_id", "parent_span_id",
     "started_at", "at_epoch"}
)  # fmt: skip


# Enough of an id to follow one request down a terminal by eye (the whole id is in the JSON).
SHORT_ID_LENGTH = 8


def readable_line(record: LogRecord) -> str:
    """One record as a terminal line: time, level, service, event, the rest as k=v, then
    the request's ids, shortened, if the record has them."""
    time_of_day = str(record.get("ts", ""))[11:23]
    details = [f"{key}={value}" for key, value in record.items() if key not in _NOT_SHOWN]
    details += [
        f"{key}={str(record[key])[:SHORT_ID_LENGTH]}"
        for key in ("request_id", "trace_id")
        if record.get(key)
    ]
    line = f"{time_of_day} {record.get('level', ''):<7} {record.get('service', ''):<8} "
    return one_line(f"{line}{record.get('event', '')} {' '.join(details)}".rstrip())


def one_line(text: str) -> str:
    """Whatever a value holds (a request's path is the client's choice), one record stays
    one plain line: every control character is shown escaped, never obeyed."""
    return text.translate(_CONTROLS)


# C0, DEL and C1 (ESC clears a screen, retitles a window, forges lines; U+009B is a CSI),
# and the line breaks str.splitlines() knows: as `\x1b`, `\n`, `\u2028`.
_CONTROLS = MappingProxyType(
    {
        code: chr(code).encode("unicode_escape").decode()
        for code in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)
    }
)


def is_error(record: LogRecord) -> bool:
    """An ERROR record (or worse): what a quiet terminal still shows."""
    return LEVELS.get(str(record.get("level")), 0) >= LEVELS["ERROR"]


def errors_only(sink: LogSink) -> LogSink:
    """`sink` for the records `is_error` keeps, the others dropped (`--quiet`)."""

    def write_errors(record: LogRecord) -> None:
        if is_error(record):
            sink(record)

    return write_errors


class ReadableSink:
    """Writes each record as a `readable_line` to a text stream (stderr by default)."""

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, record: LogRecord) -> None:
        with self._lock:
            stream = self._stream or sys.stderr
            stream.write(readable_line(record) + "\n")
            stream.flush()
