"""Resilience end to end: breakers, timeouts, idempotency, cancellation and compensation.

Every test starts its own small cluster (about 0.15 s) with a short breaker cool-down, so
nothing here depends on another test's breakers; timeouts are short only in the tests whose
point is a dependency that does not answer. No assertion is about speed: waits are bounded
by deadlines only so nothing can hang.
"""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from microservicios import Cluster
from tests.helpers import (
    PATIENT,
    PATIENT_CLIENT_TIMEOUT_S,
    all_orders,
    create_item,
    create_user,
    make_cluster,
    post_order,
    service_token,
    stock_of,
)

# Default for these tests: a short breaker cool-down, but timeouts roomy enough that a busy
# machine (four services and the test share one process) is never mistaken for a dead one.
# A killed service refuses connections at once, so roomy timeouts cost nothing there.
ROOMY = {
    "breaker_reset_timeout": 0.5,
    "http_attempt_timeout": 2.0,
    "http_deadline": 4.0,
    "gateway_timeout": 8.0,
}
# Short timeouts, for the tests whose point is a dependency that does not answer.
FAST = {"http_attempt_timeout": 0.3, "http_deadline": 0.8}
WAIT_S = 20.0  # upper bound for every poll in this file; only reached when something is wrong


# --- fixtures and helpers -----------------------------------------------------------


@pytest.fixture
def start_cluster(tmp_path: Path, databases: dict) -> Iterator[Callable[..., Cluster]]:
    """Start a cluster of this test's own with ROOMY settings (plus overrides), on SQLite or
    PostgreSQL; stopped after."""
    started: list[Cluster] = []

    def start(**overrides: Any) -> Cluster:
        settings = {**databases, **ROOMY, **overrides}
        running = make_cluster(tmp_path / f"c{len(started)}", **settings)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def health(http: httpx.Client, base: str) -> dict:
    response = http.get(f"{base}/health")
    assert response.status_code == 200, response.text
    return response.json()


def breaker(http: httpx.Client, base: str, target: str) -> dict:
    return health(http, base)["breakers"][target]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll `condition` until it returns something truthy; fail (not hang) after `timeout`."""
    give_up_at = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > give_up_at:
            pytest.fail(f"Nunca se cumplió: {what}")
        time.sleep(0.02)


def wait_no_pending_releases(http: httpx.Client, orders_url: str) -> None:
    wait_for(
        lambda: health(http, orders_url)["pending_releases"] == 0,
        "orders /health pending_releases == 0",
    )


def orders_to_items_failures(cluster: Cluster) -> list[dict]:
    """Attempts from orders to items that went on the wire and got no good answer."""
    return [
        r
        for r in cluster.logs(service="orders", event="http.call", target="items")
        if r["outcome"] != "ok"
    ]


# --- 1. breaker lifecycle ------------------------------------------------------------


def test_dead_items_opens_breaker_refuses_without_network_and_recovers(start_cluster, http):
    """Killing items: 503s, then the open breaker refuses with Retry-After offline, then closes."""
    # A reset timeout long enough that the "refused while open" calls surely fall inside it.
    cluster = start_cluster(breaker_reset_timeout=2.0)
    gateway, orders = cluster.url("gateway"), cluster.url("orders")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=10)
    assert post_order(http, orders, user["id"], item["sku"]).status_code == 201

    cluster.kill("items")
    failures = 0
    while breaker(http, orders, "items")["state"] != "open":
        response = post_order(http, orders, user["id"], item["sku"])
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "items" in detail and "no está disponible" in detail, detail
        failures += 1
        assert failures <= 10, "el breaker de orders→items nunca se abrió"

    calls_before = len(orders_to_items_failures(cluster))
    refused = [post_order(http, orders, user["id"], item["sku"]) for _ in range(3)]
    # Still open afterwards: all three calls fell inside the open window.
    assert breaker(http, orders, "items")["state"] == "open"
    for response in refused:
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) >= 1
        assert "circuito está abierto" in response.json()["detail"]
    assert len(orders_to_items_failures(cluster)) == calls_before, (
        "un circuito abierto llamó a items"
    )

    cluster.revive("items")
    wait_for(
        lambda: breaker(http, orders, "items")["state"] != "open",
        "el breaker deja de estar open tras el reset timeout",
    )

    # One probe at a time: the compensation task may hold it, so the client retries a bit.
    def order_once() -> httpx.Response | None:
        response = post_order(http, orders, user["id"], item["sku"])
        assert response.status_code in (201, 503), response.text
        return response if response.status_code == 201 else None

    placed = wait_for(order_once, "una orden se crea otra vez con items vivo")
    assert placed.json()["status"] == "CREATED"
    assert breaker(http, orders, "items") == {"state": "closed", "consecutive_failures": 0}

    transitions = [
        r["event"]
        for r in cluster.logs(service="orders")
        if r["event"].startswith("breaker.")
        and r.get("caller") == "orders"
        and r.get("target") == "items"
    ]
    assert transitions[:3] == ["breaker.opened", "breaker.half_open", "breaker.closed"], transitions
    assert transitions[-1] == "breaker.closed", transitions


# --- 2. business answers are not failures -----------------------------------------------


def test_404_and_409_never_open_a_breaker(start_cluster, http):
    """Many orders for an unknown user (404) or too much stock (409) leave every breaker closed."""
    cluster = start_cluster()
    gateway, orders = cluster.url("gateway"), cluster.url("orders")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=1)
    for _ in range(8):  # well above the failure threshold (5)
        response = post_order(http, gateway, 987654321, item["sku"])
        assert response.status_code == 404, response.text
        response = post_order(http, gateway, user["id"], item["sku"], qty=5)
        assert response.status_code == 409, response.text
        response = post_order(http, gateway, user["id"], "NO-SUCH-SKU")
        assert response.status_code == 404, response.text

    closed = {"state": "closed", "consecutive_failures": 0}
    assert health(http, orders)["breakers"] == {"users": closed, "items": closed}
    assert health(http, gateway)["breakers"] == {"users": closed, "items": closed, "orders": closed}
    assert cluster.logs(event="breaker.opened") == []
    assert stock_of(http, item["id"], base=gateway) == 1


# --- 3. the saga stops at the first step that fails -----------------------------------


def test_order_never_reserves_stock_when_user_cannot_be_checked(start_cluster, http):
    """With users dead, POST /orders/ is 503 naming users and items is never asked to reserve."""
    cluster = start_cluster()
    gateway, orders = cluster.url("gateway"), cluster.url("orders")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=5)
    cluster.kill("users")

    for base in (orders, gateway):
        response = post_order(http, base, user["id"], item["sku"], qty=2)
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "users" in detail and "no está disponible" in detail, detail

    assert stock_of(http, item["id"], base=gateway) == 5
    assert cluster.logs(service="items", event="stock.reserved") == []
    assert health(http, orders)["pending_releases"] == 0
    assert [o["status"] for o in all_orders(http, gateway)] == ["FAILED", "FAILED"]


# --- 4. a hung dependency is cut off ---------------------------------------------------


@pytest.mark.parametrize(
    "fault", [{"hang": True}, {"drop_rate": 1}], ids=["hang", "drop_every_request"]
)
def test_silent_items_is_cut_off_by_timeout_and_stock_is_conserved(start_cluster, http, fault):
    """items that never answers (hung, or dropping every request as emulated packet loss):
    orders' client gives up at its deadline and answers 503 'no respondió a tiempo'; once
    healed, the late reservation cannot keep its stock: stock ends unchanged."""
    # Short enough to keep the test quick, long enough for the healthy users to answer.
    cluster = start_cluster(http_attempt_timeout=1.0, http_deadline=2.5)
    gateway, orders = cluster.url("gateway"), cluster.url("orders")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=7)

    cluster.inject("items", **fault)
    try:
        response = post_order(http, orders, user["id"], item["sku"], qty=3)
    finally:
        cluster.heal("items")
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    assert "items" in detail and "no respondió a tiempo" in detail, detail
    [injected] = [m for m in cluster.marks if m.get("action") == "inject"]
    assert {name: injected[name] for name in fault} == fault and injected["jitter"] == 0, injected

    wait_no_pending_releases(http, orders)
    assert stock_of(http, item["id"], base=gateway) == 7
    [failed] = all_orders(http, gateway)
    assert failed["status"] == "FAILED"


# --- 5. idempotency ---------------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_same_order(start_cluster, http):
    """Repeating a POST with the same key and body returns the same order, marked as replay."""
    cluster = start_cluster()
    gateway = cluster.url("gateway")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=10)
    key = uuid.uuid4().hex

    first = post_order(http, gateway, user["id"], item["sku"], qty=2, key=key)
    second = post_order(http, gateway, user["id"], item["sku"], qty=2, key=key)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.json()["id"] == first.json()["id"]
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert stock_of(http, item["id"], base=gateway) == 8
    assert len(all_orders(http, gateway)) == 1


def test_same_idempotency_key_with_other_body_is_422(start_cluster, http):
    """Reusing a key with a different body is a Spanish 422 and takes no more stock."""
    cluster = start_cluster()
    gateway = cluster.url("gateway")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=10)
    key = uuid.uuid4().hex
    assert post_order(http, gateway, user["id"], item["sku"], qty=2, key=key).status_code == 201

    response = post_order(http, gateway, user["id"], item["sku"], qty=3, key=key)

    assert response.status_code == 422, response.text
    assert "Idempotency-Key" in response.json()["detail"]
    assert stock_of(http, item["id"], base=gateway) == 8


def test_concurrent_requests_with_one_key_place_one_order(start_cluster, http):
    """10 simultaneous POSTs with the same key and body: all 201, one order id, stock taken once."""
    # Exact answers under concurrency: PATIENT timeouts and breaker, so that a busy machine
    # cannot turn a slow call into a 503 (see tests/helpers.py).
    cluster = start_cluster(**PATIENT)
    gateway = cluster.url("gateway")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=10)
    key = uuid.uuid4().hex
    start = threading.Barrier(10)

    def place(_: int) -> httpx.Response:
        start.wait(timeout=10)
        return post_order(http, gateway, user["id"], item["sku"], qty=2, key=key)

    with ThreadPoolExecutor(max_workers=10) as pool:  # `http` waits PATIENT_CLIENT_TIMEOUT_S
        responses = list(pool.map(place, range(10)))

    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert stock_of(http, item["id"], base=gateway) == 8
    assert len(all_orders(http, gateway)) == 1


# --- 6. cancellation --------------------------------------------------------------------


def test_cancel_returns_stock_once_and_refuses_what_cannot_be_cancelled(start_cluster, http):
    """Cancel: 200 CANCELLED with stock back, again 200 without double return, 404, 409 FAILED."""
    cluster = start_cluster()
    gateway = cluster.url("gateway")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=10)
    placed = post_order(http, gateway, user["id"], item["sku"], qty=4)
    assert placed.status_code == 201, placed.text
    assert stock_of(http, item["id"], base=gateway) == 6
    order_id = placed.json()["id"]

    cancelled = http.post(f"{gateway}/orders/{order_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    assert stock_of(http, item["id"], base=gateway) == 10

    again = http.post(f"{gateway}/orders/{order_id}/cancel")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "CANCELLED"
    wait_no_pending_releases(http, cluster.url("orders"))
    assert stock_of(http, item["id"], base=gateway) == 10
    assert http.get(f"{gateway}/orders/{order_id}").json()["status"] == "CANCELLED"

    unknown = http.post(f"{gateway}/orders/987654321/cancel")
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["detail"] == "Orden no encontrada."

    assert post_order(http, gateway, user["id"], item["sku"], qty=50).status_code == 409
    [failed] = [o for o in all_orders(http, gateway) if o["status"] == "FAILED"]
    refused = http.post(f"{gateway}/orders/{failed['id']}/cancel")
    assert refused.status_code == 409, refused.text
    assert "FAILED" in refused.json()["detail"]
    wait_no_pending_releases(http, cluster.url("orders"))
    assert stock_of(http, item["id"], base=gateway) == 10


# --- 7. conservation of stock under faults ----------------------------------------------


def test_stock_is_conserved_under_flaky_items(start_cluster, http):
    """200 concurrent orders on a flaky items: no 500, one order per key at most, stock adds up."""
    # Short timeouts from orders on purpose: calls that time out but still land are what must
    # not leak stock. The gateway, though, waits long (30 s): if it gave up on orders, an order
    # placed behind it would be answered 503, and "every CREATED order was answered" would
    # fail because the machine was slow, not because of the saga.
    cluster = start_cluster(**FAST, gateway_timeout=30.0)
    gateway, orders = cluster.url("gateway"), cluster.url("orders")
    user, item = create_user(http, gateway), create_item(http, gateway, stock=100)
    body = {"user_id": user["id"], "item_sku": item["sku"], "qty": 1}

    def keyed(key: str) -> list[tuple[int | str, int | None]]:
        """Up to 1 + 3 attempts with the same key and body, retrying on 503 and timeouts."""
        seen: list[tuple[int | str, int | None]] = []
        for attempt in range(4):
            try:
                response = client.post(
                    f"{gateway}/orders/", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TimeoutException as exc:
                seen.append((type(exc).__name__, None))
            else:
                order_id = response.json().get("id") if response.status_code == 201 else None
                seen.append((response.status_code, order_id))
                if response.status_code != 503:
                    break
            if attempt < 3:
                time.sleep(0.05)
        return seen

    def unkeyed(_: int) -> list[tuple[int | str, int | None]]:
        try:
            response = client.post(f"{gateway}/orders/", json=body)
        except httpx.TimeoutException as exc:
            return [(type(exc).__name__, None)]
        order_id = response.json().get("id") if response.status_code == 201 else None
        return [(response.status_code, order_id)]

    keys = [uuid.uuid4().hex for _ in range(100)]
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    cluster.inject("items", error_rate=0.3, latency=0.05, status=503)
    try:
        with (
            httpx.Client(timeout=PATIENT_CLIENT_TIMEOUT_S, limits=limits) as client,
            ThreadPoolExecutor(16) as pool,
        ):
            keyed_results = pool.map(keyed, keys)
            unkeyed_results = list(pool.map(unkeyed, range(100)))
            by_key = dict(zip(keys, keyed_results, strict=True))
    finally:
        cluster.heal("items")
    wait_no_pending_releases(http, orders)

    seen = [outcome for attempts in [*by_key.values(), *unkeyed_results] for outcome in attempts]
    statuses = Counter(status for status, _ in seen)
    assert 500 not in statuses, f"respuestas 500: {dict(statuses)}"
    assert set(statuses) <= {201, 409, 503}, f"respuestas inesperadas: {dict(statuses)}"
    assert statuses[201] > 0, f"ninguna orden se creó: {dict(statuses)}"

    ids_per_key = {key: {i for s, i in attempts if s == 201} for key, attempts in by_key.items()}
    assert all(len(ids) <= 1 for ids in ids_per_key.values()), ids_per_key
    answered_ids = {i for _, i in seen if i is not None}

    # Read at the services themselves: what is checked is what items and orders hold, not
    # whether the gateway's own breaker for orders lets a call through right now.
    final_stock = stock_of(http, item["id"], base=cluster.url("items"))
    created = [
        o
        for o in all_orders(http, orders)
        if o["item_sku"] == item["sku"] and o["status"] == "CREATED"
    ]
    assert final_stock >= 0
    assert final_stock + sum(o["qty"] for o in created) == 100, (
        final_stock,
        len(created),
        dict(statuses),
    )
    # Every CREATED order was reported to exactly one request: no key placed a second one.
    assert {o["id"] for o in created} == answered_ids


# --- 8. fault injection over HTTP --------------------------------------------------------


def test_fault_route_needs_the_token_and_injects_and_heals(start_cluster, http):
    """PUT /internal/faults with the token makes GET /items/ fail; 401 without; DELETE heals."""
    cluster = start_cluster()
    items = cluster.url("items")
    faults_url = f"{items}/internal/faults"
    signed = service_token(cluster.settings)

    refused = http.put(faults_url, json={"error_rate": 1.0, "status": 418})
    assert refused.status_code == 401, refused.text
    assert http.get(f"{items}/items/").status_code == 200

    injected = http.put(faults_url, json={"error_rate": 1.0, "status": 418}, headers=signed)
    assert injected.status_code == 200, injected.text
    assert injected.json()["error_rate"] == 1.0
    for _ in range(5):
        response = http.get(f"{items}/items/")
        assert response.status_code == 418, response.text
        assert "Falla inyectada" in response.json()["detail"]

    assert http.delete(faults_url).status_code == 401
    assert http.get(f"{items}/items/").status_code == 418
    healed = http.delete(faults_url, headers=signed)
    assert healed.status_code == 200, healed.text
    assert healed.json()["error_rate"] == 0.0
    assert http.get(f"{items}/items/").status_code == 200


def test_gateway_hides_the_fault_route(start_cluster, http):
    """Through the gateway, /internal/faults without the token does not exist (404)."""
    cluster = start_cluster()
    gateway = cluster.url("gateway")
    for method in ("GET", "PUT", "DELETE"):
        response = http.request(method, f"{gateway}/internal/faults", json={"error_rate": 1.0})
        assert response.status_code == 404, (method, response.text)
        response = http.request(
            method, f"{gateway}/items/internal/faults", json={"error_rate": 1.0}
        )
        assert response.status_code == 404, (method, response.text)
    assert http.get(f"{gateway}/items/").status_code == 200
    assert http.get(f"{cluster.url('items')}/items/").status_code == 200


# --- 9. gateway health -------------------------------------------------------------------


def test_gateway_health_reports_its_breakers(start_cluster, http):
    """The gateway's /health shows a breaker per backend, and the one for a dead users opens."""
    cluster = start_cluster(breaker_reset_timeout=5.0)  # stays open while we look at it
    gateway = cluster.url("gateway")
    report = health(http, gateway)
    assert report["service"] == "gateway" and report["status"] == "ok"
    assert set(report["breakers"]) == {"users", "items", "orders"}
    for snapshot in report["breakers"].values():
        assert snapshot == {"state": "closed", "consecutive_failures": 0}

    cluster.kill("users")
    for _ in range(10):
        assert http.get(f"{gateway}/users/1").status_code == 503
        if breaker(http, gateway, "users")["state"] == "open":
            break
    breakers = health(http, gateway)["breakers"]
    assert breakers["users"]["state"] == "open"
    assert breakers["users"]["retry_after"] > 0
    assert breakers["items"] == {"state": "closed", "consecutive_failures": 0}
    assert breakers["orders"] == {"state": "closed", "consecutive_failures": 0}
