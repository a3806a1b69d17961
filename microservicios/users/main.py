"""Users service: `create_app(settings)` builds one independent instance.

Run it alone with: uvicorn microservicios.users.main:create_app --factory --port 8001
"""

from fastapi import FastAPI

from microservicios.common.logs import LogSink
from microservicios.common.service_app import build_app
from microservicios.common.settings import Settings
from microservicios.users.db import open_database
from microservicios.users.routes import router


def create_app(
    settings: Settings | None = None, *, log_sinks: list[LogSink] | None = None
) -> FastAPI:
    app = build_app(
        service="users",
        title="Users Service",
        description="Usuarios: alta, baja, consulta y modificación. Email único.",
        settings=settings or Settings(),
        open_database=open_database,
        log_sinks=log_sinks,
    )
    app.include_router(router)
    return app
