"""Users service: `create_app(settings)` builds one independent instance.

Run it alone with: uvicorn microservicios.users.main:create_app --factory --port 8001
"""

from typing import Any

from fastapi import FastAPI

from microservicios.common.service_app import AppSpec, build_app
from microservicios.common.settings import Settings
from microservicios.users.database import open_database
from microservicios.users.routes import router


def create_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    """One independent instance. `options` replace fields of its `AppSpec`: log_sinks,
    breaker_factory, routers (the plug-in points used by the cluster and the labs)."""
    spec = AppSpec(
        service="users",
        title="Users Service",
        description="Usuarios: alta, baja, consulta y modificación. Email único.",
        settings=settings or Settings(),
        open_database=open_database,
    )
    app = build_app(spec, **options)
    app.include_router(router)
    return app
