"""A service's own database — SQLite in class, PostgreSQL in a deployment — behind one
async session interface, so the same crud code runs on both.

PostgreSQL is a server over the network: its sessions are SQLAlchemy's `AsyncSession` on
the asyncpg driver, and the event loop keeps serving while a query travels. SQLite is a
file in this process: a query takes microseconds, and handing it to a thread (what an async
SQLite driver does) costs more than the query (measured here: 3x fewer requests per second
when four services share one process). So SQLite sessions stay plain and synchronous,
wrapped to offer the same awaitable methods (`SyncSession`).

Tables: SQLite files get theirs when opened (`create_all`, instant); a PostgreSQL database
gets them from the versioned migrations: applied as the service starts, or refused by
`serve` until `python -m microservicios.migrate SERVICE` ran (migrations/schema.py).

A database that cannot serve a unit of work — it does not answer, or its tables are not the
ones the code expects — is said once, where the session ends: `DatabaseUnavailableError`,
which every app answers with a 503 (common/web/handlers.py).
"""

import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from microservicios.database.sqlite import create_sqlite_engine
from microservicios.database.urls import service_database_url

POOL_SIZE = 20  # connections per service process to its PostgreSQL
IDLE_BEFORE_PING_S = 10.0  # a pooled connection unused this long is pinged before use
RETURNED_AT = "returned_at"  # in a pooled connection's info: when it was last checked in


class DbSession(Protocol):
    """What the services' crud code uses of a session (AsyncSession has all of it)."""

    def add(self, instance: object) -> None: ...
    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any: ...
    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any: ...
    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any: ...
    async def get(self, entity: Any, ident: Any) -> Any: ...
    async def delete(self, instance: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class SyncSession:
    """A SQLite `Session` with the awaitable methods of `DbSession` (no thread hop); as an
    async context manager, as `AsyncSession` is, it closes the session on exit."""

    def __init__(self, session: Session) -> None:
        self.sync_session = session

    async def __aenter__(self) -> "SyncSession":
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        self.sync_session.close()

    def add(self, instance: object) -> None:
        self.sync_session.add(instance)

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self.sync_session.execute(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self.sync_session.scalar(statement, *args, **kwargs)

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self.sync_session.scalars(statement, *args, **kwargs)

    async def get(self, entity: Any, ident: Any) -> Any:
        return self.sync_session.get(entity, ident)

    async def delete(self, instance: object) -> None:
        self.sync_session.delete(instance)

    async def commit(self) -> None:
        self.sync_session.commit()

    async def rollback(self) -> None:
        self.sync_session.rollback()


@dataclass(frozen=True)
class Database:
    """How a service reaches its database: `session()` for each unit of work."""

    session: Callable[[], AbstractAsyncContextManager[DbSession]]
    dispose: Callable[[], Awaitable[None]]
    # The plain SQLite sessions, for code written synchronously (lab 6's SessionDep).
    sync_sessions: sessionmaker[Session] | None = None


# PostgreSQL's error codes (SQLSTATE) for tables or columns the code expects and the
# database lacks: a schema behind the code (or changed by hand).
SCHEMA_MISMATCH_STATES = frozenset({"42P01", "42703"})  # undefined table, undefined column
# Codes, or their first two characters (the class), of a database that cannot serve now:
# connection trouble (08), no such database (3D000), wrong login (28), out of resources
# such as connections or disk (53), shutting down or starting (57), a read-only standby.
UNAVAILABLE_STATES = frozenset({"08", "28", "3D", "53", "57", "25006"})
# SQLite says the same in words, in a plain OperationalError.
SQLITE_SCHEMA_MISMATCH = ("no such table", "no such column", "has no column named")
# A SQLite file that is not (or no longer) a database.
SQLITE_BROKEN_FILE = ("file is not a database", "database disk image is malformed")


class DatabaseUnavailableError(Exception):
    """The app's own database cannot serve this unit of work: it does not answer, or (with
    `wrong_schema`) its tables are not the ones the code expects. `reason` is one line for
    the log, in the database's own words."""

    def __init__(self, reason: str, *, wrong_schema: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wrong_schema = wrong_schema


def unavailable_database(exc: BaseException) -> DatabaseUnavailableError | None:
    """What `exc`, raised while using a database, says about it; None if it is not about
    the database being unusable (a constraint, a bug in a query) and must go on as it is."""
    if isinstance(exc, OSError | PoolTimeoutError):  # refused, timed out, no such host
        return DatabaseUnavailableError(f"{type(exc).__name__}: {exc}")
    if not isinstance(exc, DBAPIError):
        return None
    original = exc.orig or exc  # what the driver raised (SQLAlchemy always keeps it)
    cause = original.__cause__ or original  # asyncpg's own exception, if there is one
    reason = f"{type(cause).__name__}: {first_line(original)}"
    state = getattr(original, "sqlstate", None) or getattr(cause, "sqlstate", None) or ""
    message = str(original).lower()
    if state in SCHEMA_MISMATCH_STATES or (
        isinstance(exc, OperationalError)
        and any(part in message for part in SQLITE_SCHEMA_MISMATCH)
    ):
        return DatabaseUnavailableError(reason, wrong_schema=True)
    broken_file = type(exc) is DatabaseError and any(part in message for part in SQLITE_BROKEN_FILE)
    if (
        exc.connection_invalidated
        or isinstance(exc, OperationalError)
        or broken_file
        or state in UNAVAILABLE_STATES
        or state[:2] in UNAVAILABLE_STATES
    ):
        return DatabaseUnavailableError(reason)
    return None


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class ReportingUnavailable:
    """`session`, with any error that means the database cannot serve raised again as a
    `DatabaseUnavailableError` (the original as its cause).

    A class rather than an `@asynccontextmanager` generator around another one: every unit
    of work enters it, and the two generators cost 15 Python calls more per unit of work
    (tests/calls_per_order.py counts them)."""

    def __init__(self, session: AbstractAsyncContextManager[DbSession]) -> None:
        self.session = session

    async def __aenter__(self) -> DbSession:
        try:
            return await self.session.__aenter__()
        except Exception as exc:
            raise_as_unavailable(exc)
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: Any
    ) -> None:
        try:
            await self.session.__aexit__(kind, exc, traceback)
        except Exception as closing:  # the session could not end (a commit, a close)
            raise_as_unavailable(closing)
            raise
        if isinstance(exc, Exception):  # raised in the block: it goes on, or as a 503
            raise_as_unavailable(exc)


def raise_as_unavailable(exc: Exception) -> None:
    """Raise `DatabaseUnavailableError` from `exc` if `exc` says the database cannot
    serve; else return (the caller lets `exc` go on as it is)."""
    unavailable = unavailable_database(exc)
    if unavailable is not None:
        raise unavailable from exc


def open_database(url: str, metadata: MetaData) -> Database:
    """SQLite (tables created now) or PostgreSQL, any usual spelling, on asyncpg."""
    url = service_database_url(url, "La URL de la base de datos")
    if make_url(url).get_backend_name() == "sqlite":
        return _open_sqlite(url, metadata)
    return _open_postgresql(url)


def _open_sqlite(url: str, metadata: MetaData) -> Database:
    engine = create_sqlite_engine(url)
    metadata.create_all(engine)
    return as_database((engine, sessionmaker(engine, expire_on_commit=False)))


def _open_postgresql(url: str) -> Database:
    engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=0)
    ping_when_idle(engine.sync_engine, IDLE_BEFORE_PING_S)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    def session() -> AbstractAsyncContextManager[DbSession]:
        return ReportingUnavailable(sessions())

    return Database(session, engine.dispose)


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Before a pooled connection that sat unused for `idle_seconds` is handed out, check
    that the server still answers; if not, the pool opens a new one instead.

    A connection in steady use proves itself with every statement, and a broken one is
    thrown away with the whole pool on the first error (that request is a 503). A ping on
    every checkout (`pool_pre_ping`) costs three round-trips on asyncpg (BEGIN, a query,
    ROLLBACK): more than the statements of most requests. An idle connection is the one a
    restarted server, or a firewall, may have closed while nobody looked: that one is pinged.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned_at = record.info.get(RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool throws this connection away and checks out another (a new one).
            raise DisconnectionError(f"{type(exc).__name__}: {exc}") from exc


def as_database(opened: "Database | tuple[Any, sessionmaker[Session]]") -> Database:
    """A `Database` from what an app's opener returned: one already, or (as lab 6 writes
    it) a SQLite engine and its sessionmaker."""
    if isinstance(opened, Database):
        return opened
    engine, sessions = opened

    def session() -> AbstractAsyncContextManager[DbSession]:
        return ReportingUnavailable(SyncSession(sessions()))

    async def dispose() -> None:
        engine.dispose()

    return Database(session, dispose, sync_sessions=sessions)
