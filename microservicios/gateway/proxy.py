"""The gateway's proxy: forwards /users…, /items…, /orders… to their service.

It is a plain ASGI middleware, placed in front of FastAPI's routing (and, for proxied
paths, in front of FastAPI altogether: see `GatewayApp`): a proxy needs no parameter
parsing or dependency injection. Any other path (`/`, `/health`, `/docs`) goes on to the
FastAPI app.

Hop-by-hop headers (RFC 9110 §7.6.1) describe a single connection, so they stop here in
both directions; so does any X-Service-Token a client sends: only the gateway signs calls.
"""

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from microservicios.common.auth import SERVICE_TOKEN_HEADER, token_is_valid
from microservicios.common.client import ServiceClient
from microservicios.common.errors import ServiceUnavailableError, service_unavailable_response
from microservicios.common.middleware import REQUEST_ID_HEADER, header
from microservicios.common.tracing import TRACEPARENT_HEADER
from microservicios.gateway.paths import has_internal_segment, upstream_path

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Recomputed or set by this hop itself.
NOT_FORWARDED_REQUEST = HOP_BY_HOP | {
    "host",
    "content-length",
    SERVICE_TOKEN_HEADER.lower(),
    REQUEST_ID_HEADER.lower(),
    TRACEPARENT_HEADER,
    "tracestate",
}
NOT_FORWARDED_RESPONSE = HOP_BY_HOP | {"content-length", "date", "server"}


NOT_FOUND = JSONResponse({"detail": "Ruta no encontrada."}, status_code=404)


def _signed(scope: Scope) -> bool:
    token = header(scope, SERVICE_TOKEN_HEADER.lower().encode())
    secret = scope["app"].state.settings.service_secret.get_secret_value()
    return token_is_valid(token, secret)


def filter_headers(headers: list[tuple[str, str]], drop: frozenset[str]) -> list[tuple[str, str]]:
    """Headers minus `drop` and minus any that a Connection header names as hop-by-hop."""
    lowered = [(name.lower(), name, value) for name, value in headers]
    listed = {
        token.strip().lower()
        for lower, _, value in lowered
        if lower == "connection"
        for token in value.split(",")
    }
    return [
        (name, value) for lower, name, value in lowered if lower not in drop and lower not in listed
    ]


def service_of(path: str, services: tuple[str, ...]) -> str | None:
    """Which backend a path belongs to by its first segment (exact match: not "/usersX")."""
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    return first if first in services else None


class ProxyMiddleware:
    """Answers every request whose path starts with a service name; passes on the rest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = service_of(scope["path"], scope["app"].state.dependencies)
        if service is None:
            if has_internal_segment(scope["path"]) and not _signed(scope):
                # The gateway's own internal routes do not even exist for outsiders.
                await NOT_FOUND(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        scope["route_label"] = f"/{service}/*"
        path = upstream_path(service, scope["path"])
        if path is None:
            await NOT_FOUND(scope, receive, send)
            return
        client: ServiceClient = scope["app"].state.clients[service]
        try:
            await self._forward(client, path, scope, receive, send)
        except ServiceUnavailableError as exc:
            await service_unavailable_response(exc)(scope, receive, send)

    async def _forward(
        self, client: ServiceClient, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        body = await read_body(receive)
        upstream = await client.request(
            scope["method"],
            path,
            body=body or None,
            headers=filter_headers(headers, NOT_FORWARDED_REQUEST),
            query=scope["query_string"].decode("latin-1"),
        )
        response_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in filter_headers(upstream.headers, NOT_FORWARDED_RESPONSE)
        ]
        response_headers.append((b"content-length", str(len(upstream.body)).encode()))
        await send(
            {"type": "http.response.start", "status": upstream.status, "headers": response_headers}
        )
        await send({"type": "http.response.body", "body": upstream.body})


async def read_body(receive: Receive) -> bytes:
    """The whole request body, however the client sent it (chunked or not)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
