"""Service-to-service authentication with the shared `X-Service-Token` header."""

import hmac
from collections.abc import Mapping

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
