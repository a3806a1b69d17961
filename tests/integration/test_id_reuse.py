"""An id names one row for ever: a deleted item's id is never given to another, and a
cancelled order's stock goes back only to the item it was reserved from (on SQLite a new
item used to get the deleted item's id, and the cancel gave it the old item's units)."""

import httpx

from microservicios import Cluster
from microservicios.migrations import SERVICES_WITH_DATABASE, upgrade
from tests import helpers


def no_release_pending(http: httpx.Client, cluster: Cluster) -> bool:
    return http.get(f"{cluster.url('orders')}/health").json()["pending_releases"] == 0


def cancel_after_the_item_is_replaced(http: httpx.Client, cluster: Cluster) -> tuple[dict, dict]:
    """The issue's steps: OLD (stock 10), an order of 4, DELETE OLD, NEW with stock 0, cancel
    the order. Returns (OLD, NEW as it is once the release is done)."""
    gateway = cluster.url("gateway")
    user = helpers.create_user(http, gateway)
    old = helpers.create_item(http, gateway, stock=10, name="OLD-1")
    order = helpers.post_order(http, gateway, user["id"], old["sku"], qty=4)
    assert order.status_code == 201, order.text
    assert http.delete(f"{gateway}/items/{old['id']}").status_code == 204
    new = helpers.create_item(http, gateway, stock=0, name="NEW-1")
    cancelled = http.post(f"{gateway}/orders/{order.json()['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED")
    assert helpers.eventually(lambda: no_release_pending(http, cluster), seconds=30)
    return old, http.get(f"{gateway}/items/{new['id']}").json()


def test_a_new_item_never_gets_a_deleted_items_id(fresh_cluster, http):
    """The issue's scenario on both databases: NEW gets a new id and keeps its stock 0."""
    old, new = cancel_after_the_item_is_replaced(http, fresh_cluster)
    assert new["id"] != old["id"]
    assert new["stock"] == 0


def test_a_new_user_never_gets_a_deleted_users_id(fresh_cluster, http):
    """The same for users (an order's user_id must not come to name someone else)."""
    gateway = fresh_cluster.url("gateway")
    first = helpers.create_user(http, gateway)
    assert http.delete(f"{gateway}/users/{first['id']}").status_code == 204
    assert helpers.create_user(http, gateway)["id"] != first["id"]


def test_a_release_does_not_reach_an_item_that_reused_the_id(tmp_path, http):
    """SQLite files made before ids were reserved for ever still give a deleted item's id to
    the next one: the cancel still gives NEW nothing (deleting OLD let go of its reservations)."""
    for service in SERVICES_WITH_DATABASE:  # the tables as the first schema made them
        upgrade(service, f"sqlite:///{(tmp_path / f'{service}.db').as_posix()}", "0001")
    cluster = helpers.make_cluster(tmp_path)
    cluster.start()
    try:
        old, new = cancel_after_the_item_is_replaced(http, cluster)
    finally:
        helpers.settle_and_stop(cluster)
    assert new["id"] == old["id"]  # the old table reuses it: what this test is about
    assert new["stock"] == 0
