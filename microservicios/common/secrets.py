"""The shared service secret: never a well-known value where someone else could use it.

The secret signs every call between services and opens the fault-injection routes, so a
value anyone can read (the default, or `.env.example`'s placeholder) lets anyone on the
network make the services hang. Rules:
- `Cluster` and `python -m microservicios.cluster` make a random secret for each run
  unless one was configured (`random_secret`);
- a service started alone with a well-known secret refuses to start unless it only listens
  on loopback, where it just warns (`check_secret`).
"""

import ipaddress
import os
import secrets
import sys

from microservicios.common.settings import DEFAULT_SECRET, Settings

# The default, .env.example's placeholder and the Kubernetes Secret's: everyone who has the
# project knows them.
PLACEHOLDER_SECRETS = frozenset(
    {DEFAULT_SECRET, "cambiame-por-un-secreto-largo", "CAMBIAME-secreto-de-servicio-k8s"}
)


class UnsafeSecretError(RuntimeError):
    """A well-known secret on a service that other machines can reach."""


def uses_placeholder_secret(settings: Settings) -> bool:
    return settings.service_secret.get_secret_value() in PLACEHOLDER_SECRETS


def random_secret() -> str:
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name or "0.0.0.0"-like wildcard: assume other machines can reach it


def listening_host(argv: list[str] | None = None) -> str:
    """The host this process serves on, as uvicorn was told (`--host`, UVICORN_HOST), or
    uvicorn's default, 127.0.0.1. A cluster passes its host explicitly instead."""
    args = sys.argv if argv is None else argv
    for index, arg in enumerate(args):
        if arg == "--host" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--host="):
            return arg.split("=", 1)[1]
    return os.environ.get("UVICORN_HOST", "127.0.0.1")


def check_secret(settings: Settings, host: str) -> None:
    """Refuse a well-known secret off loopback (raise); on loopback the caller warns."""
    if uses_placeholder_secret(settings) and not is_loopback(host):
        raise UnsafeSecretError(
            f"SERVICE_SECRET tiene un valor conocido por todos y el servicio escucha en "
            f"'{host}', donde otras máquinas pueden llegar: cualquiera podría inyectarle "
            "fallas. Poné un secreto largo y al azar en SERVICE_SECRET (el mismo en todos "
            "los servicios), o escuchá sólo en 127.0.0.1."
        )
