"""ASGI middleware shared by every app: the `X-Request-ID` of each request."""

import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microservicios.common.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = REQUEST_ID_HEADER.lower().encode()
MAX_REQUEST_ID_LENGTH = 128


def new_request_id() -> str:
    """32 hex digits. An id for tracing, not a secret: `random` is enough and much cheaper
    than `uuid4` (a system call for random bytes on every request)."""
    return f"{random.getrandbits(128):032x}"


def incoming_request_id(scope: Scope) -> str | None:
    """The client's X-Request-ID if it sent a sane one (printable, not too long)."""
    for key, value in scope.get("headers", ()):
        if key == _HEADER_KEY:
            text = value.decode("latin-1").strip()
            if 0 < len(text) <= MAX_REQUEST_ID_LENGTH and text.isprintable():
                return text
    return None


class RequestIdMiddleware:
    """Reuse the caller's request id or make one, expose it to logs, return it in the answer.

    A pure ASGI middleware (not BaseHTTPMiddleware) because it sits on every request's path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != _HEADER_KEY]
                headers.append((_HEADER_KEY, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
