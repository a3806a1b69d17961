"""What `python -m microservicios.serve` checks of a service's database before it starts it.

In a deployment the migrations are a step of their own (a Kubernetes Job, a compose
one-shot) that runs once before the new version's replicas; a replica that found its
schema behind and went on would answer 500 to every request. So `serve` refuses, in one
line that names the command to run (see migrations/schema.py for the other ways to start).
"""

import asyncio
import sys

from alembic.migration import MigrationContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from microservicios.common.settings import Settings
from microservicios.database.advice import migrate_command
from microservicios.database.urls import UnsupportedDatabaseError
from microservicios.migrations import version_table
from microservicios.migrations.schema import is_behind, is_versioned, lag

CONNECT_TIMEOUT_S = 10.0  # a database that does not answer by then is /health/ready's to report


def exit_unless_database_is_ready(service: str) -> None:
    """Exit (status 1, one Spanish line on stderr) if `service`'s database URL is unusable
    or its schema is behind the code; return if it may start."""
    problem = database_problem(service)
    if problem is not None:
        sys.exit(f"Error: {problem}")


def database_problem(service: str) -> str | None:
    """Why `service` must not start, in Spanish; None if it may."""
    try:
        settings = Settings()  # what the service will read: the environment and .env
    except UnsupportedDatabaseError as refusal:
        return str(refusal)
    url = settings.database_url(service)
    if not is_versioned(service, url):
        return None
    try:
        current = asyncio.run(_revision_at(url, service))
    except (SQLAlchemyError, OSError, TimeoutError):
        return None  # not up yet: the service starts and /health/ready says 503 meanwhile
    if not is_behind(service, current):
        return None
    return (
        f"la base de datos de '{service}' está atrasada ({lag(service, current)}). Corré "
        f"antes {migrate_command(service)}, con la misma {service.upper()}_DATABASE_URL."
    )


async def _revision_at(url: str, service: str) -> str | None:
    engine = create_async_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_S})
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(
                    sync, opts={"version_table": version_table(service)}
                ).get_current_revision()
            )
    finally:
        await engine.dispose()
