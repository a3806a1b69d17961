"""Limits every app enforces before a route runs: whole bodies only, and nothing unbounded.

`RequestGuard` sits just inside the request middleware of every app (and the gateway's
short lane). For each request it:
1. refuses too many or too large headers (431) and, beyond the app's in-flight cap, says
   "busy" (503 with Retry-After) instead of queueing without end;
2. reads the whole body before anything else runs: a declared length over the limit is
   refused at once (413), a chunked body is counted while it arrives (413 as soon as it
   passes the limit, before it is buffered), and a body that arrives too slowly is cut (408);
   a request with no body (no Content-Length, no Transfer-Encoding: most GETs) has nothing
   to wait for and goes straight on;
3. runs the app only if the body arrived whole. A client that hung up half-way, or sent a
   malformed chunked body, made no request: no route runs for it, and nothing is answered.
"""

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microservicios.common.headers import CONNECTION_HEADER, RETRY_AFTER_HEADER
from microservicios.common.limits import RequestLimits
from microservicios.common.web.request_head import RequestHead, request_context, request_head
from microservicios.telemetry.events import HTTP_INCOMPLETE_BODY


class IncompleteBodyError(Exception):
    """The client stopped sending before the body it announced was complete."""


class BodyTooLargeError(Exception):
    pass


def refusal(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = 0  # per app instance: each app runs on one event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits: RequestLimits = request_context(scope).limits
        head = request_head(scope)
        problem = header_problem(head, limits)
        if problem is None and self.in_flight >= limits.max_in_flight:
            problem = refusal(
                503,
                "El servicio está atendiendo demasiadas peticiones a la vez: reintentá.",
                {RETRY_AFTER_HEADER: "1"},
            )
        if problem is not None:
            await problem(scope, receive, send)
            return
        self.in_flight += 1
        try:
            if head.has_body:
                await self._serve_whole(scope, receive, send, limits, head)
            else:
                await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _serve_whole(
        self, scope: Scope, receive: Receive, send: Send, limits: RequestLimits, head: RequestHead
    ) -> None:
        try:
            async with asyncio.timeout(limits.body_timeout):
                messages = await read_whole_body(head, receive, limits.max_body_bytes)
        except BodyTooLargeError:
            limit_kib = limits.max_body_bytes // 1024
            detail = f"El cuerpo de la petición es demasiado grande (máximo {limit_kib} KiB)."
            await refusal(413, detail, {CONNECTION_HEADER: "close"})(scope, receive, send)
            return
        except TimeoutError:
            detail = "El cuerpo de la petición llegó demasiado lento: la conexión se cierra."
            await refusal(408, detail, {CONNECTION_HEADER: "close"})(scope, receive, send)
            return
        except IncompleteBodyError:
            request_context(scope).logger.warning(
                HTTP_INCOMPLETE_BODY, method=scope["method"], path=scope["path"]
            )
            return  # the client is gone: there is no one to answer

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def header_problem(head: RequestHead, limits: RequestLimits) -> JSONResponse | None:
    if head.count > limits.max_header_count or head.size > limits.max_header_bytes:
        detail = (
            f"Las cabeceras son demasiadas o demasiado grandes (máximo {limits.max_header_count} "
            f"cabeceras y {limits.max_header_bytes // 1024} KiB en total)."
        )
        return refusal(431, detail, {CONNECTION_HEADER: "close"})
    return None


async def read_whole_body(head: RequestHead, receive: Receive, max_bytes: int) -> list[Message]:
    """Every `http.request` message of the body, or an error saying why there is none."""
    declared = declared_length(head)
    if declared is not None and declared > max_bytes:
        raise BodyTooLargeError
    messages: list[Message] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise IncompleteBodyError  # http.disconnect before the last chunk
        received += len(message.get("body", b""))
        if received > max_bytes:
            raise BodyTooLargeError
        messages.append(message)
        if not message.get("more_body", False):
            return messages


def declared_length(head: RequestHead) -> int | None:
    if head.content_length is None:
        return None
    try:
        return int(head.content_length)
    except ValueError:
        return None
