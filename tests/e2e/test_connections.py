"""Connections: a killed service cuts them (never a 500); idle ones expire before the server's."""

import concurrent.futures
import time

import httpx
import pytest

from tests.helpers import PATIENT, create_user, make_cluster

IN_FLIGHT = 10


@pytest.fixture
def cluster(tmp_path):
    running = make_cluster(tmp_path, gateway_timeout=10.0, breaker_failure_threshold=100)
    running.start()
    yield running
    running.stop()


def test_killing_a_service_gives_gateway_clients_503_never_500(cluster):
    """Ten slow GETs in flight through the gateway, then users is killed: every client gets
    a Spanish 503 (the gateway saw the connection cut), none gets a 500."""
    with httpx.Client(base_url=cluster.url("gateway"), timeout=30) as http:
        user = create_user(http)
    cluster.inject("users", latency=1.0)
    path = f"/users/{user['id']}"
    with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
        futures = [
            pool.submit(httpx.get, cluster.url("gateway") + path, timeout=30)
            for _ in range(IN_FLIGHT)
        ]
        time.sleep(0.5)  # all ten are waiting out users' latency now
        cluster.kill("users")
        answers = [future.result() for future in futures]
    assert [a.status_code for a in answers] == [503] * IN_FLIGHT, [a.text for a in answers]
    assert all("no está disponible" in a.json()["detail"] for a in answers)


def test_a_killed_service_sends_no_http_answer(cluster):
    """A client talking to users directly when it is killed gets its connection cut, not an
    HTTP response."""
    cluster.inject("users", latency=1.0)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(httpx.get, cluster.url("users") + "/users/", timeout=30) for _ in range(3)
        ]
        time.sleep(0.5)
        cluster.kill("users")
        for future in futures:
            with pytest.raises(httpx.TransportError):
                future.result()


def test_requests_spaced_at_the_keepalive_timeout_never_fail(tmp_path):
    """POSTs sent each exactly one server keep-alive timeout apart all succeed: no hop ever
    reuses a connection the next server is closing (no 'disconnected' call in the logs)."""
    # Patient timeouts: on a busy machine a slow answer must not pass for a lost one.
    cluster = make_cluster(tmp_path, server_keepalive_timeout=1.0, **PATIENT)
    cluster.start()
    try:
        # The test's own client is not a hop under test: a new connection for each request,
        # so that it never races the gateway's keep-alive itself.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=cluster.url("gateway"), timeout=30, limits=fresh) as http:
            user = create_user(http)
            sku = http.post("/items/", json={"name": "Goma", "sku": "GOMA-1", "stock": 50}).json()
            statuses = []
            for _ in range(5):
                time.sleep(1.0)
                order = {"user_id": user["id"], "item_sku": sku["sku"], "qty": 1}
                statuses.append(http.post("/orders/", json=order).status_code)
        assert statuses == [201] * 5
        calls = cluster.logs(event="http.call")
        assert len(calls) >= 15  # gateway→orders, orders→users, orders→items, five times
        assert [c for c in calls if c["outcome"] != "ok"] == []
    finally:
        cluster.stop()


def test_the_gateway_does_not_retry_a_service_that_answered(tmp_path):
    """One keyed POST /orders/ while items answers 503: one gateway→orders attempt, one
    FAILED order, and the retries (if any) only between orders and items."""
    cluster = make_cluster(tmp_path, **PATIENT)
    cluster.start()
    try:
        with httpx.Client(base_url=cluster.url("gateway"), timeout=60) as http:
            user = create_user(http)
            item = http.post("/items/", json={"name": "Goma", "sku": "GOMA-2", "stock": 5}).json()
            cluster.inject("items", error_rate=1.0, status=503)
            order = {"user_id": user["id"], "item_sku": item["sku"], "qty": 1}
            answer = http.post("/orders/", json=order, headers={"Idempotency-Key": "una-vez"})
            assert answer.status_code == 503
            stored = http.get("/orders/").json()
        to_orders = cluster.logs(
            service="gateway", event="http.call", target="orders", method="POST"
        )
        assert [call["attempt"] for call in to_orders] == [1]
        assert [o["status"] for o in stored] == ["FAILED"]
        to_items = cluster.logs(service="orders", event="http.call", target="items")
        assert 1 <= len([c for c in to_items if c["path"].endswith("/reserve")]) <= 3
    finally:
        cluster.stop()
