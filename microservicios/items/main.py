"""Items service: `create_app(settings)` builds one independent instance.

Run it alone with: uvicorn microservicios.items.main:create_app --factory --port 8002
"""

from typing import Any

from fastapi import FastAPI

from microservicios.common.service_app import AppSpec, build_app
from microservicios.common.settings import Settings
from microservicios.items.database import open_database
from microservicios.items.routes import internal, router


def create_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    """One independent instance. `options` replace fields of its `AppSpec`: log_sinks,
    breaker_factory, routers (the plug-in points used by the cluster and the labs)."""
    spec = AppSpec(
        service="items",
        title="Items Service",
        description="Inventario de ítems con stock, y rutas internas para reservarlo y liberarlo.",
        settings=settings or Settings(),
        open_database=open_database,
    )
    app = build_app(spec, **options)
    # The internal router goes first: "/items/internal/..." must not be read as an item id.
    app.include_router(internal)
    app.include_router(router)
    return app
