"""The skeleton every app shares: FastAPI instance, logger, middleware, errors, /health.

Resources (database engine, HTTP session and clients) are opened in the app's lifespan
and kept on `app.state`, so two instances of a service never share anything.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from microservicios.common.breaker import CircuitBreaker
from microservicios.common.client import CallTimeouts, create_http_session
from microservicios.common.errors import install_error_handlers
from microservicios.common.faults import FaultInjector, FaultMiddleware
from microservicios.common.faults import router as faults_router
from microservicios.common.logs import EventLogger, LogSink
from microservicios.common.metrics import Metrics
from microservicios.common.middleware import RequestContextMiddleware
from microservicios.common.resilience import (
    BreakerFactory,
    breakers_health,
    build_breakers,
    build_clients,
    call_timeouts,
    server_error,
)
from microservicios.common.settings import Settings

DatabaseOpener = Callable[[str], tuple[Engine, sessionmaker[Session]]]
BackgroundTask = Callable[[FastAPI], Awaitable[None]]


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
    background: tuple[BackgroundTask, ...] = (),
    timeouts: CallTimeouts | None = None,
    breaker_factory: BreakerFactory | None = None,
    routers: tuple[APIRouter, ...] = (),
    is_failure: Callable[[int], bool] = server_error,
    app_class: type[FastAPI] = FastAPI,
) -> FastAPI:
    """A FastAPI app with this project's conventions; routes are added by the caller.

    `dependencies` names the services this one calls: each gets a circuit breaker
    (`app.state.breakers`, kept for the app's life) and, at start-up, a `ServiceClient`
    (`app.state.clients`). `inner_middleware` runs inside the request-id
    middleware, before routing. Each `background` coroutine runs while the app is up.
    Plug-in points for the labs: `breaker_factory` builds the circuit breakers (same
    signature as `CircuitBreaker`), and `routers` are included before the service's own.
    """
    app = app_class(title=title, description=description, lifespan=_lifespan)
    app.state.service = service
    app.state.settings = settings
    app.state.logger = EventLogger(service, settings.log_level, log_sinks)
    app.state.metrics = Metrics(service)
    app.state.open_database = open_database
    app.state.dependencies = dependencies
    app.state.background = background
    app.state.clients = {}
    app.state.breakers = build_breakers(app, dependencies, breaker_factory or CircuitBreaker)
    app.state.call_timeouts = timeouts or call_timeouts(settings)
    app.state.is_failure = is_failure
    app.state.health_extras = [breakers_health] if dependencies else []
    app.state.faults = FaultInjector()
    for middleware in inner_middleware:
        app.add_middleware(middleware)
    app.add_middleware(FaultMiddleware)
    app.add_middleware(RequestContextMiddleware)  # added last, so it runs first
    install_error_handlers(app)
    app.include_router(faults_router)
    for router in routers:
        app.include_router(router)

    @app.get("/health", tags=["salud"], summary="Estado del servicio")
    async def health(request: Request) -> dict[str, Any]:
        report: dict[str, Any] = {"service": service, "status": "ok"}
        for extra in request.app.state.health_extras:
            report.update(extra(request.app))
        return report

    @app.get("/metrics", tags=["salud"], summary="Métricas en formato Prometheus")
    async def metrics(request: Request) -> Response:
        state = request.app.state
        for target, breaker in state.breakers.items():
            state.metrics.observe_breaker(target, breaker.state, transitioned=False)
        return Response(state.metrics.render(), media_type=state.metrics.content_type)

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
            session = create_http_session()
            resources.push_async_callback(session.close)
            app.state.clients = build_clients(app, session)
        for task_function in app.state.background:
            task = asyncio.create_task(task_function(app))
            resources.push_async_callback(_cancel, task)
        _log_started(app)
        yield
        app.state.logger.info("service.stopped")


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
