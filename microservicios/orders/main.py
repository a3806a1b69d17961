"""Orders service: `create_app(settings)` builds one independent instance.

Run it alone with: uvicorn microservicios.orders.main:create_app --factory --port 8003
"""

from typing import Any

from fastapi import FastAPI

from microservicios.common.service_app import AppSpec, build_app
from microservicios.common.settings import Settings
from microservicios.orders.context import OrdersContext, compensation_health, run_compensation
from microservicios.orders.database import open_database
from microservicios.orders.routes import router


def create_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    """One independent instance. `options` replace fields of its `AppSpec`: log_sinks,
    breaker_factory, routers (the plug-in points used by the cluster and the labs)."""
    spec = AppSpec(
        service="orders",
        title="Orders Service",
        description="Órdenes: verifica el usuario y reserva stock en los otros servicios.",
        settings=settings or Settings(),
        open_database=open_database,
        dependencies=("users", "items"),
        context_class=OrdersContext,
        background=(run_compensation,),
        health_reports=(compensation_health,),
    )
    app = build_app(spec, **options)
    app.include_router(router)
    return app
