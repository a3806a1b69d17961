"""The gateway's OpenAPI document: its own public routes plus every routed service's.

A student who opens the gateway's `/docs` wants to try the API through the gateway, so the
document is built when asked: each service's `/openapi.json` is fetched through the
gateway's own client (breaker and timeouts included) and its public paths are added. No
`/internal/` path is ever listed, nor the token scheme only those paths use. A service
that does not answer is left out and named in the description, so the page still opens.
"""

import copy
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from microservicios.common.context import context_of
from microservicios.common.errors import ServiceUnavailableError
from microservicios.gateway.paths import has_internal_segment
from microservicios.gateway.proxy import service_of

OPENAPI_PATH = "/openapi.json"


async def merged_openapi(app: FastAPI, services: tuple[str, ...]) -> dict[str, Any]:
    document = copy.deepcopy(app.openapi())
    document["paths"] = public_paths(document["paths"])
    components = document.setdefault("components", {})
    missing = []
    for service in services:
        spec = await _service_openapi(app, service)
        if spec is None:
            missing.append(service)
            continue
        for path, operations in spec.get("paths", {}).items():
            if service_of(path, (service,)) and not has_internal_segment(path):
                document["paths"][path] = operations
        for kind, entries in spec.get("components", {}).items():
            for name, entry in entries.items():
                components.setdefault(kind, {}).setdefault(name, entry)
    if missing:
        document["info"]["description"] += (
            f"\n\nAhora no responden (sus rutas no aparecen): {', '.join(missing)}."
        )
    keep_used_security_schemes(document)
    return document


def keep_used_security_schemes(document: dict[str, Any]) -> None:
    """Drop the security schemes no listed operation uses: they came with internal routes,
    and Swagger UI would show an «Authorize» button that no public route needs."""
    used = {
        name
        for operations in document["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for requirement in operation.get("security", ())
        for name in requirement
    }
    components = document.get("components", {})
    schemes = {
        name: scheme
        for name, scheme in components.pop("securitySchemes", {}).items()
        if name in used
    }
    if schemes:
        components["securitySchemes"] = schemes


def public_paths(paths: dict[str, Any]) -> dict[str, Any]:
    return {path: item for path, item in paths.items() if not has_internal_segment(path)}


async def _service_openapi(app: FastAPI, service: str) -> dict[str, Any] | None:
    client = context_of(app).clients[service]
    try:
        answer = await client.request("GET", OPENAPI_PATH)
    except ServiceUnavailableError:
        return None
    return answer.json() if answer.status == 200 else None


def serve_merged_openapi(app: FastAPI, services: tuple[str, ...]) -> None:
    """Add `/openapi.json` to a gateway built with `openapi_url=None`."""

    @app.get(OPENAPI_PATH, include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(await merged_openapi(request.app, services))
