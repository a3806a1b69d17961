"""W3C Trace Context (`traceparent`) for following one request across services.

A trace is one client request; a span is one piece of work inside it (a service serving a
request, or one outgoing call). `traceparent` = "00-<trace id>-<parent span id>-<flags>".
The gateway starts a trace when the client sent none; every hop continues it.
"""

import random
import re
from contextvars import ContextVar
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class SpanContext:
    trace_id: str
    span_id: str
    parent_span_id: str | None = None

    def child(self) -> "SpanContext":
        """A new span inside this one (for an outgoing call)."""
        return SpanContext(self.trace_id, new_span_id(), self.span_id)

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


# Per request (context variables are per task), set by the request middleware.
current_span: ContextVar[SpanContext | None] = ContextVar("current_span", default=None)


def new_id() -> str:
    """32 hex digits: a trace id, or a request id. They label requests and protect nothing:
    `random` is enough, and much cheaper than `uuid4` (a system call for random bytes on
    every request)."""
    return f"{random.getrandbits(128):032x}"


def new_span_id() -> str:
    return f"{random.getrandbits(64):016x}"


def server_span(traceparent: str | None) -> SpanContext:
    """The span of a request being served: continues the caller's trace, or starts one."""
    match = _TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    if match is None or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return SpanContext(new_id(), new_span_id())
    return SpanContext(match.group(1), new_span_id(), parent_span_id=match.group(2))
