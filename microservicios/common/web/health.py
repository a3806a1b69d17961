"""What operators and orchestrators ask a service: /health, /health/live, /health/ready,
/metrics."""

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from microservicios.common.context import AppContext
from microservicios.common.web.deps import ContextDep
from microservicios.database.advice import database_detail, migrate_command
from microservicios.database.sessions import Database, DatabaseUnavailableError
from microservicios.migrations.schema import schema_lag

DATABASE_DOWN = "La base de datos del servicio no responde."


def described(context: AppContext, problem: DatabaseUnavailableError) -> str:
    """A database that cannot serve, for a probe: it does not answer, or the schema is not
    the one the code expects (and what to do)."""
    if not problem.wrong_schema:
        return DATABASE_DOWN
    return database_detail(context.service, context.database_url, problem)


async def database_problem(context: AppContext, database: Database) -> str | None:
    """Why the app's own `database` cannot serve requests, in Spanish; None if it can. It
    must answer a trivial query and, if versioned, be at the code's newest schema."""
    try:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
        lag = await schema_lag(context.service, context.database_url, database)
    except DatabaseUnavailableError as problem:
        return described(context, problem)
    except (SQLAlchemyError, OSError):
        return DATABASE_DOWN
    if lag is not None:
        return (
            f"La base de datos del servicio está atrasada ({lag}): falta correr "
            f"{migrate_command(context.service)}."
        )
    return None


async def breakers_health(context: AppContext) -> dict[str, Any]:
    """The `breakers` part of /health, for an app that calls other services."""
    return {"breakers": {target: b.snapshot() for target, b in context.breakers.items()}}


health_router = APIRouter(tags=["salud"])


@health_router.get("/health", summary="Estado del servicio")
async def health(context: ContextDep) -> dict[str, Any]:
    """The service and its reports (breakers, orders' pending releases). A report its
    database cannot give turns the answer into "error" and why, still a 200: the process
    answers, which is what a cluster waits for (/health/ready is the probe to route by)."""
    try:
        return await context.health()
    except DatabaseUnavailableError as problem:
        return {
            "service": context.service,
            "status": "error",
            "detail": described(context, problem),
        }


@health_router.get("/health/live", summary="¿El proceso responde? (liveness)")
async def health_live(context: ContextDep) -> dict[str, Any]:
    """For an orchestrator's liveness probe: answering at all is the whole test."""
    return {"service": context.service, "status": "ok"}


@health_router.get(
    "/health/ready",
    summary="¿Puede atender? (readiness)",
    responses={503: {"description": "Su propia base de datos no responde o está atrasada."}},
)
async def health_ready(context: ContextDep) -> JSONResponse:
    """For a readiness probe: its own database answers, with the schema the code needs. Not
    its dependencies: if items is down, orders still gets traffic (and answers 503 fast,
    breaker open) instead of every readiness probe failing in a cascade."""
    database = context.database
    detail = None if database is None else await database_problem(context, database)
    if detail is not None:
        return JSONResponse({"service": context.service, "status": "error", "detail": detail}, 503)
    return JSONResponse({"service": context.service, "status": "ok"})


@health_router.get(
    "/metrics",
    summary="Métricas en formato Prometheus",
    response_class=PlainTextResponse,  # documents the answer as text/plain, which it is
    responses={200: {"description": "Las métricas, en el formato de texto de Prometheus."}},
)
async def metrics(context: ContextDep) -> Response:
    for target, breaker in context.breakers.items():
        context.metrics.observe_breaker(target, breaker.state, transitioned=False)
    return Response(context.metrics.render(), media_type=context.metrics.content_type)
