"""Shared fixtures: settings for one app, a real in-process cluster, unique test data."""

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from microservicios import Cluster
from microservicios.common.logs import LogRecord
from microservicios.common.settings import Settings

# An address where nothing listens: the discard port on loopback refuses connections.
NOWHERE = "http://127.0.0.1:9"

# Environment variables that Settings reads; cleared so a developer's shell cannot leak in.
SETTINGS_ENV = (
    "SERVICE_SECRET",
    "USERS_SERVICE_URL",
    "ITEMS_SERVICE_URL",
    "ORDERS_SERVICE_URL",
    "DATA_DIR",
    "USERS_DATABASE_URL",
    "ITEMS_DATABASE_URL",
    "ORDERS_DATABASE_URL",
    "LOG_LEVEL",
    "HTTP_CONNECT_TIMEOUT",
    "HTTP_ATTEMPT_TIMEOUT",
)


@pytest.fixture(autouse=True)
def _clean_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)


def make_settings(data_dir: Path, **overrides) -> Settings:
    """Settings for tests: no .env file, every dependency pointing nowhere unless overridden."""
    values = {
        "data_dir": data_dir,
        "users_service_url": NOWHERE,
        "items_service_url": NOWHERE,
        "orders_service_url": NOWHERE,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose databases live in this test's tmp_path; other services unreachable."""
    return make_settings(tmp_path)


@pytest.fixture
def log_records() -> list[LogRecord]:
    """A list the apps under test append their log records to (use `log_records.append`)."""
    return []


@pytest.fixture
def unique_email() -> Callable[[], str]:
    return lambda: f"u-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def unique_sku() -> Callable[[], str]:
    return lambda: f"SKU-{uuid.uuid4().hex[:12]}"


def settle_and_stop(cluster: Cluster) -> None:
    """Stop `cluster` once orders has no stock release pending (bounded wait), so that the
    compensation task is not cut off mid-call and the next test starts from a quiet system.
    """
    deadline = time.monotonic() + 5
    try:
        if cluster.status().get("orders") and cluster.status().get("items"):
            with httpx.Client(timeout=2.0) as http:
                while time.monotonic() < deadline:
                    health = http.get(f"{cluster.url('orders')}/health").json()
                    if not health.get("pending_releases"):
                        break
                    time.sleep(0.05)
    except (httpx.HTTPError, ValueError):
        pass
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One running cluster shared by the tests that only add data (never kill services)."""
    running = Cluster(ports="auto", data_dir=tmp_path_factory.mktemp("cluster"))
    running.start()
    try:
        yield running
    finally:
        settle_and_stop(running)


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A cluster of this test's own, for tests that kill, revive or stop services."""
    running = Cluster(ports="auto", data_dir=tmp_path / "cluster")
    running.start()
    try:
        yield running
    finally:
        settle_and_stop(running)


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client for the cluster's loopback ports."""
    with httpx.Client(timeout=10.0) as client:
        yield client


@pytest.fixture
def gateway(cluster: Cluster) -> str:
    return cluster.url("gateway")


@pytest.fixture
def new_user(http: httpx.Client, gateway: str, unique_email) -> Callable[..., dict]:
    """Create a user through the shared cluster's gateway and return it."""

    def create(name: str = "Ana") -> dict:
        response = http.post(f"{gateway}/users/", json={"name": name, "email": unique_email()})
        assert response.status_code == 201, response.text
        return response.json()

    return create


@pytest.fixture
def new_item(http: httpx.Client, gateway: str, unique_sku) -> Callable[..., dict]:
    """Create an item through the shared cluster's gateway and return it."""

    def create(stock: int = 10, name: str = "Lápiz") -> dict:
        response = http.post(
            f"{gateway}/items/", json={"name": name, "sku": unique_sku(), "stock": stock}
        )
        assert response.status_code == 201, response.text
        return response.json()

    return create
