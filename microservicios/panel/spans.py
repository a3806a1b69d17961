"""The span records of recent traces, for the panel's waterfalls, bounded in count and bytes.

A client chooses its trace id (`traceparent`), so it chooses how many traces there are:
the oldest trace goes when there are more than KEPT_TRACES, or when all of them together
pass KEPT_SPAN_BYTES (as `record_size` counts them).
"""

from collections import OrderedDict

from microservicios.telemetry.logbook import record_size
from microservicios.telemetry.logs import LogRecord

KEPT_TRACES = 300
SPANS_PER_TRACE = 200
KEPT_SPAN_BYTES = 8 * 1024 * 1024
REQUESTS_KEPT = KEPT_TRACES * 4  # request id → trace id, to open a trace by either


class KeptSpans:
    """Not thread-safe: `Activity` holds its lock around every call."""

    def __init__(
        self,
        traces: int = KEPT_TRACES,
        spans_per_trace: int = SPANS_PER_TRACE,
        max_bytes: int = KEPT_SPAN_BYTES,
    ) -> None:
        self.traces, self.spans_per_trace, self.max_bytes = traces, spans_per_trace, max_bytes
        self._spans: OrderedDict[str, list[LogRecord]] = OrderedDict()
        self._bytes_of: dict[str, int] = {}
        self._bytes = 0
        self._trace_of_request: OrderedDict[str, str] = OrderedDict()

    def add(self, record: LogRecord, size: int | None = None) -> None:
        """Keep `record` (of `size`, as `record_size` counts it: measured here if not given)."""
        trace_id = record.get("trace_id")
        if not trace_id:
            return
        spans = self._spans.get(trace_id)
        if spans is None:
            spans = self._spans[trace_id] = []  # a new key goes last already
        else:
            self._spans.move_to_end(trace_id)
        if size is None:
            size = record_size(record)
        trace_bytes = self._bytes_of.get(trace_id, 0)
        # Past either bound, one trace keeps the spans it has (its newest are left out).
        if len(spans) < self.spans_per_trace and trace_bytes + size <= self.max_bytes:
            spans.append(record)
            self._bytes_of[trace_id] = trace_bytes + size
            self._bytes += size
        while len(self._spans) > 1 and (
            len(self._spans) > self.traces or self._bytes > self.max_bytes
        ):
            oldest, _ = self._spans.popitem(last=False)
            self._bytes -= self._bytes_of.pop(oldest, 0)
        request_id = record.get("request_id")
        if request_id:
            self._trace_of_request[request_id] = trace_id
            if len(self._trace_of_request) > REQUESTS_KEPT:  # one key added at most
                self._trace_of_request.popitem(last=False)

    def kept(self, trace_or_request_id: str) -> list[LogRecord]:
        """Like `of`, but the list that keeps them (not a copy: it only grows, by `add`)."""
        trace_id = self._trace_of_request.get(trace_or_request_id, trace_or_request_id)
        return self._spans.get(trace_id, [])

    def of(self, trace_or_request_id: str) -> list[LogRecord]:
        """The spans of one trace, given its trace id or one of its request ids."""
        trace_id = self._trace_of_request.get(trace_or_request_id, trace_or_request_id)
        return list(self._spans.get(trace_id, []))
