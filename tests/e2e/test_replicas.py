"""Two replicas of orders and two of items sharing their PostgreSQL databases.

200 concurrent orders on a stock of 50, sent round-robin to the two orders replicas (each
calling its own items replica), a quarter of them sent again with the same Idempotency-Key
to the other replica at the same time: exactly 50 orders are created, the stock ends at 0,
each key has one order, and both replicas' recovery and compensation tasks, running at once,
never give a unit back twice.
"""

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from microservicios.common.settings import Settings
from microservicios.items.main import create_app as create_items
from microservicios.labs.checks.support import served
from microservicios.orders.main import create_app as create_orders
from microservicios.users.main import create_app as create_users
from tests.helpers import (
    PATIENT,
    create_item,
    create_user,
    empty_postgres_tables,
    eventually,
    make_settings,
    service_token,
)

ORDERS = 200
STOCK = 50
CLIENT_TIMEOUT_S = 60.0
IN_PROGRESS_RETRY_S = 0.05


def settings_for(base: Settings, **urls: str) -> Settings:
    return base.model_copy(update={"service_urls": {**base.service_urls, **urls}})


@pytest.fixture
def base_settings(tmp_path, postgres_databases) -> Settings:  # noqa: ANN001
    empty_postgres_tables(postgres_databases)
    databases = {f"{s}_database_url": url for s, url in postgres_databases.items()}
    return make_settings(tmp_path, **PATIENT, **databases)


@pytest.fixture
def replicas(base_settings, log_records) -> Iterator[dict[str, list[str]]]:  # noqa: ANN001
    """users ×1, items ×2, orders ×2 (orders[i] calls items[i]), all on the same databases;
    the orders replicas log to `log_records`."""
    base = base_settings
    with contextlib.ExitStack() as stack:
        users = stack.enter_context(served(lambda: create_users(base)))
        items = [stack.enter_context(served(lambda: create_items(base))) for _ in range(2)]
        orders = [
            stack.enter_context(
                served(
                    lambda i=i: create_orders(
                        settings_for(base, users=users, items=items[i]),
                        log_sinks=[log_records.append],
                    ),
                )
            )
            for i in range(2)
        ]
        yield {"users": [users], "items": items, "orders": orders}


def place(url: str, body: dict, key: str) -> httpx.Response:
    """POST the order; while the other replica is still placing the same key (409 with
    Retry-After), ask again, as a client following the API would."""
    deadline = time.monotonic() + CLIENT_TIMEOUT_S
    with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
        while True:
            answer = http.post(f"{url}/orders/", json=body, headers={"Idempotency-Key": key})
            in_progress = answer.status_code == 409 and "Retry-After" in answer.headers
            if not in_progress or time.monotonic() > deadline:
                return answer
            time.sleep(IN_PROGRESS_RETRY_S)


def test_two_replicas_sell_exactly_the_stock_once_per_key(replicas):
    """50 created of 200, stock 0, one order per key, nothing released twice."""
    orders, items = replicas["orders"], replicas["items"]
    with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
        user = create_user(http, replicas["users"][0])
        item = create_item(http, items[0], stock=STOCK)
    body = {"user_id": user["id"], "item_sku": item["sku"], "qty": 1}

    calls = []
    for number in range(ORDERS):
        key = f"pedido-{number}"
        calls.append((orders[number % 2], key))
        if number % 4 == 0:  # the same request again, at the same time, on the other replica
            calls.append((orders[(number + 1) % 2], key))
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(lambda call: (call[1], place(call[0], body, call[1])), calls))

    statuses = sorted({answer.status_code for _, answer in answers})
    assert set(statuses) <= {200, 201, 409}, statuses
    by_key: dict[str, set] = {}
    for key, answer in answers:
        outcome = answer.json().get("id") if answer.status_code in (200, 201) else "sin stock"
        by_key.setdefault(key, set()).add(outcome)
    assert all(len(outcomes) == 1 for outcomes in by_key.values())  # one answer per key
    created_ids = {next(iter(o)) for o in by_key.values() if next(iter(o)) != "sin stock"}
    assert len(created_ids) == STOCK

    def settled() -> bool:
        return all(httpx.get(f"{url}/health").json()["pending_releases"] == 0 for url in orders)

    assert eventually(settled, seconds=30)
    with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
        listed = http.get(f"{orders[0]}/orders/", params={"limit": 1000}).json()
        stock = http.get(f"{items[1]}/items/{item['id']}").json()["stock"]
    created = [order for order in listed if order["status"] == "CREATED"]
    assert len(created) == STOCK and {order["id"] for order in created} == created_ids
    assert stock == 0


def test_both_replicas_recover_an_orphan_and_release_it_once(
    replicas, base_settings, postgres_databases, log_records
):
    """A PENDING order whose placer died an hour ago (its unit reserved): both replicas'
    recovery runs every half second, yet it is recovered once and its unit comes back once."""
    import asyncio

    import asyncpg

    orders, items = replicas["orders"], replicas["items"]
    with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
        user = create_user(http, replicas["users"][0])
        item = create_item(http, items[0], stock=5)
        reserved = http.post(
            f"{items[1]}/items/internal/reserve",
            json={"reservation_id": "huerfana-1", "sku": item["sku"], "qty": 1},
            headers=service_token(base_settings),
        )
        assert reserved.status_code == 200, reserved.text

    async def insert_orphan() -> None:
        url = postgres_databases["orders"].replace("postgresql+asyncpg", "postgresql")
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                "INSERT INTO orders (user_id, item_sku, qty, status, reservation_id, "
                "release_pending, created_at) VALUES ($1, $2, 1, 'PENDING', 'huerfana-1', "
                "false, now() at time zone 'utc' - interval '1 hour')",
                user["id"],
                item["sku"],
            )
        finally:
            await connection.close()

    asyncio.run(insert_orphan())

    def stock() -> int:
        return httpx.get(f"{items[0]}/items/{item['id']}").json()["stock"]

    assert eventually(lambda: stock() == 5, seconds=30)
    time.sleep(1.5)  # three more rounds of both replicas' compensation: nothing changes
    assert stock() == 5
    recovered = [r for r in log_records if r["event"] == "order.recovered"]
    assert len(recovered) == 1
    [order] = httpx.get(f"{orders[1]}/orders/").json()
    assert (order["status"], order["id"]) == ("FAILED", recovered[0]["order_id"])
