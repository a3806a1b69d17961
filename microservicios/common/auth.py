"""Service-to-service authentication with the shared `X-Service-Token` header."""

import hmac
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from microservicios.common.context import context_of
from microservicios.common.headers import SERVICE_TOKEN_HEADER


def add_service_auth(headers: Mapping[str, str] | None, secret: str) -> dict[str, str]:
    """Return a copy of `headers` carrying this system's service token."""
    signed = dict(headers or {})
    signed[SERVICE_TOKEN_HEADER] = secret
    return signed


def token_is_valid(token: str | None, secret: str) -> bool:
    """Compare in constant time, so the answer's timing does not leak the secret."""
    if token is None:
        return False
    return hmac.compare_digest(token.encode(), secret.encode())


# Declared as a security scheme, so /docs shows which routes need it (and offers to send it).
service_token_header = APIKeyHeader(
    name=SERVICE_TOKEN_HEADER,
    scheme_name="ServiceToken",
    description="El secreto compartido entre servicios (SERVICE_SECRET).",
    auto_error=False,  # a missing header gets our own Spanish 401, not FastAPI's English one
)


async def verify_service_token(
    request: Request,
    x_service_token: Annotated[str | None, Security(service_token_header)] = None,
) -> None:
    """Dependency for internal routes: only other services of this system may call them.

    `async` although it awaits nothing: FastAPI runs plain `def` dependencies in a worker
    thread, and that hop would cost more than the check itself.
    """
    secret = context_of(request.app).settings.service_secret.get_secret_value()
    if not token_is_valid(x_service_token, secret):
        raise HTTPException(
            status_code=401,
            detail="Falta la cabecera X-Service-Token o no es válida: "
            "esta ruta es sólo para otros servicios.",
        )


ServiceAuth = Depends(verify_service_token)
