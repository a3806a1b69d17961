"""What every service's `env.py` runs: its migrations on a sync or an async engine.

SQLite URLs use the same engine setup as the service (private file, WAL); an async URL
(`postgresql+asyncpg://...`) runs the migrations on an async connection.
"""

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from microservicios.database.sqlite import create_sqlite_engine
from microservicios.migrations import metadata_of, version_table
from microservicios.migrations.unversioned import mark_if_current


def _migrate(connection: Connection, service: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata_of(service),
        version_table=version_table(service),
        on_version_apply=_record_applied,
    )
    attributes = context.config.attributes
    with context.begin_transaction():
        # Tables that create_all made (a cluster's SQLite file) have no revision on record.
        if attributes.get("mark_unversioned") and mark_if_current(
            connection, context.get_context(), context.script, service
        ):
            attributes["marked"] = True
        context.run_migrations()


def _record_applied(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    """Each migration applied goes to the list `upgrade()` returns (see __init__.py)."""
    applied = context.config.attributes.get("applied")
    if applied is not None and step.is_upgrade:
        applied.append(step.up_revision)


async def _migrate_async(url: str, service: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate, service)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations() -> None:
    config = context.config
    service = config.attributes["service"]
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None  # alembic_config() always sets it
    if make_url(url).get_dialect().is_async:
        asyncio.run(_migrate_async(url, service))
        return
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_sqlite_engine(url) if sqlite else create_engine(url)
    try:
        with engine.connect() as connection:
            _migrate(connection, service)
            connection.commit()
    finally:
        engine.dispose()
