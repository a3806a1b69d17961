"""Saga recovery: an orders process that dies mid-saga loses no stock for good."""

import os
import signal
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from microservicios.cluster.cluster import resolve_ports
from microservicios.cluster.processes import ProcessCluster
from microservicios.serve.runner import answers_health
from tests.helpers import create_item, create_user, make_cluster, stock_of

WAIT_S = 30.0  # bound of every poll; only reached when something is wrong


def wait_until(condition: Callable[[], bool], what: str, seconds: float = WAIT_S) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no ocurrió a tiempo: {what}"
        time.sleep(0.1)


def order_in_background(gateway: str, body: dict, key: str) -> threading.Thread:
    """Send one keyed order on a thread; its answer does not matter (orders will die)."""

    def send() -> None:
        try:
            httpx.post(
                f"{gateway}/orders/", json=body, headers={"Idempotency-Key": key}, timeout=15
            )
        except httpx.HTTPError:
            pass

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_orders_killed_mid_reservation_recovers_and_conserves_stock(tmp_path, databases):
    """Kill orders while its reservation is in flight (items slow): after revive the order
    is FAILED (not PENDING forever), the stock is back, nothing is pending, and the same
    Idempotency-Key places the order again."""
    cluster = make_cluster(tmp_path, http_deadline=2.0, http_attempt_timeout=1.0, **databases)
    cluster.start()
    try:
        gateway, orders = cluster.url("gateway"), cluster.url("orders")
        with httpx.Client(base_url=gateway, timeout=15) as http:
            user, item = create_user(http), create_item(http, stock=5)
            body = {"user_id": user["id"], "item_sku": item["sku"], "qty": 2}
            cluster.inject("items", latency=0.8)
            sender = order_in_background(gateway, body, key="crash-1")
            wait_until(
                lambda: cluster.logs(service="orders", event="http.call", target="users"),
                "orders has checked the user",
            )
            time.sleep(0.3)  # the reservation (0.8 s at items) is in flight now
            cluster.kill("orders")
            sender.join(20)
            cluster.revive("orders")
            cluster.heal("items")

            wait_until(
                lambda: [o["status"] for o in http.get("/orders/").json()] == ["FAILED"],
                "the orphaned order becomes FAILED",
            )
            wait_until(
                lambda: httpx.get(f"{orders}/health").json()["pending_releases"] == 0,
                "its reservation is released",
            )
            assert stock_of(http, item["id"]) == 5

            again = http.post("/orders/", json=body, headers={"Idempotency-Key": "crash-1"})
            assert again.status_code == 201, again.text
            assert stock_of(http, item["id"]) == 3
    finally:
        cluster.stop()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX-only")
def test_orders_process_killed_mid_reservation_recovers_and_conserves_stock(tmp_path, monkeypatch):
    """--processes: SIGKILL the orders process while its reservation is in flight. The
    supervisor restarts it, recovery fails the orphaned PENDING order and releases its stock,
    and the same Idempotency-Key places the order again: conservation holds."""
    monkeypatch.chdir(tmp_path)  # no developer's .env for the children
    monkeypatch.setenv("HTTP_DEADLINE", "1.5")  # recovery after 2 × 1.5 + 3 = 6 s
    cluster = ProcessCluster(resolve_ports("auto"), tmp_path / "data", quiet=True)
    cluster.start()
    try:
        gateway, items, orders = (cluster.url(name) for name in ("gateway", "items", "orders"))
        token = {"X-Service-Token": cluster.environment()["SERVICE_SECRET"]}
        with httpx.Client(base_url=gateway, timeout=15) as http:
            user, item = create_user(http), create_item(http, stock=5)
            body = {"user_id": user["id"], "item_sku": item["sku"], "qty": 2}
            httpx.put(f"{items}/internal/faults", json={"latency": 1.2}, headers=token)
            sender = order_in_background(gateway, body, key="crash-2")
            time.sleep(0.6)  # the user is checked; the reservation waits out items' latency
            os.kill(cluster.pids()["orders"], signal.SIGKILL)
            sender.join(20)
            httpx.delete(f"{items}/internal/faults", headers=token)

            def orders_back() -> bool:
                cluster.supervise()
                return answers_health("127.0.0.1", cluster.ports["orders"])

            wait_until(orders_back, "the supervisor restarts orders")
            wait_until(
                lambda: [o["status"] for o in http.get("/orders/").json()] == ["FAILED"],
                "the orphaned PENDING order is recovered as FAILED",
            )
            wait_until(
                lambda: httpx.get(f"{orders}/health").json()["pending_releases"] == 0,
                "its reservation is released",
            )
            assert stock_of(http, item["id"]) == 5
            again = http.post("/orders/", json=body, headers={"Idempotency-Key": "crash-2"})
            assert again.status_code == 201, again.text
            assert stock_of(http, item["id"]) == 3
    finally:
        cluster.stop()
