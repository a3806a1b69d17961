"""Hides the gateway's own `/internal/` routes from anyone without the service token."""

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from microservicios.common.auth import token_is_valid
from microservicios.common.context import context_of
from microservicios.common.headers import SERVICE_TOKEN_HEADER, header
from microservicios.gateway.paths import has_internal_segment


def not_found() -> JSONResponse:
    return JSONResponse({"detail": "Ruta no encontrada."}, status_code=404)


class InternalRouteGuard:
    """A 404 for an unsigned request to an internal path: for outsiders it does not exist."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_internal_segment(scope["path"]) and not _signed(scope):
            await not_found()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _signed(scope: Scope) -> bool:
    secret = context_of(scope["app"]).settings.service_secret.get_secret_value()
    return token_is_valid(header(scope, SERVICE_TOKEN_HEADER), secret)
