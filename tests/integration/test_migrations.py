"""Each service's Alembic history builds exactly the tables its models declare, on SQLite
and on PostgreSQL, and `python -m microservicios.migrate` applies it (again and again)."""

import asyncio
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from microservicios.migrations import SERVICES_WITH_DATABASE, metadata_of, upgrade
from tests.helpers import port_of, subprocess_env

MIGRATE = [sys.executable, "-m", "microservicios.migrate"]


def differences_sync(url: str, service: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), metadata_of(service))
    finally:
        engine.dispose()


def differences_async(url: str, service: str) -> list:
    async def compare() -> list:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync), metadata_of(service)
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


@pytest.mark.parametrize("service", SERVICES_WITH_DATABASE)
def test_sqlite_migrations_build_the_models_tables(tmp_path, service):
    """An empty SQLite file brought to head has the models' tables, columns, indexes and
    constraints: nothing for autogenerate to add."""
    url = f"sqlite:///{(tmp_path / f'{service}.db').as_posix()}"
    upgrade(service, url)
    assert differences_sync(url, service) == []


@pytest.mark.parametrize("service", SERVICES_WITH_DATABASE)
def test_postgres_migrations_build_the_models_tables(postgres_url, service):
    """The same on PostgreSQL, through the async driver a deployment uses."""
    upgrade(service, postgres_url)
    assert differences_async(postgres_url, service) == []


def test_an_unmigrated_database_differs_from_the_models(tmp_path):
    """The comparison sees a missing table (so the tests above can fail)."""
    url = f"sqlite:///{(tmp_path / 'orders.db').as_posix()}"
    upgrade("items", url)  # the wrong history: no orders table
    assert differences_sync(url, "orders") != []


def test_the_migrate_command_can_run_twice(tmp_path):
    """A deployment step may run again: the first run says what it applied, the second
    changes nothing, says so, and still exits 0."""
    env = subprocess_env(DATA_DIR=str(tmp_path))
    runs = [
        subprocess.run(MIGRATE + ["users"], env=env, capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    assert [done.returncode for done in runs] == [0, 0], [done.stderr for done in runs]
    first, second = (done.stdout.strip().splitlines() for done in runs)
    assert first == [
        "Base de datos de 'users' migrada de (vacía) a 0001. Apliqué:",
        "  0001 initial schema",
    ]
    assert second == ["Base de datos de 'users' ya estaba al día (revisión 0001): no apliqué nada."]
    assert differences_sync(f"sqlite:///{(tmp_path / 'users.db').as_posix()}", "users") == []


def test_the_migrate_command_explains_an_unreachable_database(nowhere):
    """No server at that address: exit 1 and one Spanish line, no traceback."""
    port = port_of(nowhere)
    env = subprocess_env(USERS_DATABASE_URL=f"postgresql+asyncpg://nadie@127.0.0.1:{port}/nada")
    done = subprocess.run(MIGRATE + ["users"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: no se pudo conectar con la base de 'users'")
    assert "Traceback" not in done.stderr
