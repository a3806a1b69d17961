"""One app at a time, served in-process by Starlette's TestClient (its lifespan runs)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from microservicios.items.main import create_app as create_items
from microservicios.orders.main import create_app as create_orders
from microservicios.users.main import create_app as create_users


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
