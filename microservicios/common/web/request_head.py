"""What the layers in front of every route read from a request, found once per request.

The request middleware, the request guard and the fault injector each need the app's
context and some headers (the request id, `traceparent`, the body's length, how many
headers and how large). Each looked them up for itself; now the first to ask looks, in one
pass over `scope["headers"]`, and keeps the answer in the scope for the others.
"""

from dataclasses import dataclass

from starlette.types import Scope

from microservicios.common.context import AppContext, context_of
from microservicios.common.headers import (
    CONTENT_LENGTH_HEADER,
    REQUEST_ID_HEADER,
    TRACEPARENT_HEADER,
)

_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_TRACEPARENT = TRACEPARENT_HEADER.lower().encode()
_CONTENT_LENGTH = CONTENT_LENGTH_HEADER.lower().encode()
_TRANSFER_ENCODING = b"transfer-encoding"
# Where the answers are kept in the ASGI scope (a scope takes extension keys).
_CONTEXT_KEY = "microservicios.context"
_HEAD_KEY = "microservicios.head"


@dataclass(slots=True)
class RequestHead:
    """The headers the layers read (the first value of each, as `header()` gives it)."""

    request_id: str | None
    traceparent: str | None
    content_length: bytes | None
    chunked: bool  # a Transfer-Encoding header: the body's length is not said up front
    count: int
    size: int  # bytes of names and values

    @property
    def has_body(self) -> bool:
        """Whether a body follows the headers: without one there is nothing to wait for."""
        return self.chunked or self.content_length not in (None, b"0")


def request_head(scope: Scope) -> RequestHead:
    """The request's `RequestHead`, from one pass over its headers (the first call scans)."""
    head = scope.get(_HEAD_KEY)
    if head is None:
        head = scope[_HEAD_KEY] = scan_headers(scope.get("headers", ()))
    return head


def scan_headers(headers: list[tuple[bytes, bytes]]) -> RequestHead:
    request_id = traceparent = content_length = None
    chunked = False
    size = 0
    for name, value in headers:  # a plain loop: this runs on every request
        size += len(name) + len(value)
        if name == _REQUEST_ID:
            if request_id is None:
                request_id = value.decode("latin-1")
        elif name == _TRACEPARENT:
            if traceparent is None:
                traceparent = value.decode("latin-1")
        elif name == _CONTENT_LENGTH:
            if content_length is None:
                content_length = value
        elif name == _TRANSFER_ENCODING:
            chunked = True
    return RequestHead(request_id, traceparent, content_length, chunked, len(headers), size)


def request_context(scope: Scope) -> AppContext:
    """`context_of(scope["app"])`, looked up once per request."""
    context = scope.get(_CONTEXT_KEY)
    if context is None:
        context = scope[_CONTEXT_KEY] = context_of(scope["app"])
    return context
