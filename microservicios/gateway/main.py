"""API gateway: `create_app(settings)` builds one independent instance.

Run it alone with: uvicorn microservicios.gateway.main:create_app --factory --port 8080
"""

from fastapi import FastAPI

from microservicios.common.logs import LogSink
from microservicios.common.service_app import build_app
from microservicios.common.settings import BACKEND_NAMES, Settings
from microservicios.gateway.routes import add_proxy_routes, router


def create_app(
    settings: Settings | None = None, *, log_sinks: list[LogSink] | None = None
) -> FastAPI:
    app = build_app(
        service="gateway",
        title="API Gateway",
        description="Punto de entrada único: reenvía /users, /items y /orders a cada servicio.",
        settings=settings or Settings(),
        dependencies=BACKEND_NAMES,
        log_sinks=log_sinks,
    )
    app.include_router(router)
    add_proxy_routes(app)
    return app
