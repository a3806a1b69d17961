"""The request middleware every app shares: ids, trace context, one log line and metrics.

For each request it: reuses the caller's `X-Request-ID` or makes one (and returns it);
continues the caller's W3C trace or starts one; times the request; and, when it ends,
logs one `http.request` event and updates the request metrics. A pure ASGI middleware
(not BaseHTTPMiddleware), because it sits on every request's path.
"""

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microservicios.common.headers import REQUEST_ID_HEADER
from microservicios.common.web.layers import ALL_LAYERS, RequestLayers
from microservicios.common.web.request_head import request_context, request_head
from microservicios.telemetry.events import HTTP_REQUEST
from microservicios.telemetry.logs import INFO, request_id_var
from microservicios.telemetry.tracing import SpanContext, current_span, new_id, server_span

_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()
MAX_REQUEST_ID_LENGTH = 128
# nginx's convention, for logs and metrics only: no answer reached the client (it left, or
# the server was stopped mid-request and cut its connection)
CLIENT_CLOSED_REQUEST = 499


def incoming_request_id(scope: Scope) -> str | None:
    """The client's X-Request-ID if it sent a sane one (printable, not too long)."""
    return sane_request_id(request_head(scope).request_id)


def sane_request_id(value: str | None) -> str | None:
    text = (value or "").strip()
    if 0 < len(text) <= MAX_REQUEST_ID_LENGTH and text.isprintable():
        return text
    return None


def route_label(scope: Scope) -> str:
    """The route template ("/users/{user_id}"), never the raw path: metrics stay bounded."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return route.path
    return scope.get("route_label", "sin ruta")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, layers: RequestLayers = ALL_LAYERS) -> None:
        self.app = app
        self.layers = layers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        layers = self.layers
        if layers.tracing:
            head = request_head(scope)
            request_id = sane_request_id(head.request_id) or new_id()
            span = server_span(head.traceparent)
        else:
            request_id, span = "", SpanContext("", "")
        id_token = request_id_var.set(request_id)
        span_token = current_span.set(span)
        status = 500  # if the app raises before answering, the client gets a 500
        answered = False
        started_at, started = time.time(), time.perf_counter()
        id_header = (_REQUEST_ID_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                headers = [(k, v) for k, v in message.get("headers", []) if k != _REQUEST_ID_KEY]
                headers.append(id_header)
                message["headers"] = headers
            await send(message)

        cancelled = False
        try:
            await self.app(scope, receive, send_with_id)
            if not answered:
                status = CLIENT_CLOSED_REQUEST  # the client left first: nothing was answered
        except asyncio.CancelledError:
            # The server stopped mid-request (a kill cuts every connection): log what the
            # client saw, the status already sent or none at all, not the 500 nobody got.
            cancelled = True
            if not answered:
                status = CLIENT_CLOSED_REQUEST
            raise
        finally:
            seconds = time.perf_counter() - started
            context = request_context(scope)
            route = route_label(scope)
            # Below the level, the record is not even built.
            if layers.logs and context.logger.enabled(INFO):
                context.logger.info(
                    HTTP_REQUEST,
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 3),
                    started_at=started_at,
                    parent_span_id=span.parent_span_id,
                    **({"cancelled": True} if cancelled else {}),
                )
            if layers.metrics:
                context.metrics.observe_request(route, scope["method"], status, seconds)
            current_span.reset(span_token)
            request_id_var.reset(id_token)
