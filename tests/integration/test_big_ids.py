"""Ids as large as the API allows (up to 2**53 - 1) are ids like any other, on SQLite and on
PostgreSQL: one that does not exist is a 404, never a 500 (PostgreSQL's columns were 32-bit,
and asyncpg refused 2**31 before the query reached the server)."""

import httpx
import pytest

from microservicios import Cluster
from microservicios.common.fields import MAX_ID

BIG_IDS = (2**31, MAX_ID)


def every_id_route(http: httpx.Client, cluster: Cluster, big_id: int) -> dict[str, int]:
    """The status of each public route that takes an id, called with `big_id`."""
    users, items, orders = (cluster.url(service) for service in ("users", "items", "orders"))
    calls = {
        "GET /users/{id}": lambda: http.get(f"{users}/users/{big_id}"),
        "PUT /users/{id}": lambda: http.put(f"{users}/users/{big_id}", json={"name": "Ana"}),
        "DELETE /users/{id}": lambda: http.delete(f"{users}/users/{big_id}"),
        "GET /items/{id}": lambda: http.get(f"{items}/items/{big_id}"),
        "PUT /items/{id}": lambda: http.put(f"{items}/items/{big_id}", json={"stock": 1}),
        "DELETE /items/{id}": lambda: http.delete(f"{items}/items/{big_id}"),
        "GET /orders/{id}": lambda: http.get(f"{orders}/orders/{big_id}"),
        "POST /orders/{id}/cancel": lambda: http.post(f"{orders}/orders/{big_id}/cancel"),
    }
    return {name: call().status_code for name, call in calls.items()}


@pytest.mark.parametrize("big_id", BIG_IDS)
def test_a_big_id_that_does_not_exist_is_not_found(cluster, http, big_id):
    """GET, PUT, DELETE (and cancel) with 2**31 or 2**53 - 1: 404 on every route."""
    statuses = every_id_route(http, cluster, big_id)
    assert statuses == dict.fromkeys(statuses, 404)
    assert len(statuses) == 8


@pytest.mark.parametrize("big_id", BIG_IDS)
def test_an_order_for_a_big_user_id_says_the_user_does_not_exist(cluster, http, new_item, big_id):
    """POST /orders/ with user_id 2**31: the users service is asked, and answers 404."""
    item = new_item(stock=5)
    response = http.post(
        f"{cluster.url('orders')}/orders/",
        json={"user_id": big_id, "item_sku": item["sku"], "qty": 1},
    )
    assert (response.status_code, response.json()["detail"]) == (
        404,
        f"No existe el usuario {big_id}.",
    )
