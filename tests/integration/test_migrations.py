"""Each service's Alembic history builds exactly the tables its models declare, on SQLite
and on PostgreSQL, and `python -m microservicios.migrate` applies it (again and again)."""

import asyncio
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from microservicios.items.main import create_app as create_items
from microservicios.migrations import SERVICES_WITH_DATABASE, metadata_of, upgrade, version_table
from tests.helpers import make_settings, port_of, service_token, subprocess_env

MIGRATE = [sys.executable, "-m", "microservicios.migrate"]


def version_opts(service: str) -> dict[str, str]:
    return {"version_table": version_table(service)}


def differences_sync(url: str, service: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=version_opts(service))
            return compare_metadata(context, metadata_of(service))
    finally:
        engine.dispose()


def differences_async(url: str, service: str) -> list:
    async def compare() -> list:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts=version_opts(service)),
                        metadata_of(service),
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


def test_three_services_on_one_postgres_database_keep_three_histories(postgres_url):
    """One hosted database for all: each service migrates its own tables, none looks done early."""
    for service in SERVICES_WITH_DATABASE:
        applied = upgrade(service, postgres_url)
        assert [script.revision for script in applied][:1] == ["0001"], service
    for service in SERVICES_WITH_DATABASE:
        own = set(metadata_of(service).tables)
        about_own_tables = [
            diff for diff in differences_async(postgres_url, service) if table_of(diff) in own
        ]
        assert about_own_tables == [], service
        assert upgrade(service, postgres_url) == [], f"{service} should already be up to date"


def table_of(diff: tuple | list) -> str | None:
    """The table an autogenerate difference is about (a table, an index, a column...)."""
    if isinstance(diff, list):  # changes to one column come as a list of modify_* tuples
        diff = diff[0]
    subject = diff[1] if diff[0].endswith(("_table", "_index")) else None
    if diff[0].endswith("_table"):
        return subject.name
    if diff[0].endswith("_index"):
        return subject.table.name
    return diff[2] if len(diff) > 2 else None


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
        "Base de datos de 'users': apliqué las migraciones 0001 y 0002 (estaba vacía; ahora "
        "está en la revisión 0002)."
    ]
    assert second == ["Base de datos de 'users' ya estaba al día (revisión 0002): no apliqué nada."]
    assert differences_sync(f"sqlite:///{(tmp_path / 'users.db').as_posix()}", "users") == []


def test_the_migrate_command_explains_an_unreachable_database(nowhere):
    """No server at that address: exit 1 and one Spanish line, no traceback."""
    port = port_of(nowhere)
    env = subprocess_env(USERS_DATABASE_URL=f"postgresql+asyncpg://nadie@127.0.0.1:{port}/nada")
    done = subprocess.run(MIGRATE + ["users"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: no se pudo conectar con la base de 'users'")
    assert "Traceback" not in done.stderr


def run_sql(url: str, *statements: str) -> list:
    """Run `statements` on the PostgreSQL database at `url`; the rows of the last one."""
    import asyncpg

    async def run() -> list:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            for statement in statements[:-1]:
                await connection.execute(statement)
            return [tuple(row) for row in await connection.fetch(statements[-1])]
        finally:
            await connection.close()

    return asyncio.run(run())


def new_row(service: str, n: int) -> str:
    """An INSERT of the `n`th row of the service's main table, answering its id."""
    return {
        "users": f"INSERT INTO users (name, email) VALUES ('Ana', 'ana{n}@example.com')",
        "items": f"INSERT INTO items (name, sku, stock) VALUES ('Lápiz', 'L-{n}', 1)",
        "orders": "INSERT INTO orders (user_id, item_sku, qty, status, reservation_id, "
        f"release_pending, created_at) VALUES (1, 'L-1', 1, 'CREATED', 'r-{n}', false, now())",
    }[service] + " RETURNING id"


@pytest.mark.parametrize("service", SERVICES_WITH_DATABASE)
def test_postgres_ids_go_past_32_bits_after_the_upgrade(postgres_url, service):
    """A database made by the first schema (32-bit ids) keeps its rows through the upgrade,
    and then hands out ids past 2**31 - 1, as far as the API's 2**53 - 1."""
    upgrade(service, postgres_url, "0001")
    [(first_id,)] = run_sql(postgres_url, new_row(service, 1))
    upgrade(service, postgres_url)
    last_32_bit_id = f"SELECT setval(pg_get_serial_sequence('{service}', 'id'), {2**31 - 1})"
    assert run_sql(postgres_url, last_32_bit_id, new_row(service, 2)) == [(2**31,)]
    assert run_sql(postgres_url, f"SELECT id FROM {service} ORDER BY id") == [
        (first_id,),
        (2**31,),
    ]


def test_an_upgraded_sqlite_file_keeps_its_rows_and_never_reuses_an_id(tmp_path):
    """A SQLite file of the first schema, brought to head, keeps its users, and from then on
    the next user never gets the id of the last one deleted. (Ids deleted before the upgrade
    are not on record anywhere: the count goes on from the highest id still there.)"""
    url = f"sqlite:///{(tmp_path / 'users.db').as_posix()}"
    upgrade("users", url, "0001")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for name in ("Ana", "Beto"):
                connection.exec_driver_sql(
                    f"INSERT INTO users (name, email) VALUES ('{name}', '{name}@example.com')"
                )
        upgrade("users", url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM users WHERE name = 'Beto'")
            connection.exec_driver_sql(
                "INSERT INTO users (name, email) VALUES ('Caro', 'caro@example.com')"
            )
            rows = connection.exec_driver_sql("SELECT id, name FROM users ORDER BY id").all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "Ana"), (3, "Caro")]


def test_a_release_past_32_bits_of_stock_lands_after_the_upgrade(postgres_url, tmp_path):
    """Stock left near 2**31 - 1 by the first schema (the issue's 2,147,000,000) with units
    still reserved: after the upgrade their release lands instead of failing for ever."""
    upgrade("items", postgres_url, "0001")
    run_sql(
        postgres_url,
        "INSERT INTO items (name, sku, stock) VALUES ('Lápiz', 'L-1', 2147000000)",
        "INSERT INTO reservations (id, item_id, qty, status) VALUES ('r-1', 1, 1000000, "
        "'reserved') RETURNING id",
    )
    upgrade("items", postgres_url)
    settings = make_settings(tmp_path, items_database_url=postgres_url)
    with TestClient(create_items(settings), raise_server_exceptions=False) as items:
        released = items.post(
            "/items/internal/release",
            json={"reservation_id": "r-1"},
            headers=service_token(settings),
        )
        assert released.status_code == 200, released.text
        assert items.get("/items/1").json()["stock"] == 2_148_000_000
