"""The skeleton every app shares: FastAPI instance, middleware, errors, /health, /metrics.

`build_app` builds the app an `AppSpec` describes; the app's resources — logger,
metrics, breakers, database engine, HTTP session and clients — are built when it starts,
in its lifespan, into one `AppContext`, and released when it stops. Two instances of a
service never share anything.

A start refused for a reason the app can say (its SQLite file cannot be opened) reaches
the server as that one Spanish line, not as a traceback (`ExplainsStartFailure`).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp

from microservicios.common.breaker import CircuitBreaker
from microservicios.common.client import CallTimeouts, create_http_session, server_error
from microservicios.common.context import AppContext, HealthReport, attach_context
from microservicios.common.faults import FaultInjector
from microservicios.common.limits import RequestLimits
from microservicios.common.retry import RETRYABLE_STATUSES
from microservicios.common.secrets import (
    UnsafeSecretError,
    check_secret,
    listening_host,
    uses_placeholder_secret,
)
from microservicios.common.service_clients import BreakerFactory, build_breakers, build_clients
from microservicios.common.settings import Settings
from microservicios.common.web.docs import serve_offline_docs
from microservicios.common.web.faults import FaultMiddleware
from microservicios.common.web.faults import router as faults_router
from microservicios.common.web.handlers import install_error_handlers
from microservicios.common.web.health import breakers_health, health_router
from microservicios.common.web.layers import ALL_LAYERS, RequestLayers
from microservicios.common.web.middleware import RequestContextMiddleware
from microservicios.common.web.redirects import use_relative_slash_redirects
from microservicios.common.web.request_guard import RequestGuard
from microservicios.common.web.start_failure import ExplainsStartFailure
from microservicios.database.sessions import Database, as_database
from microservicios.database.sqlite import opening_sqlite
from microservicios.migrations.schema import migrate_at_start
from microservicios.telemetry.events import (
    AUTH_DEFAULT_SECRET,
    AUTH_UNSAFE_SECRET,
    SERVICE_STARTED,
    SERVICE_STOPPED,
)
from microservicios.telemetry.logs import EventLogger, LogSink
from microservicios.telemetry.metrics import Metrics

# A service's opener returns a Database; lab 6's returns a SQLite engine and sessionmaker.
DatabaseOpener = Callable[[str], Database | tuple[Engine, sessionmaker[Session]]]
# Runs while the app is up. It receives the app's context; a service whose context is a
# subclass (orders) checks that it got its own.
BackgroundTask = Callable[[AppContext], Coroutine[Any, Any, None]]
Middleware = Callable[[ASGIApp], ASGIApp]  # an ASGI middleware class, as Starlette takes it


@dataclass(frozen=True, kw_only=True)
class AppSpec:
    """What one app is: its name and documentation, its parts and its plug-in points.

    A service builds one and hands it to `build_app`; the app's lifespan builds the context
    from it (`running_context`) each time the app starts.
    """

    service: str
    title: str
    description: str
    settings: Settings
    open_database: DatabaseOpener | None = None
    dependencies: tuple[str, ...] = ()  # services this one calls: a breaker and client each
    log_sinks: Sequence[LogSink] | None = None  # None: JSON lines to stderr
    inner_middleware: tuple[Middleware, ...] = ()  # inside the request-id one, before routing
    background: tuple[BackgroundTask, ...] = ()  # coroutines that run while the app is up
    timeouts: CallTimeouts | None = None  # None: from settings
    # Plug-in points for the labs: the breakers' class (same signature as CircuitBreaker;
    # None: CircuitBreaker), and routers included before the service's own.
    breaker_factory: BreakerFactory | None = None
    routers: tuple[APIRouter, ...] = ()
    is_failure: Callable[[int], bool] = server_error  # which answers count against a target
    app_class: Callable[..., FastAPI] = FastAPI
    context_class: type[AppContext] = AppContext
    health_reports: tuple[HealthReport, ...] = ()
    host: str | None = None  # where it listens, if the caller knows (a cluster does)
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES  # answers its clients retry
    layers: RequestLayers = ALL_LAYERS  # all on; only bench/layer_cost.py turns some off


SPEC_FIELDS = tuple(spec_field.name for spec_field in fields(AppSpec))


def build_app(spec: AppSpec | None = None, /, **changes: Any) -> FastAPI:
    """A FastAPI app with this project's conventions, as `spec` says; routes are added by
    the caller.

    The fields may also come as keyword arguments, without a spec (lab 6 builds its app
    so); with a spec, they replace its own: the cluster's `log_sinks` and `host`, a lab's
    `breaker_factory` or `routers`.
    """
    spec = _complete_spec(spec, changes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_context(spec) as context:
            attach_context(app, context)
            yield

    app = spec.app_class(
        title=spec.title,
        description=spec.description,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    serve_offline_docs(app)
    use_relative_slash_redirects(app.router)
    for middleware in spec.inner_middleware:
        app.add_middleware(middleware)
    if spec.layers.faults:
        app.add_middleware(FaultMiddleware)
    if spec.layers.limits:
        app.add_middleware(RequestGuard)
    app.add_middleware(RequestContextMiddleware, layers=spec.layers)  # added last: runs first
    app.add_middleware(ExplainsStartFailure)  # sees only the lifespan
    install_error_handlers(app)
    app.include_router(faults_router)
    for router in spec.routers:
        app.include_router(router)
    app.include_router(health_router)
    return app


def _complete_spec(spec: AppSpec | None, changes: dict[str, Any]) -> AppSpec:
    """`spec` with `changes`, or a spec of `changes` alone; an unknown field is refused."""
    unknown = [name for name in changes if name not in SPEC_FIELDS]
    if unknown:
        raise TypeError(
            f"build_app no tiene el parámetro '{unknown[0]}'; los que acepta son: "
            f"{', '.join(SPEC_FIELDS)}."
        )
    return AppSpec(**changes) if spec is None else replace(spec, **changes)


@asynccontextmanager
async def running_context(spec: AppSpec) -> AsyncIterator[AppContext]:
    """Open the app's resources, yield its context, and close everything on exit.

    The exit stack also undoes a start that fails half-way.
    """
    settings, service = spec.settings, spec.service
    sinks = None if spec.log_sinks is None else list(spec.log_sinks)
    logger = EventLogger(service, settings.log_level, sinks)
    try:
        check_secret(settings, spec.host or listening_host())
    except UnsafeSecretError as refusal:
        logger.error(AUTH_UNSAFE_SECRET, detail=str(refusal))
        raise
    metrics = Metrics(service)
    breakers = build_breakers(
        service,
        spec.dependencies,
        settings=settings,
        logger=logger,
        metrics=metrics,
        factory=spec.breaker_factory or CircuitBreaker,
    )
    async with AsyncExitStack() as resources:
        database = None
        if spec.open_database is not None:
            url = settings.database_url(service)
            database = as_database(opening_sqlite(service, url, spec.open_database))
            resources.push_async_callback(database.dispose)
            await migrate_at_start(service, settings.database_url(service), database, logger)
        clients = {}
        if breakers:
            http_session = create_http_session(settings.client_keepalive_timeout)
            resources.push_async_callback(http_session.close)
            clients = build_clients(
                service,
                breakers,
                session=http_session,
                settings=settings,
                logger=logger,
                metrics=metrics,
                timeouts=spec.timeouts,
                is_failure=spec.is_failure,
                retryable_statuses=spec.retryable_statuses,
            )
        health_reports: list[HealthReport] = [breakers_health] if breakers else []
        health_reports.extend(spec.health_reports)
        context = spec.context_class(
            service=service,
            settings=settings,
            logger=logger,
            metrics=metrics,
            faults=FaultInjector(logger),
            limits=RequestLimits.from_settings(settings),
            breakers=breakers,
            clients=clients,
            database=database,
            health_reports=health_reports,
        )
        for task_function in spec.background:
            task = asyncio.create_task(task_function(context))
            resources.push_async_callback(_cancel, task)
        _log_started(context)
        yield context
        logger.info(SERVICE_STOPPED)


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _log_started(context: AppContext) -> None:
    """`service.started`, plus a warning while a well-known secret is in use (on loopback:
    anywhere else the app refuses to start, see `check_secret`)."""
    if uses_placeholder_secret(context.settings):
        context.logger.warning(
            AUTH_DEFAULT_SECRET,
            hint="SERVICE_SECRET tiene un valor conocido por todos: sirve sólo en 127.0.0.1; "
            "poné uno largo y al azar fuera de clase.",
        )
    context.logger.info(SERVICE_STARTED, breakers=sorted(context.breakers))
