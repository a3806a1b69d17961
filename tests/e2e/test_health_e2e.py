"""Readiness does not cascade: a service whose dependency is down stays ready."""

import httpx
import pytest


def test_orders_stays_ready_while_items_is_down(fresh_cluster):
    """items killed: items refuses connections, orders and the gateway still answer ready."""
    fresh_cluster.kill("items")
    for name in ("orders", "gateway", "users"):
        answer = httpx.get(fresh_cluster.url(name) + "/health/ready")
        assert answer.status_code == 200, name
    with pytest.raises(httpx.ConnectError):
        httpx.get(fresh_cluster.url("items") + "/health/live")
