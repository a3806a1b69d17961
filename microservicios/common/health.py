"""What operators and orchestrators ask a service: /health, /health/live, /health/ready,
/metrics."""

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from microservicios.common.context import AppContext, ContextDep


async def database_answers(context: AppContext) -> bool:
    """One trivial query on the app's own database."""
    try:
        async with context.session() as session:
            await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True


health_router = APIRouter(tags=["salud"])


@health_router.get("/health", summary="Estado del servicio")
async def health(context: ContextDep) -> dict[str, Any]:
    return await context.health()


@health_router.get("/health/live", summary="¿El proceso responde? (liveness)")
async def health_live(context: ContextDep) -> dict[str, Any]:
    """For an orchestrator's liveness probe: answering at all is the whole test."""
    return {"service": context.service, "status": "ok"}


@health_router.get(
    "/health/ready",
    summary="¿Puede atender? (readiness)",
    responses={503: {"description": "Su propia base de datos no responde."}},
)
async def health_ready(context: ContextDep) -> JSONResponse:
    """For a readiness probe: its own database answers. Not its dependencies: if items is
    down, orders still gets traffic (and answers 503 fast, breaker open) instead of every
    readiness probe failing in a cascade."""
    if context.database is not None and not await database_answers(context):
        detail = "La base de datos del servicio no responde."
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
