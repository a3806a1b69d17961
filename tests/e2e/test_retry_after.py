"""Every 503 for a dependency that is down says when to come back (`Retry-After`), from the
very first one, before any breaker opens, and through the gateway as well."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from microservicios import Cluster
from tests.helpers import create_item, create_user, make_cluster, post_order

# A breaker that opens only after many failures: every 503 here comes from a closed circuit,
# the case that used to carry no Retry-After. Roomy timeouts so a busy machine is never
# mistaken for a dead service (a killed one refuses connections at once anyway).
CLOSED_CIRCUITS = {
    "breaker_failure_threshold": 100,
    "http_attempt_timeout": 5.0,
    "http_deadline": 10.0,
    "gateway_timeout": 20.0,
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = make_cluster(tmp_path, **CLOSED_CIRCUITS)
    running.start()
    yield running
    running.stop()


def assert_retry_after(response: httpx.Response, service: str) -> None:
    assert response.status_code == 503, response.text
    assert service in response.json()["detail"], response.text
    assert "Retry-After" in response.headers, f"503 sin Retry-After: {response.text}"
    assert int(response.headers["Retry-After"]) >= 1, response.headers["Retry-After"]


def breaker_state(http: httpx.Client, base: str, target: str) -> str:
    return http.get(f"{base}/health").json()["breakers"][target]["state"]


def test_first_order_with_items_killed_has_retry_after(cluster: Cluster, http: httpx.Client):
    """Items killed: the very first order (circuit still closed) is a 503 with Retry-After,
    straight from orders and through the gateway."""
    gateway, orders = cluster.url("gateway"), cluster.url("orders")
    user, item = create_user(http, gateway), create_item(http, gateway)

    cluster.kill("items")
    assert_retry_after(post_order(http, gateway, user["id"], item["sku"]), "items")
    assert_retry_after(post_order(http, orders, user["id"], item["sku"]), "items")
    assert breaker_state(http, orders, "items") == "closed"


def test_items_answering_500_gives_an_order_503_with_retry_after(
    cluster: Cluster, http: httpx.Client
):
    """Items alive but failing (every answer a 500): the order's 503 has Retry-After too."""
    gateway = cluster.url("gateway")
    user, item = create_user(http, gateway), create_item(http, gateway)

    cluster.inject("items", error_rate=1.0, status=500)
    assert_retry_after(post_order(http, gateway, user["id"], item["sku"]), "items")


def test_gateway_with_a_dead_service_answers_503_with_retry_after(
    cluster: Cluster, http: httpx.Client
):
    """Users killed: the gateway's first 503 for /users/… (its circuit closed) has Retry-After."""
    gateway = cluster.url("gateway")
    user = create_user(http, gateway)

    cluster.kill("users")
    assert_retry_after(http.get(f"{gateway}/users/{user['id']}"), "users")
    assert breaker_state(http, gateway, "users") == "closed"
