"""Placing orders through the gateway of a running cluster."""

import asyncio
from collections import Counter

import httpx

from microservicios import Cluster


def stock(http, gateway, item):
    return http.get(f"{gateway}/items/{item['id']}").json()["stock"]


def order(http, gateway, user_id, sku, qty=1):
    return http.post(f"{gateway}/orders/", json={"user_id": user_id, "item_sku": sku, "qty": qty})


def test_order_happy_path(http, gateway, new_user, new_item):
    """A valid order is 201 CREATED, is stored, and takes its quantity from stock."""
    user, item = new_user(), new_item(stock=5)
    response = order(http, gateway, user["id"], item["sku"], qty=2)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "CREATED"
    assert (body["user_id"], body["item_sku"], body["qty"]) == (user["id"], item["sku"], 2)
    assert stock(http, gateway, item) == 3
    assert http.get(f"{gateway}/orders/{body['id']}").json() == body


def test_order_for_unknown_user_is_404_and_does_not_touch_stock(http, gateway, new_item):
    """An order for a user that does not exist is 404 in Spanish; stock stays the same."""
    item = new_item(stock=5)
    response = order(http, gateway, 987654321, item["sku"], qty=2)
    assert response.status_code == 404
    assert "No existe el usuario 987654321" in response.json()["detail"]
    assert stock(http, gateway, item) == 5


def test_order_for_deleted_user_is_404(http, gateway, new_user, new_item):
    """A user deleted before ordering cannot order."""
    user, item = new_user(), new_item(stock=5)
    http.delete(f"{gateway}/users/{user['id']}")
    assert order(http, gateway, user["id"], item["sku"]).status_code == 404
    assert stock(http, gateway, item) == 5


def test_order_for_unknown_sku_is_404(http, gateway, new_user):
    """An order for an SKU that does not exist is 404 naming the SKU."""
    user = new_user()
    response = order(http, gateway, user["id"], "NO-SUCH-SKU")
    assert response.status_code == 404
    assert "NO-SUCH-SKU" in response.json()["detail"]


def test_order_beyond_stock_is_409_and_stock_unchanged(http, gateway, new_user, new_item):
    """Ordering more than is left is a 409 in Spanish and takes nothing."""
    user, item = new_user(), new_item(stock=3)
    response = order(http, gateway, user["id"], item["sku"], qty=4)
    assert response.status_code == 409
    assert "No hay stock suficiente" in response.json()["detail"]
    assert stock(http, gateway, item) == 3


def test_order_with_qty_zero_is_422(http, gateway, new_user, new_item):
    """qty must be at least 1."""
    user, item = new_user(), new_item(stock=3)
    response = order(http, gateway, user["id"], item["sku"], qty=0)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Datos no válidos")
    assert stock(http, gateway, item) == 3


def test_refused_orders_never_show_as_created(http, gateway, new_user, new_item):
    """Refused orders (404, 409, 422) never appear as CREATED (nor stay PENDING)."""
    user, item = new_user(), new_item(stock=1)
    statuses = [
        order(http, gateway, 987654321, item["sku"]).status_code,
        order(http, gateway, user["id"], "NO-SUCH-SKU").status_code,
        order(http, gateway, user["id"], item["sku"], qty=2).status_code,
        order(http, gateway, user["id"], item["sku"], qty=0).status_code,
    ]
    assert statuses == [404, 404, 409, 422]
    listed = http.get(f"{gateway}/orders/", params={"limit": 1000}).json()
    mine = [o for o in listed if o["user_id"] in (user["id"], 987654321)]
    assert [o for o in mine if o["status"] in ("CREATED", "PENDING")] == []
    assert stock(http, gateway, item) == 1


async def _place_concurrently(url: str, body: dict, total: int, in_flight: int) -> list:
    limit = asyncio.Semaphore(in_flight)
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:

        async def one() -> tuple[int | str, str]:
            async with limit:
                try:
                    response = await client.post(url, json=body)
                except httpx.HTTPError as exc:
                    return type(exc).__name__, ""
                detail = "" if response.status_code in (201, 409) else response.text
                return response.status_code, detail

        return await asyncio.gather(*(one() for _ in range(total)))


# This test is about stock under concurrency, not about timeouts. Here the four services
# and the test's own client share one process (one GIL), so with 50 orders in flight a
# call can wait in a queue longer than the classroom default of 1 s: give it room.
PATIENT = {"http_attempt_timeout": 10.0, "http_deadline": 20.0, "gateway_timeout": 30.0}


def test_concurrent_orders_never_oversell(tmp_path, unique_email, unique_sku):
    """200 simultaneous orders for 50 units: exactly 50 are 201, 150 are 409, none fail."""
    with Cluster(ports="auto", data_dir=tmp_path, settings=PATIENT) as cluster:
        _oversell_scenario(cluster, unique_email, unique_sku)


def _oversell_scenario(cluster, unique_email, unique_sku):
    gateway = cluster.url("gateway")
    with httpx.Client(timeout=10.0) as http:
        user = http.post(f"{gateway}/users/", json={"name": "Ana", "email": unique_email()})
        sku = unique_sku()
        item = http.post(f"{gateway}/items/", json={"name": "Oferta", "sku": sku, "stock": 50})
        body = {"user_id": user.json()["id"], "item_sku": sku, "qty": 1}

        statuses = asyncio.run(_place_concurrently(f"{gateway}/orders/", body, 200, 50))

        final_stock = http.get(f"{gateway}/items/{item.json()['id']}").json()["stock"]
        stored = http.get(f"{gateway}/orders/", params={"limit": 1000}).json()
    counts = Counter(status for status, _ in statuses)
    unexpected = Counter(detail for _, detail in statuses if detail)
    assert counts == {201: 50, 409: 150}, (
        f"statuses seen: {dict(counts)}; other answers: {dict(unexpected)}"
    )
    assert final_stock == 0
    assert [o["status"] for o in stored].count("CREATED") == 50
    assert [o for o in stored if o["status"] == "PENDING"] == []
