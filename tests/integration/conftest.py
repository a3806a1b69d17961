"""One app at a time, served in-process by Starlette's TestClient (its lifespan runs)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from microservicios.items.main import create_app as create_items
from microservicios.orders.main import create_app as create_orders
from microservicios.users.main import create_app as create_users
from tests import helpers


@pytest.fixture(params=helpers.DATABASES)
def settings(request, tmp_path, nowhere):  # noqa: ANN001, ANN201
    """Each integration test runs twice: on SQLite files, and on PostgreSQL."""
    base = helpers.make_settings(tmp_path, **helpers.dependencies_at(nowhere))
    return helpers.settings_on(request.param, request, base)


@pytest.fixture
def users(settings, log_records) -> Iterator[TestClient]:
    with TestClient(create_users(settings, log_sinks=[log_records.append])) as client:
        yield client


@pytest.fixture
def items(settings, log_records) -> Iterator[TestClient]:
    with TestClient(create_items(settings, log_sinks=[log_records.append])) as client:
        yield client


@pytest.fixture
def orders(settings, log_records) -> Iterator[TestClient]:
    with TestClient(create_orders(settings, log_sinks=[log_records.append])) as client:
        yield client
