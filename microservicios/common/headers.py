"""The HTTP header names this system reads and writes, in one place for client and server."""

from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"
SERVICE_TOKEN_HEADER = "X-Service-Token"
TRACEPARENT_HEADER = "traceparent"
TRACESTATE_HEADER = "tracestate"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
RETRY_AFTER_HEADER = "Retry-After"
ETAG_HEADER = "ETag"
IF_MATCH_HEADER = "If-Match"
IDEMPOTENT_REPLAYED_HEADER = "Idempotent-Replayed"
ALLOW_HEADER = "Allow"
CONNECTION_HEADER = "Connection"
CONTENT_LENGTH_HEADER = "Content-Length"
FORWARDED_FOR_HEADER = "X-Forwarded-For"
FORWARDED_PROTO_HEADER = "X-Forwarded-Proto"


def header(scope: Scope, name: str) -> str | None:
    """The first value of header `name` in an ASGI request scope (names match case-blind)."""
    key = name.lower().encode("latin-1")
    for raw_name, value in scope.get("headers", ()):
        if raw_name == key:
            return value.decode("latin-1")
    return None


def if_match_allows(if_match: str, etag: str) -> bool:
    """Whether an If-Match value lets a request change a resource whose ETag is `etag`.

    RFC 9110 §13.1.1: "*" matches any current resource; otherwise one of the listed tags
    must be `etag` itself, compared strongly (a weak W/"…" tag never matches). Anything
    else, a malformed value included, does not match: the change is refused, not guessed.
    """
    value = if_match.strip()
    return value == "*" or etag in (tag.strip() for tag in value.split(","))
