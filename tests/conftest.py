"""Shared fixtures: settings for one app, a real in-process cluster, unique test data.

Plain helper functions live in tests/helpers.py; nothing imports from this file.
"""

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from microservicios import Cluster
from microservicios.common.settings import URL_VARIABLE_SUFFIX, Settings
from microservicios.telemetry.logs import LogRecord
from tests import helpers


@pytest.fixture(scope="session", autouse=True)
def _clean_settings_env() -> Iterator[None]:
    """Remove every variable Settings would read (SERVICE_SECRET, HTTP_*...), for the whole
    session, so a developer's shell cannot leak into the tests or the processes they start."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.lower() in Settings.model_fields or name.lower().endswith(URL_VARIABLE_SUFFIX):
                patch.delenv(name)
        yield


@pytest.fixture(scope="session")
def nowhere() -> Iterator[str]:
    """The URL of a loopback port that refuses connections for the whole session.

    The socket is bound (so no one else gets the port) but never listens: a connection to it
    is refused at once, whatever else runs on this machine.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def settings(tmp_path: Path, nowhere: str) -> Settings:
    """Settings whose databases live in this test's tmp_path; other services unreachable."""
    return helpers.make_settings(tmp_path, **helpers.dependencies_at(nowhere))


@pytest.fixture
def log_records() -> list[LogRecord]:
    """A list the apps under test append their log records to (use `log_records.append`)."""
    return []


@pytest.fixture
def unique_email() -> Callable[[], str]:
    return helpers.unique_email


@pytest.fixture
def unique_sku() -> Callable[[], str]:
    return helpers.unique_sku


@pytest.fixture(scope="session", params=helpers.DATABASES)
def cluster(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:  # noqa: ANN001
    """One running cluster shared by the tests that only add data (never kill services);
    once on SQLite files, once on PostgreSQL databases of its own."""
    # Its tests check answers, never timing, and some send many requests at once: PATIENT
    # timeouts keep a busy machine from turning a slow call into a 503.
    with helpers.patient_cluster(tmp_path_factory.mktemp("cluster"), request.param) as running:
        yield running


@pytest.fixture(params=helpers.DATABASES)
def fresh_cluster(request, tmp_path: Path) -> Iterator[Cluster]:  # noqa: ANN001
    """A cluster of this test's own, for tests that kill, revive or stop services (on
    SQLite, and on the session's PostgreSQL databases, emptied first)."""
    databases = {}
    if request.param == "postgresql":
        urls = request.getfixturevalue("postgres_databases")
        helpers.empty_postgres_tables(urls)
        databases = {f"{service}_database_url": url for service, url in urls.items()}
    running = helpers.make_cluster(tmp_path / "cluster", **databases)
    running.start()
    try:
        yield running
    finally:
        helpers.settle_and_stop(running)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client for the clusters' loopback ports (waits longer than any gateway)."""
    with httpx.Client(timeout=helpers.PATIENT_CLIENT_TIMEOUT_S) as client:
        yield client


@pytest.fixture
def gateway(cluster: Cluster) -> str:
    return cluster.url("gateway")


@pytest.fixture
def new_user(http: httpx.Client, gateway: str) -> Callable[..., dict]:
    """Create a user through the shared cluster's gateway and return it."""
    return lambda name="Ana": helpers.create_user(http, gateway, name=name)


@pytest.fixture
def new_item(http: httpx.Client, gateway: str) -> Callable[..., dict]:
    """Create an item through the shared cluster's gateway and return it."""
    return lambda stock=10, name="Lápiz": helpers.create_item(http, gateway, stock=stock, name=name)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own on the local server (dropped at the end), as
    a `postgresql+asyncpg://` URL. Skipped where no server answers, unless CI is set."""
    url = helpers.create_postgres_database()
    try:
        yield url
    finally:
        helpers.drop_postgres_database(url)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[dict[str, str]]:
    """users', items' and orders' databases on the local PostgreSQL, migrated, for the
    whole session (tests empty them: `empty_postgres_tables`)."""
    urls = helpers.postgres_service_databases()
    try:
        yield urls
    finally:
        for url in urls.values():
            helpers.drop_postgres_database(url)


@pytest.fixture(params=helpers.DATABASES)
def databases(request) -> dict[str, str]:  # noqa: ANN001
    """Settings overrides that put a cluster's three databases on SQLite files (none) or on
    the session's PostgreSQL databases (emptied): the test runs once with each."""
    if request.param == "sqlite":
        return {}
    urls = request.getfixturevalue("postgres_databases")
    helpers.empty_postgres_tables(urls)
    return {f"{service}_database_url": url for service, url in urls.items()}
