"""A database that cannot serve a request — unreachable, missing, or without the tables
the code expects — is a 503 in Spanish with Retry-After, never a 500 and a traceback."""

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from microservicios.items.main import create_app as create_items
from microservicios.migrations import upgrade
from microservicios.orders.main import create_app as create_orders
from microservicios.users.main import create_app as create_users
from tests import helpers

FACTORIES = {"users": create_users, "items": create_items, "orders": create_orders}
# Requests that each need the service's own database (orders reaches it before calling
# users or items, which point nowhere here).
REQUESTS = {
    "users": [
        ("GET", "/users/", None),
        ("GET", "/users/1", None),
        ("POST", "/users/", {"name": "Ana", "email": "ana@example.com"}),
    ],
    "items": [
        ("GET", "/items/", None),
        ("POST", "/items/", {"name": "Lápiz", "sku": "L-1", "stock": 3}),
    ],
    "orders": [
        ("GET", "/orders/", None),
        ("GET", "/orders/1", None),
        ("POST", "/orders/", {"user_id": 1, "item_sku": "L-1", "qty": 1}),
    ],
}
# A column each service's routes read, dropped to make a schema the code does not expect.
DROPPED = {"users": ("users", "name"), "items": ("items", "name"), "orders": ("orders", "status")}
UNAVAILABLE = "La base de datos no está disponible en este momento; reintentá."
POSTGRES_SCHEMA = (
    "La base de datos no tiene el esquema esperado: corré python -m microservicios.migrate {}."
)
SQLITE_SCHEMA = "La base de datos no tiene el esquema esperado"


@pytest.fixture
def app_of(tmp_path, nowhere, log_records):  # noqa: ANN001, ANN201
    """`app_of(service, url)`: an app of `service` whose database is at `url` (by default
    its SQLite file in tmp_path), logging to `log_records`."""

    def build(service: str, url: str | None = None):  # noqa: ANN202
        database = {f"{service}_database_url": url} if url else {}
        settings = helpers.make_settings(tmp_path, **helpers.dependencies_at(nowhere), **database)
        return FACTORIES[service](settings, log_sinks=[log_records.append])

    return build


@pytest.fixture
def app_on(app_of) -> Iterator:  # noqa: ANN001
    """`app_on(service, url)`: a running app of `service` (a TestClient) on that database."""
    with ExitStack() as running:

        def start(service: str, url: str | None = None) -> TestClient:
            client = TestClient(app_of(service, url), raise_server_exceptions=False)
            return running.enter_context(client)

        yield start


def errors_in(log_records) -> list[dict]:  # noqa: ANN001
    return [record for record in log_records if record["level"] == "ERROR"]


def assert_503(client: TestClient, service: str, detail: str, log_records, capfd) -> None:  # noqa: ANN001
    """Every request of `service` that needs its database: 503 with `detail` and a
    Retry-After; one ERROR record each, and no traceback printed."""
    capfd.readouterr()
    for method, path, body in REQUESTS[service]:
        before = len(errors_in(log_records))
        answer = client.request(method, path, json=body)
        assert answer.status_code == 503, (method, path, answer.status_code, answer.text)
        assert answer.json()["detail"].startswith(detail), answer.json()
        assert int(answer.headers["Retry-After"]) >= 1
        assert len(errors_in(log_records)) == before + 1, errors_in(log_records)[before:]
    printed = capfd.readouterr()
    assert "Traceback" not in printed.out + printed.err


@pytest.fixture
def missing_database() -> Iterator[str]:
    """The URL of a database that does not exist on a PostgreSQL server that answers."""
    url = helpers.create_postgres_database()
    helpers.drop_postgres_database(url)
    return url


@pytest.mark.parametrize("service", FACTORIES)
def test_postgres_nobody_listening_is_503(app_on, nowhere, service, log_records, capfd):
    """PostgreSQL at a port where nothing listens: the routes say 503, as readiness does."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{helpers.port_of(nowhere)}/nada"
    client = app_on(service, url)
    assert_503(client, service, UNAVAILABLE, log_records, capfd)
    assert client.get("/health/ready").status_code == 503
    reasons = [record.get("reason", "") for record in errors_in(log_records)]
    assert all("ConnectionRefusedError" in reason for reason in reasons), reasons


@pytest.mark.parametrize("service", FACTORIES)
def test_postgres_database_missing_is_503(app_on, missing_database, service, log_records, capfd):
    """The server answers but the database was never created: 503, its name in the log."""
    client = app_on(service, missing_database)
    assert_503(client, service, UNAVAILABLE, log_records, capfd)
    name = missing_database.rsplit("/", 1)[1]
    assert all(name in record["reason"] for record in errors_in(log_records))


def test_orders_health_reports_a_database_that_does_not_answer(app_on, nowhere):
    """orders' /health (which counts pending releases in its database) still answers."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{helpers.port_of(nowhere)}/nada"
    answer = app_on("orders", url).get("/health")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "error"
    assert answer.json()["detail"] == "La base de datos del servicio no responde."


def drop_postgres_column(url: str, table: str, column: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.mark.parametrize("service", FACTORIES)
def test_postgres_column_dropped_is_503_naming_migrate(
    app_on, postgres_url, service, log_records, capfd
):
    """A migrated database with a column gone: 503 that names the migrate command, and one
    ERROR record that names the column."""
    upgrade(service, postgres_url)
    table, column = DROPPED[service]
    drop_postgres_column(postgres_url, table, column)
    client = app_on(service, postgres_url)
    assert_503(client, service, POSTGRES_SCHEMA.format(service), log_records, capfd)
    for record in errors_in(log_records):
        assert record["event"] == "database.schema_mismatch"
        assert column in record["reason"], record


def test_orders_health_with_a_column_dropped_is_not_500(app_on, postgres_url):
    """orders' /health reads its table: with a column gone it says so instead of a 500."""
    upgrade("orders", postgres_url)
    drop_postgres_column(postgres_url, "orders", "release_pending")
    answer = app_on("orders", postgres_url).get("/health")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "error"
    assert answer.json()["detail"] == POSTGRES_SCHEMA.format("orders")


@pytest.mark.parametrize("service", FACTORIES)
def test_sqlite_column_dropped_is_503_about_the_schema(
    app_of, app_on, tmp_path, service, log_records, capfd
):
    """A SQLite file whose table lost a column (a file of another version): 503 that says
    the schema is not the expected one (not «reintentá»: waiting will not fix it)."""
    with TestClient(app_of(service)):
        pass  # creates the file with today's tables
    table, column = DROPPED[service]
    with sqlite3.connect(tmp_path / f"{service}.db") as connection:
        indexes = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE ?",
            (f"%{table} ({column})%",),
        ).fetchall()
        for (index,) in indexes:
            connection.execute(f"DROP INDEX {index}")
        connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    client = app_on(service)
    assert_503(client, service, SQLITE_SCHEMA, log_records, capfd)
    assert all(column in record["reason"] for record in errors_in(log_records))
