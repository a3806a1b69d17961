"""Routes of the gateway: a greeting, and one catch-all proxy route per service."""

from fastapi import APIRouter, FastAPI, Request, Response

from microservicios.common.settings import BACKEND_NAMES
from microservicios.gateway.proxy import forward

router = APIRouter(tags=["gateway"])

PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.get("/", summary="Saludo del gateway")
async def root() -> dict[str, str]:
    return {"message": "Gateway listo"}


def add_proxy_routes(app: FastAPI) -> None:
    """`/users…`, `/items…`, `/orders…` go to their service with the path unchanged.

    Plain Starlette routes (not FastAPI endpoints): the proxy needs no parameter parsing,
    and skipping it is a large part of the gateway's speed.
    """
    for service in BACKEND_NAMES:

        async def proxy(request: Request, service: str = service) -> Response:
            return await forward(request, service)

        app.add_route(
            f"/{service}{{path:path}}", proxy, methods=PROXY_METHODS, include_in_schema=False
        )
