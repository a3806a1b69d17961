"""The FastAPI dependencies of every app, in one place: each hands a route one thing of the
running app's context (`AppContext`), or checks the request before the route runs.

    async def get_user(user_id: IdPath, session: DbSessionDep) -> UserRead: ...

Routes name them as typed parameters; FastAPI calls them per request. All are `async`,
though most await nothing: FastAPI runs a plain `def` dependency in a worker thread, and
that hop would cost more than the dependency itself.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from microservicios.common.auth import token_is_valid
from microservicios.common.context import AppContext, context_of
from microservicios.common.faults import FaultInjector
from microservicios.common.fields import MAX_ID
from microservicios.common.headers import SERVICE_TOKEN_HEADER
from microservicios.database.sessions import DbSession


async def get_context(request: Request) -> AppContext:
    """The context of the app serving this request."""
    return context_of(request.app)


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_db_session(request: Request) -> AsyncIterator[DbSession]:
    """One session per request on the app's own database (SQLite or PostgreSQL)."""
    async with context_of(request.app).session() as session:
        yield session


DbSessionDep = Annotated[DbSession, Depends(get_db_session)]


async def get_injector(request: Request) -> FaultInjector:
    """The app's fault injector, for the /internal/faults routes."""
    return context_of(request.app).faults


InjectorDep = Annotated[FaultInjector, Depends(get_injector)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A plain SQLite session per request, for code written synchronously (lab 6).
    (An async generator, so FastAPI opens it on the event loop, not in a thread.)

    The routes that use it are `async def` and call the database directly on the event
    loop: a local SQLite query takes microseconds. The project's services use the async
    interface instead (`database/sessions.py`), which also speaks PostgreSQL.
    """
    database = context_of(request.app).database
    if database is None or database.sync_sessions is None:
        raise RuntimeError("SessionDep sólo sirve con una base SQLite.")
    with database.sync_sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    """`limit`/`offset` query parameters, the same on every list endpoint."""

    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Máximo de resultados")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Resultados a saltar")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(page_params)]


# Declared as a security scheme, so /docs shows which routes need it (and offers to send it).
service_token_header = APIKeyHeader(
    name=SERVICE_TOKEN_HEADER,
    scheme_name="ServiceToken",
    description="El secreto compartido entre servicios (SERVICE_SECRET).",
    auto_error=False,  # a missing header gets our own Spanish 401, not FastAPI's English one
)


async def verify_service_token(
    request: Request,
    x_service_token: Annotated[str | None, Security(service_token_header)] = None,
) -> None:
    """For internal routes: only other services of this system may call them."""
    secret = context_of(request.app).settings.service_secret.get_secret_value()
    if not token_is_valid(x_service_token, secret):
        raise HTTPException(
            status_code=401,
            detail="Falta la cabecera X-Service-Token o no es válida: "
            "esta ruta es sólo para otros servicios.",
        )


ServiceAuth = Depends(verify_service_token)
