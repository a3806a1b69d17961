"""The context of one running app: everything it owns, typed, in one place.

`build_app` builds an `AppContext` when the app starts (in its lifespan) and stores it on
the app exactly once, as `app.state.context`. Routes receive it through `ContextDep`
(`common/web/deps.py`); middleware reads it with `context_of(scope["app"])`, once per
request (`common/web/request_head.py`'s `request_context`); domain code
gets only the parts it needs, as arguments. Two instances of a service never share anything.

Only the app's FastAPI side (`common/web/`) reads the context: the parts it holds (client,
breaker, database, faults, limits, telemetry) know nothing of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from microservicios.common.breaker import CircuitBreaker
from microservicios.common.client import ServiceClient
from microservicios.common.faults import FaultInjector
from microservicios.common.limits import RequestLimits
from microservicios.common.settings import Settings
from microservicios.database.sessions import Database, DbSession
from microservicios.telemetry.logs import EventLogger
from microservicios.telemetry.metrics import Metrics

HealthReport = Callable[["AppContext"], Awaitable[dict[str, Any]]]


@dataclass(kw_only=True)
class AppContext:
    """What one running app owns: configuration, telemetry, database, outgoing clients."""

    service: str
    settings: Settings
    logger: EventLogger
    metrics: Metrics
    faults: FaultInjector
    limits: RequestLimits
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)  # by target service
    clients: dict[str, ServiceClient] = field(default_factory=dict)  # by target service
    database: Database | None = None  # None: this app has no database
    health_reports: list[HealthReport] = field(default_factory=list)  # extra parts of /health

    @property
    def database_url(self) -> str:
        return self.settings.database_url(self.service)

    def session(self) -> AbstractAsyncContextManager[DbSession]:
        """A session on this app's own database, closed on exit (the database's own context
        manager, not one more wrapped around it: every request with a session enters it)."""
        if self.database is None:
            raise RuntimeError(f"El servicio '{self.service}' no tiene base de datos.")
        return self.database.session()

    async def health(self) -> dict[str, Any]:
        """What GET /health answers: the service, "ok", and each extra report."""
        report: dict[str, Any] = {"service": self.service, "status": "ok"}
        for extra in self.health_reports:
            report.update(await extra(self))
        return report


def attach_context(app: FastAPI, context: AppContext) -> None:
    app.state.context = context


def context_of(app: FastAPI) -> AppContext:
    """The context of a started app (an ASGI `scope["app"]` or a FastAPI instance)."""
    try:
        return app.state.context
    except AttributeError:
        raise RuntimeError("La app todavía no arrancó: su contexto se crea al iniciar.") from None
