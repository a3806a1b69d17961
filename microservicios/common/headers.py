"""The HTTP header names this system reads and writes, in one place for client and server."""

from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"
SERVICE_TOKEN_HEADER = "X-Service-Token"
TRACEPARENT_HEADER = "traceparent"
TRACESTATE_HEADER = "tracestate"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
RETRY_AFTER_HEADER = "Retry-After"


def header(scope: Scope, name: str) -> str | None:
    """The first value of header `name` in an ASGI request scope (names match case-blind)."""
    key = name.lower().encode("latin-1")
    for raw_name, value in scope.get("headers", ()):
        if raw_name == key:
            return value.decode("latin-1")
    return None
