"""Lost updates on items, through the gateway: clients that GET an item and PUT it back
while orders reserve its stock. With If-Match, a PUT based on a stale read is refused (412)
instead of writing back the stock it read, so no unit appears from nothing."""

import asyncio
from collections import Counter
from dataclasses import dataclass, field

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

INITIAL_STOCK = 100
ORDERS = 60
ORDERS_AT_ONCE = 6
EDITORS = 10
STALE = "El ítem cambió desde que lo leíste"


def test_etag_and_if_match_cross_the_gateway(http, cluster, new_user, new_item):
    """The gateway passes the ETag out and If-Match in: a PUT from before an order is 412."""
    gateway, items = cluster.url("gateway"), cluster.url("items")
    user, item = new_user(), new_item(stock=5)
    url = f"{gateway}/items/{item['id']}"
    read = http.get(url)
    assert read.headers["ETag"] == http.get(f"{items}/items/{item['id']}").headers["ETag"]
    assert post_order(http, gateway, user["id"], item["sku"], qty=2).status_code == 201

    stale = http.put(url, json={"stock": 5}, headers={"If-Match": read.headers["ETag"]})
    assert stale.status_code == 412, stale.text
    assert STALE in stale.json()["detail"]
    fresh = http.get(url)
    assert fresh.json()["stock"] == 3
    changed = http.put(url, json={"stock": 4}, headers={"If-Match": fresh.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == http.get(url).headers["ETag"] != fresh.headers["ETag"]


@dataclass
class Progress:
    """How many orders have been answered; editors wait on `changed` for the next one."""

    answered: int = 0
    done: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def one_more(self, *, last: bool = False) -> None:
        async with self.changed:
            self.answered += 1
            self.done = self.done or last
            self.changed.notify_all()

    async def next_answer(self, seen: int) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: self.answered > seen or self.done)


@dataclass
class Edits:
    """What the editors saw: the status of each PUT, and GETs that came without an ETag."""

    statuses: Counter = field(default_factory=Counter)
    without_etag: int = 0


async def place_orders(client: httpx.AsyncClient, body: dict, progress: Progress) -> Counter:
    limit = asyncio.Semaphore(ORDERS_AT_ONCE)

    async def one() -> int:
        async with limit:
            response = await client.post("/orders/", json=body)
            await progress.one_more()
            return response.status_code

    try:
        return Counter(await asyncio.gather(*(one() for _ in range(ORDERS))))
    finally:
        await progress.one_more(last=True)


async def edit(
    client: httpx.AsyncClient, path: str, progress: Progress, edits: Edits, *, if_match: bool
) -> None:
    """GET the item, wait until one more order is answered, PUT back the name, SKU and stock
    read (with If-Match: the ETag read); again until the orders are done, then once more."""
    while True:
        finished, seen = progress.done, progress.answered
        read = await client.get(path)
        assert read.status_code == 200, read.text
        etag = read.headers.get("ETag")
        edits.without_etag += etag is None
        if not finished:
            await progress.next_answer(seen)
        body = {key: read.json()[key] for key in ("name", "sku", "stock")}
        headers = {"If-Match": etag} if if_match and etag else {}
        put = await client.put(path, json=body, headers=headers)
        edits.statuses[put.status_code] += 1
        if finished:
            return


async def orders_while_editing(gateway: str, user_id: int, item: dict, *, if_match: bool):  # noqa: ANN201
    """The orders' statuses and the editors' `Edits`, all run at the same time."""
    progress, edits = Progress(), Edits()
    body = {"user_id": user_id, "item_sku": item["sku"], "qty": 1}
    async with httpx.AsyncClient(base_url=gateway, timeout=PATIENT_CLIENT_TIMEOUT_S) as client:
        path = f"/items/{item['id']}"
        editors = [edit(client, path, progress, edits, if_match=if_match) for _ in range(EDITORS)]
        orders, *_ = await asyncio.gather(place_orders(client, body, progress), *editors)
    return orders, edits


def test_editors_with_if_match_create_no_stock_while_orders_reserve(tmp_path, databases):
    """10 clients GET-then-PUT the item (with If-Match) while 60 orders reserve: the stock
    left plus what the orders hold is exactly the initial stock; stale PUTs got 412."""
    with make_cluster(tmp_path, **PATIENT, **databases) as cluster:
        gateway = cluster.url("gateway")
        with httpx.Client(timeout=PATIENT_CLIENT_TIMEOUT_S) as http:
            user = create_user(http, gateway)
            item = create_item(http, gateway, stock=INITIAL_STOCK)
            orders, edits = asyncio.run(
                orders_while_editing(gateway, user["id"], item, if_match=True)
            )
            final_stock = stock_of(http, item["id"], base=gateway)
            held = sum(o["qty"] for o in all_orders(http, gateway) if o["status"] == "CREATED")
    assert final_stock + held == INITIAL_STOCK, (
        f"stock {final_stock} + {held} reservados = {final_stock + held}, no {INITIAL_STOCK}; "
        f"PUT: {dict(edits.statuses)}"
    )
    assert orders == {201: ORDERS}, orders
    assert edits.without_etag == 0
    assert set(edits.statuses) <= {200, 412}, edits.statuses
    assert edits.statuses[412] > 0, edits.statuses  # the stale reads were refused
    assert edits.statuses[200] >= EDITORS, edits.statuses  # each editor's last, fresh read
