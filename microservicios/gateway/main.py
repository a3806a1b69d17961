"""API gateway: `create_app(settings)` builds one independent instance.

Run it alone with: uvicorn microservicios.gateway.main:create_app --factory --port 8080
"""

from typing import Any

from fastapi import FastAPI

from microservicios.common.client import CallTimeouts
from microservicios.common.service_app import build_app
from microservicios.common.settings import Settings
from microservicios.gateway.proxy import ProxyMiddleware
from microservicios.gateway.routes import router


def upstream_failed(status: int) -> bool:
    """What counts against a service in the gateway's breakers.

    A 503 comes from a service that is up and answering that one of *its* dependencies is
    unavailable (it has its own breaker for that). Counting it here would shut every route
    of that service, GET /orders/ included, because items is down.
    """
    return status >= 500 and status != 503


def create_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    """One independent instance. `options` go to `build_app`: log_sinks, breaker_factory,
    routers (the plug-in points used by the cluster and the labs)."""
    settings = settings or Settings()
    app = build_app(
        service="gateway",
        title="API Gateway",
        description=(
            "Punto de entrada único: reenvía /users, /items y /orders a cada servicio "
            "(mirá la documentación de cada servicio para sus rutas)."
        ),
        settings=settings,
        dependencies=settings.routed_services,
        **options,
        inner_middleware=(ProxyMiddleware,),
        is_failure=upstream_failed,
        timeouts=CallTimeouts(
            connect=settings.http_connect_timeout,
            attempt=settings.gateway_timeout,
            deadline=settings.gateway_timeout,
        ),
    )
    app.include_router(router)
    return app
