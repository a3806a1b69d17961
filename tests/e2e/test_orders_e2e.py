"""Placing orders through the gateway of a running cluster."""

import asyncio
from collections import Counter

import httpx

from tests.helpers import (
    PATIENT,
    PATIENT_CLIENT_TIMEOUT_S,
    all_orders,
    create_item,
    create_user,
    make_cluster,
    post_order,
    stock_of,
)


def test_order_happy_path(http, gateway, new_user, new_item):
    """A valid order is 201 CREATED, is stored, and takes its quantity from stock."""
    user, item = new_user(), new_item(stock=5)
    response = post_order(http, gateway, user["id"], item["sku"], qty=2)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "CREATED"
    assert (body["user_id"], body["item_sku"], body["qty"]) == (user["id"], item["sku"], 2)
    assert stock_of(http, item["id"], base=gateway) == 3
    assert http.get(f"{gateway}/orders/{body['id']}").json() == body


def test_order_for_unknown_user_is_404_and_does_not_touch_stock(http, gateway, new_item):
    """An order for a user that does not exist is 404 in Spanish; stock stays the same."""
    item = new_item(stock=5)
    response = post_order(http, gateway, 987654321, item["sku"], qty=2)
    assert response.status_code == 404
    assert "No existe el usuario 987654321" in response.json()["detail"]
    assert stock_of(http, item["id"], base=gateway) == 5


def test_order_for_deleted_user_is_404(http, gateway, new_user, new_item):
    """A user deleted before ordering cannot order."""
    user, item = new_user(), new_item(stock=5)
    http.delete(f"{gateway}/users/{user['id']}")
    assert post_order(http, gateway, user["id"], item["sku"]).status_code == 404
    assert stock_of(http, item["id"], base=gateway) == 5


def test_order_for_unknown_sku_is_404(http, gateway, new_user):
    """An order for an SKU that does not exist is 404 naming the SKU."""
    user = new_user()
    response = post_order(http, gateway, user["id"], "NO-SUCH-SKU")
    assert response.status_code == 404
    assert "NO-SUCH-SKU" in response.json()["detail"]


def test_order_beyond_stock_is_409_and_stock_unchanged(http, gateway, new_user, new_item):
    """Ordering more than is left is a 409 in Spanish and takes nothing."""
    user, item = new_user(), new_item(stock=3)
    response = post_order(http, gateway, user["id"], item["sku"], qty=4)
    assert response.status_code == 409
    assert "No hay stock suficiente" in response.json()["detail"]
    assert stock_of(http, item["id"], base=gateway) == 3


def test_order_with_qty_zero_is_422(http, gateway, new_user, new_item):
    """qty must be at least 1."""
    user, item = new_user(), new_item(stock=3)
    response = post_order(http, gateway, user["id"], item["sku"], qty=0)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Datos no válidos")
    assert stock_of(http, item["id"], base=gateway) == 3


def test_refused_orders_never_show_as_created(http, gateway, new_user, new_item):
    """Refused orders (404, 409, 422) never appear as CREATED (nor stay PENDING)."""
    user, item = new_user(), new_item(stock=1)
    statuses = [
        post_order(http, gateway, 987654321, item["sku"]).status_code,
        post_order(http, gateway, user["id"], "NO-SUCH-SKU").status_code,
        post_order(http, gateway, user["id"], item["sku"], qty=2).status_code,
        post_order(http, gateway, user["id"], item["sku"], qty=0).status_code,
    ]
    assert statuses == [404, 404, 409, 422]
    # The three refused after validation are kept as FAILED; the 422 is never stored.
    mine = [
        o
        for o in all_orders(http, gateway)
        if o["user_id"] == user["id"] or o["item_sku"] == item["sku"]
    ]
    assert [o["status"] for o in mine] == ["FAILED"] * 3
    assert stock_of(http, item["id"], base=gateway) == 1


async def _place_concurrently(url: str, body: dict, total: int, in_flight: int) -> list:
    limit = asyncio.Semaphore(in_flight)
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(timeout=PATIENT_CLIENT_TIMEOUT_S, limits=limits) as client:

        async def one() -> tuple[int | str, str]:
            async with limit:
                try:
                    response = await client.post(url, json=body)
                except httpx.HTTPError as exc:
                    return type(exc).__name__, ""
                detail = "" if response.status_code in (201, 409) else response.text
                return response.status_code, detail

        return await asyncio.gather(*(one() for _ in range(total)))


def test_concurrent_orders_never_oversell(tmp_path, databases):
    """200 simultaneous orders for 50 units: exactly 50 are 201, 150 are 409, none fail."""
    # This test is about stock under concurrency, not about timeouts: with 50 orders in
    # flight and the four services in this one process, a call can wait in a queue far
    # longer than the classroom defaults on a busy machine (once, 8 connect timeouts opened
    # orders' breaker and 145 orders got 503). PATIENT gives every timeout room and keeps
    # the breaker closed, so the counts depend on the stock logic only.
    with make_cluster(tmp_path, **PATIENT, **databases) as cluster:
        gateway = cluster.url("gateway")
        with httpx.Client(timeout=PATIENT_CLIENT_TIMEOUT_S) as http:
            user, item = create_user(http, gateway), create_item(http, gateway, stock=50)
            body = {"user_id": user["id"], "item_sku": item["sku"], "qty": 1}

            statuses = asyncio.run(_place_concurrently(f"{gateway}/orders/", body, 200, 50))

            final_stock = stock_of(http, item["id"], base=gateway)
            stored = all_orders(http, gateway)
    counts = Counter(status for status, _ in statuses)
    unexpected = Counter(detail for _, detail in statuses if detail)
    assert counts == {201: 50, 409: 150}, (
        f"statuses seen: {dict(counts)}; other answers: {dict(unexpected)}"
    )
    assert final_stock == 0
    assert Counter(o["status"] for o in stored) == {"CREATED": 50, "FAILED": 150}
