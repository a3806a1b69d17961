"""Forwarding one client request to one service, and its answer back.

Hop-by-hop headers (RFC 9110 §7.6.1) describe a single connection, so they stop here in
both directions; so does any X-Service-Token a client sends: only the gateway signs calls.
"""

from fastapi import HTTPException, Request, Response

from microservicios.common.auth import SERVICE_TOKEN_HEADER
from microservicios.common.client import ServiceClient
from microservicios.common.middleware import REQUEST_ID_HEADER
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
}
NOT_FORWARDED_RESPONSE = HOP_BY_HOP | {"content-length", "date", "server"}


def _connection_listed(headers: list[tuple[str, str]]) -> set[str]:
    """Header names that a Connection header declares hop-by-hop too."""
    listed: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            listed.update(token.strip().lower() for token in value.split(","))
    return listed


def _filter_headers(headers: list[tuple[str, str]], drop: frozenset[str]) -> list[tuple[str, str]]:
    also_drop = _connection_listed(headers)
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in drop and name.lower() not in also_drop
    ]


async def forward(request: Request, service: str) -> Response:
    path = upstream_path(service, request.url.path)
    if path is None:
        raise HTTPException(status_code=404, detail="Ruta no encontrada.")
    client: ServiceClient = request.app.state.clients[service]
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
    body = await request.body()
    upstream = await client.request(
        request.method,
        path,
        body=body or None,
        headers=_filter_headers(headers, NOT_FORWARDED_REQUEST),
        query=request.url.query,
    )
    response = Response(content=upstream.body, status_code=upstream.status)
    response.raw_headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in _filter_headers(upstream.headers, NOT_FORWARDED_RESPONSE)
    )
    return response
