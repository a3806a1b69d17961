"""The gateway's proxy: forwards /users…, /items…, /orders… to their service.

`ProxyApp` is a plain ASGI app that `GatewayApp` puts in front of FastAPI for the paths
of a routed service: a proxy needs no parameter parsing or dependency injection. Which
headers it passes on is decided in `forwarding`.
"""

from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from microservicios.common.client import ServiceClient
from microservicios.common.context import context_of
from microservicios.common.errors import ServiceUnavailableError
from microservicios.common.headers import ALLOW_HEADER
from microservicios.common.web.handlers import service_unavailable_response
from microservicios.gateway.forwarding import (
    UndecodableHeaderError,
    request_headers,
    response_headers,
)
from microservicios.gateway.guard import not_found
from microservicios.gateway.paths import upstream_path

# CONNECT asks for a tunnel and TRACE echoes the request back (the gateway's token
# included): neither is an API call, so only these methods are forwarded.
FORWARDED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


def method_not_allowed() -> JSONResponse:
    return JSONResponse(
        {
            "detail": "Método no permitido: el gateway reenvía solo "
            "GET, HEAD, POST, PUT, PATCH, DELETE y OPTIONS."
        },
        status_code=405,
        headers={ALLOW_HEADER: ALLOW},
    )


def undecodable_header(name: str) -> JSONResponse:
    return JSONResponse(
        {
            "detail": f"La cabecera '{name}' tiene bytes que no son UTF-8 y el gateway no "
            "puede reenviarla sin cambiarlos: mandala en UTF-8 (o solo en ASCII)."
        },
        status_code=400,
    )


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
        if scope["method"] not in FORWARDED_METHODS:
            await method_not_allowed()(scope, receive, send)
            return
        path = upstream_path(service, scope["path"])
        if path is None:
            await not_found()(scope, receive, send)
            return
        client: ServiceClient = context_of(scope["app"]).clients[service]
        try:
            await self._forward(client, path, scope, receive, send)
        except ServiceUnavailableError as exc:
            await service_unavailable_response(exc)(scope, receive, send)
        except UndecodableHeaderError as exc:
            await undecodable_header(exc.name)(scope, receive, send)

    async def _forward(
        self, client: ServiceClient, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers = request_headers(scope)
        body = await read_body(receive)
        upstream = await client.request(
            scope["method"],
            path,
            body=body or None,
            headers=headers,
            query=scope["query_string"].decode("latin-1"),
        )
        await send(
            {
                "type": "http.response.start",
                "status": upstream.status,
                "headers": response_headers(upstream.raw_headers, len(upstream.body)),
            }
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
