"""The skeleton every app shares: FastAPI instance, logger, middleware, errors, /health.

Resources (database engine, HTTP session and clients) are opened in the app's lifespan
and kept on `app.state`, so two instances of a service never share anything.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from microservicios.common.client import ServiceClient, create_http_session
from microservicios.common.errors import install_error_handlers
from microservicios.common.logs import EventLogger, LogSink
from microservicios.common.middleware import RequestIdMiddleware
from microservicios.common.settings import Settings

DatabaseOpener = Callable[[str], tuple[Engine, sessionmaker[Session]]]


def build_app(
    *,
    service: str,
    title: str,
    description: str,
    settings: Settings,
    open_database: DatabaseOpener | None = None,
    dependencies: tuple[str, ...] = (),
    log_sinks: list[LogSink] | None = None,
    inner_middleware: tuple[type, ...] = (),
) -> FastAPI:
    """A FastAPI app with this project's conventions; routes are added by the caller.

    `dependencies` names the services this one calls: a `ServiceClient` for each is
    put in `app.state.clients` at start-up. `inner_middleware` runs inside the request-id
    middleware, before routing.
    """
    app = FastAPI(title=title, description=description, lifespan=_lifespan)
    app.state.service = service
    app.state.settings = settings
    app.state.logger = EventLogger(service, settings.log_level, log_sinks)
    app.state.open_database = open_database
    app.state.dependencies = dependencies
    app.state.clients = {}
    app.state.health_extras = []
    for middleware in inner_middleware:
        app.add_middleware(middleware)
    app.add_middleware(RequestIdMiddleware)  # added last, so it runs first
    install_error_handlers(app)

    @app.get("/health", tags=["salud"], summary="Estado del servicio")
    async def health(request: Request) -> dict[str, Any]:
        report: dict[str, Any] = {"service": service, "status": "ok"}
        for extra in request.app.state.health_extras:
            report.update(extra(request.app))
        return report

    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    service: str = app.state.service
    async with AsyncExitStack() as resources:
        if app.state.open_database is not None:
            engine, app.state.sessionmaker = app.state.open_database(settings.database_url(service))
            resources.callback(engine.dispose)
        if app.state.dependencies:
            session = create_http_session(settings)
            resources.push_async_callback(session.close)
            app.state.clients = {
                target: ServiceClient(
                    caller=service,
                    target=target,
                    base_url=settings.service_url(target),
                    session=session,
                    secret=settings.service_secret.get_secret_value(),
                    logger=app.state.logger,
                )
                for target in app.state.dependencies
            }
        _log_started(app)
        yield
        app.state.logger.info("service.stopped")


def _log_started(app: FastAPI) -> None:
    """`service.started`, plus a warning while the well-known default secret is in use."""
    settings: Settings = app.state.settings
    logger: EventLogger = app.state.logger
    if settings.uses_default_secret:
        logger.warning(
            "auth.default_secret",
            hint="SERVICE_SECRET usa el valor por defecto 'dev-secret': cambialo fuera de clase.",
        )
    logger.info("service.started")
