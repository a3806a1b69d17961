"""Where a service's PostgreSQL schema stands against the code's newest migration, and what
each way of starting a service does about it.

- A service's lifespan (the cluster of a class, in threads or with --processes; uvicorn by
  hand) applies the migrations its database lacks before it takes requests: a class pointed
  at an empty database just works, as it does with SQLite files.
- `python -m microservicios.serve`, the container way, refuses to start instead
  (`serve/schema_check.py`): in a deployment the migrations are a step of their own, run
  once before the new version's replicas start, never by every replica at once.
- /health/ready is 503 while the schema is behind, whatever started the service.

SQLite databases are not versioned: their tables are created when opened (`create_all`).
A revision this code does not know (a newer version migrated the database) is not
"behind": old replicas keep serving during a rolling update.
"""

import asyncio
from functools import cache

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from microservicios.database.sessions import Database, DatabaseUnavailableError
from microservicios.migrations import HISTORIES, SERVICES_WITH_DATABASE, upgrade, version_table
from microservicios.telemetry.events import DATABASE_MIGRATED, DATABASE_SCHEMA_UNKNOWN
from microservicios.telemetry.logs import EventLogger


@cache  # the history is the code's own files: it cannot change while the process runs
def _history(service: str) -> tuple[str, frozenset[str]]:
    """(the newest revision, every revision) of `service`'s migrations."""
    from alembic.script import ScriptDirectory  # only for PostgreSQL (see __init__.py)

    scripts = ScriptDirectory(str(HISTORIES / service))
    revisions = frozenset(script.revision for script in scripts.walk_revisions())
    return scripts.get_current_head() or "", revisions


def is_versioned(service: str, url: str) -> bool:
    """Whether `service`'s database at `url` follows a migration history: PostgreSQL, and
    a service that has one (a service added in lab 6 does not)."""
    return service in SERVICES_WITH_DATABASE and make_url(url).get_backend_name() == "postgresql"


def head_revision(service: str) -> str:
    return _history(service)[0]


def is_behind(service: str, current: str | None) -> bool:
    """True for an empty database and for an older revision of this code's history."""
    head, known = _history(service)
    return current is None or (current != head and current in known)


def lag(service: str, current: str | None) -> str:
    """Where the schema is, in Spanish: 'en la revisión 0001; el código necesita la 0002'."""
    where = f"en la revisión {current}" if current else "sin ninguna migración"
    return f"{where}; el código necesita la {head_revision(service)}"


async def current_revision(session: AsyncSession, service: str) -> str | None:
    """The revision `service`'s PostgreSQL database is at; None if never migrated."""
    from alembic.migration import MigrationContext  # only for PostgreSQL (see __init__.py)

    def read(sync_session: Session) -> str | None:
        context = MigrationContext.configure(
            sync_session.connection(), opts={"version_table": version_table(service)}
        )
        return context.get_current_revision()

    return await session.run_sync(read)


async def schema_lag(service: str, url: str, database: Database) -> str | None:
    """`lag(...)` if `service`'s database is behind the code, else None (and always None
    for a database that is not versioned). Database errors reach the caller."""
    if not is_versioned(service, url):
        return None
    async with database.session() as session:
        current = await current_revision(session, service)  # type: ignore[arg-type]
    return lag(service, current) if is_behind(service, current) else None


async def migrate_at_start(service: str, url: str, database: Database, logger: EventLogger) -> None:
    """Apply the migrations `service`'s PostgreSQL database lacks, as the service starts.

    A database that does not answer yet is left alone: the service starts, /health/ready
    says 503, as it always has with a database down.
    """
    if not is_versioned(service, url):
        return
    try:
        async with database.session() as session:
            current = await current_revision(session, service)  # type: ignore[arg-type]
    except (DatabaseUnavailableError, SQLAlchemyError, OSError) as exc:
        logger.warning(DATABASE_SCHEMA_UNKNOWN, error=f"{type(exc).__name__}: {exc}")
        return
    if not is_behind(service, current):
        return
    # Alembic runs its own event loop (environment.py): on a thread, not on this one.
    applied = await asyncio.to_thread(upgrade, service, url)
    logger.info(
        DATABASE_MIGRATED,
        from_revision=current,
        to_revision=head_revision(service),
        applied=[script.revision for script in applied],
    )
