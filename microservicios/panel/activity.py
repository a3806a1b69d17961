"""What the panel knows about a running cluster, learned from its log records.

`Activity` is a log sink: every service hands it each record (in threads mode directly, with
`--processes` through the launcher, which reads the children's JSON lines). A panel nobody
has open must cost next to nothing, so a record handed over is only put aside (with the time
it arrived) in a bounded list; the bookkeeping — per-second request counts, breaker states,
faults in force, recent traces, the log tail — is done when somebody reads (a page, a
snapshot, a stream's tick), or when the list is full, for every record put aside so far, in
the order they arrived: a panel opened at any moment shows what it would have shown had each
record been counted as it came. Each summary is bounded, so a snapshot costs the same
whatever the traffic was; what keeps whole records (the records put aside, the log tail, the
spans) is bounded in bytes as well as in count.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from microservicios.common.faults import Faults
from microservicios.panel.spans import KeptSpans
from microservicios.telemetry.events import (
    BREAKER_EVENTS,
    FAULTS_HEALED,
    FAULTS_INJECTED,
    HTTP_REQUEST,
    SERVICE_STARTED,
    SPAN_EVENTS,
)
from microservicios.telemetry.logbook import SizedBuffer, record_size
from microservicios.telemetry.logs import LogRecord

WINDOW_S = 300  # how far back the breaker strips look
CHART_POINTS = 60  # seconds in the metric charts
RATE_WINDOW_S = 10  # requests/s, error % and p99 in the services table
LOG_TAIL = 1_000  # records kept for a browser that connects late or falls behind
LOG_TAIL_BYTES = 2 * 1024 * 1024
RECENT_TRACES = 30  # each with one path, cut to MAX_VALUE_CHARS: 60 KB at most
DURATIONS_PER_SECOND = 2_000  # a sample large enough for a p99
# Records put aside until somebody reads: at most this many, or this many bytes (as
# `record_size` counts them; in threads mode they are the LogBook's own records). Counting
# them in one go is cheaper than one at a time: only the newest LOG_TAIL go to the tail.
PENDING_RECORDS = 2_000
PENDING_BYTES = 2 * 1024 * 1024
# Not a student's request: probes, metrics, the panel's fault calls, and what a browser
# loads for /docs (the page, Swagger UI's files under /docs/assets, the OpenAPI document).
# Each entry also covers the paths below it: "/health" covers "/health/ready".
NOT_TRACED_PATHS = (
    "/health", "/metrics", "/internal/faults", "/docs", "/redoc", "/openapi.json", "/favicon.ico",
)  # fmt: skip
FAULT_FIELDS = tuple(Faults.model_fields)  # what a faults.injected record carries


@dataclass
class Second:
    """The requests one service answered during one wall-clock second."""

    at: int
    count: int = 0
    errors: int = 0
    durations_ms: list[float] = field(default_factory=list)
    _p99_ms: float | None = None

    def p99_ms(self, finished: bool) -> float | None:
        """Its p99, computed once when the second is over (charts ask for it every tick)."""
        if not finished:
            return p99(self.durations_ms)
        if self._p99_ms is None:
            self._p99_ms = p99(self.durations_ms)
        return self._p99_ms


@dataclass
class BreakerLine:
    """One caller → target breaker: its state now and its recent transitions."""

    caller: str
    target: str
    state: str = "closed"
    transitions: deque = field(default_factory=lambda: deque(maxlen=200))


def is_traced(path: str) -> bool:
    """Whether a root request for `path` is listed in «Trazas» (see NOT_TRACED_PATHS)."""
    return not any(path == skip or path.startswith(skip + "/") for skip in NOT_TRACED_PATHS)


def p99(durations: list[float]) -> float | None:
    if not durations:
        return None
    ordered = sorted(durations)
    return round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1)


class Activity:
    """A log sink that keeps what the panel shows; thread-safe, bounded in memory."""

    def __init__(self, clock=time.time) -> None:  # noqa: ANN001
        self._clock = clock
        self._lock = threading.Lock()  # the summaries; taken before _intake, never after
        self._intake = threading.Lock()  # the records put aside: held only to add or take
        self._pending: list[tuple[float, int, LogRecord]] = []  # (arrived at, size, record)
        self._pending_bytes = 0
        self._seconds: dict[str, deque[Second]] = {}
        self._breakers: dict[tuple[str, str], BreakerLine] = {}
        self._faults: dict[str, dict[str, Any] | None] = {}
        self._tail: SizedBuffer[tuple[int, LogRecord]] = SizedBuffer(LOG_TAIL, LOG_TAIL_BYTES)
        self._sequence = 0
        self._roots: deque[dict[str, Any]] = deque(maxlen=RECENT_TRACES)
        self._spans = KeptSpans()

    # --- intake ----------------------------------------------------------------------

    def __call__(self, record: LogRecord) -> None:
        """Put `record` aside, with the time it arrived; count what is put aside once full."""
        size = record_size(record)
        with self._intake:
            self._pending.append((self._clock(), size, record))
            self._pending_bytes += size
            full = len(self._pending) >= PENDING_RECORDS or self._pending_bytes > PENDING_BYTES
        if full:
            with self._lock:
                self._catch_up()

    def _catch_up(self) -> None:
        """Count every record put aside, oldest first; the caller holds `_lock`."""
        with self._intake:
            pending, self._pending, self._pending_bytes = self._pending, [], 0
        # The tail keeps the newest records that fit its bounds: none older than these; and
        # only the newest RECENT_TRACES root requests are listed.
        first_in_tail = len(pending) - LOG_TAIL
        roots: deque[tuple[LogRecord, list[LogRecord], int]] = deque(maxlen=RECENT_TRACES)
        for index, (arrived_at, size, record) in enumerate(pending):
            self._sequence += 1
            if index >= first_in_tail:
                self._tail.append((self._sequence, record), size)
            event = record.get("event")
            try:  # a record that lacks a field it needs (a stray line): in the tail only
                if event in SPAN_EVENTS:
                    self._spans.add(record, size)  # first: a root request lists its services
                    if event == HTTP_REQUEST:
                        self._count_request(record, int(arrived_at), roots)
                elif event in BREAKER_EVENTS:
                    self._note_transition(record)
                elif event == SERVICE_STARTED:
                    self._note_start(record)
                elif event == FAULTS_INJECTED:
                    faults = {key: record.get(key) for key in FAULT_FIELDS}
                    self._faults[record["service"]] = faults
                elif event == FAULTS_HEALED:
                    self._faults[record["service"]] = None
            except (KeyError, TypeError, ValueError):
                continue
        for record, kept, count in roots:
            self._roots.appendleft(self._root_summary(record, kept[:count]))

    def _count_request(self, record: LogRecord, now: int, roots: deque) -> None:
        """Count one answered request in the second it arrived; a root request goes to
        `roots` with its trace's spans as they are now (`_root_summary` reads them)."""
        seconds = self._seconds.get(record["service"])
        if seconds is None:
            seconds = self._seconds[record["service"]] = deque(maxlen=CHART_POINTS + 1)
        if not seconds or seconds[-1].at != now:
            seconds.append(Second(now))
        second = seconds[-1]
        second.count += 1
        status = record.get("status")
        if isinstance(status, int) and status >= 500:
            second.errors += 1
        if len(second.durations_ms) < DURATIONS_PER_SECOND:
            second.durations_ms.append(float(record.get("duration_ms") or 0.0))
        if record.get("parent_span_id") is None and is_traced(str(record.get("path") or "")):
            trace_id = record.get("trace_id")
            kept = self._spans.kept(trace_id) if trace_id else []
            roots.append((record, kept, len(kept)))  # a list that only grows: its first n

    def _root_summary(self, record: LogRecord, kept: list[LogRecord]) -> dict[str, Any]:
        spans = sorted(kept, key=lambda span: span.get("started_at", 0))
        services = list(dict.fromkeys(span["service"] for span in spans))
        return {
            "trace_id": record.get("trace_id"),
            "request_id": record.get("request_id"),
            "method": record.get("method"),
            "path": record.get("path"),
            "status": record.get("status"),
            "duration_ms": record.get("duration_ms"),
            "services": services or [record["service"]],
            "at": record.get("started_at"),
        }

    def _note_start(self, record: LogRecord) -> None:
        service = record["service"]
        self._faults[service] = None  # a process or app that starts has no faults
        for target in record.get("breakers") or ():
            self._breakers.setdefault((service, target), BreakerLine(service, target))

    def _note_transition(self, record: LogRecord) -> None:
        key = (record["caller"], record["target"])
        line = self._breakers.setdefault(key, BreakerLine(*key))
        line.state = record["to_state"]
        line.transitions.append(
            {"at": record.get("at_epoch"), "from": record["from_state"], "to": record["to_state"]}
        )

    # --- reading ---------------------------------------------------------------------

    def logs_after(self, sequence: int) -> tuple[int, list[LogRecord]]:
        """Records newer than `sequence` (0: the whole tail), and the newest sequence."""
        with self._lock:
            self._catch_up()
            newer = [record for number, record in self._tail if number > sequence]
            return self._sequence, newer

    def spans(self, trace_or_request_id: str) -> list[LogRecord]:
        """The span records of one trace, given its trace id or one of its request ids."""
        with self._lock:
            self._catch_up()
            return self._spans.of(trace_or_request_id)

    def service_rows(self, names: list[str]) -> list[dict[str, Any]]:
        """Requests/s, error % and p99 over the last RATE_WINDOW_S seconds, and faults."""
        since = int(self._clock()) - RATE_WINDOW_S
        with self._lock:
            self._catch_up()
            rows = []
            for name in names:
                recent = [s for s in self._seconds.get(name, ()) if s.at > since]
                count = sum(s.count for s in recent)
                errors = sum(s.errors for s in recent)
                durations = [d for s in recent for d in s.durations_ms]
                rows.append(
                    {
                        "name": name,
                        "rps": round(count / RATE_WINDOW_S, 1),
                        "error_pct": round(100 * errors / count, 1) if count else 0.0,
                        "p99_ms": p99(durations),
                        "faults": self._faults.get(name),
                    }
                )
            return rows

    def breakers(self) -> list[dict[str, Any]]:
        """Each breaker's state, the state at the start of the window and the transitions
        within it, oldest first."""
        since = self._clock() - WINDOW_S
        with self._lock:
            self._catch_up()
            lines = []
            for (caller, target), line in sorted(self._breakers.items()):
                history = [t for t in line.transitions if (t["at"] or 0) >= since]
                since_state = history[0]["from"] if history else line.state
                lines.append(
                    {
                        "caller": caller,
                        "target": target,
                        "state": line.state,
                        "since_state": since_state,
                        "history": [{"at": t["at"], "state": t["to"]} for t in history],
                    }
                )
            return lines

    def traces(self) -> list[dict[str, Any]]:
        with self._lock:
            self._catch_up()
            return [dict(root) for root in self._roots]

    def metrics(self, names: list[str]) -> dict[str, Any]:
        """Per service, requests/s and p99 for each of the last CHART_POINTS seconds."""
        now = int(self._clock())
        seconds_axis = range(now - CHART_POINTS + 1, now + 1)
        with self._lock:
            self._catch_up()
            series = {}
            for name in names:
                by_second = {s.at: s for s in self._seconds.get(name, ())}
                series[name] = {
                    "rps": [by_second[t].count if t in by_second else 0 for t in seconds_axis],
                    "p99_ms": [
                        by_second[t].p99_ms(finished=t < now) if t in by_second else None
                        for t in seconds_axis
                    ],
                }
        return {"step_s": 1, "points": CHART_POINTS, "series": series}
