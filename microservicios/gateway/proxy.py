"""The gateway's proxy: forwards /users…, /items…, /orders… to their service.

`ProxyApp` is a plain ASGI app that `GatewayApp` puts in front of FastAPI for the paths
of a routed service: a proxy needs no parameter parsing or dependency injection.

Hop-by-hop headers (RFC 9110 §7.6.1) describe a single connection, so they stop here in
both directions; so does any X-Service-Token a client sends: only the gateway signs calls.
"""

from starlette.types import Receive, Scope, Send

from microservicios.common.client import ServiceClient
from microservicios.common.context import context_of
from microservicios.common.errors import ServiceUnavailableError, service_unavailable_response
from microservicios.common.headers import (
    REQUEST_ID_HEADER,
    SERVICE_TOKEN_HEADER,
    TRACEPARENT_HEADER,
    TRACESTATE_HEADER,
)
from microservicios.gateway.guard import not_found
from microservicios.gateway.paths import upstream_path

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
    TRACESTATE_HEADER,
}
NOT_FORWARDED_RESPONSE = HOP_BY_HOP | {"content-length", "date", "server"}


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


class ProxyApp:
    """Forwards a request for `/<service>/...` to that service, through its client."""

    def __init__(self, services: tuple[str, ...]) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = service_of(scope["path"], self.services)
        assert service is not None, "GatewayApp sends only routed paths here"
        scope["route_label"] = f"/{service}/*"
        path = upstream_path(service, scope["path"])
        if path is None:
            await not_found()(scope, receive, send)
            return
        client: ServiceClient = context_of(scope["app"]).clients[service]
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
    """The whole request body, however the client sent it (chunked or not); `RequestGuard`
    has already made sure it arrived whole."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
