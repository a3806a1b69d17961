"""API gateway: `create_app(settings)` builds one independent instance.

Run it alone with: uvicorn microservicios.gateway.main:create_app --factory --port 8080
"""

from fastapi import FastAPI

from microservicios.common.client import CallTimeouts
from microservicios.common.logs import LogSink
from microservicios.common.service_app import build_app
from microservicios.common.settings import BACKEND_NAMES, Settings
from microservicios.gateway.proxy import ProxyMiddleware
from microservicios.gateway.routes import router


def create_app(
    settings: Settings | None = None, *, log_sinks: list[LogSink] | None = None
) -> FastAPI:
    app = build_app(
        service="gateway",
        title="API Gateway",
        description=(
            "Punto de entrada único: reenvía /users, /items y /orders a cada servicio "
            "(mirá la documentación de cada servicio para sus rutas)."
        ),
        settings=settings,
        dependencies=BACKEND_NAMES,
        log_sinks=log_sinks,
        inner_middleware=(ProxyMiddleware,),
        timeouts=CallTimeouts(
            connect=settings.http_connect_timeout,
            attempt=settings.gateway_timeout,
            deadline=settings.gateway_timeout,
        ),
    )
    app.include_router(router)
    return app
