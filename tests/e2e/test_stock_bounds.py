"""Stock stays within its bound whatever comes back: a PUT may not set more stock than
MAX_STOCK minus what orders still hold reserved, so every release fits (on PostgreSQL a
release past 2**31 - 1 used to fail for ever, and its order stayed pending)."""

from microservicios.common.fields import MAX_QTY
from microservicios.items.schemas import MAX_STOCK
from tests import helpers

ORDERS = 3


def test_a_put_leaves_room_for_every_release(cluster, http, new_user):
    """MAX_STOCK, three orders of MAX_QTY, PUT back to MAX_STOCK (409, nothing changes), PUT to
    what fits (200), cancel all: every release lands and the stock is exactly MAX_STOCK."""
    gateway = cluster.url("gateway")
    user, item = new_user(), helpers.create_item(http, gateway, stock=MAX_STOCK)
    placed = [helpers.post_order(http, gateway, user["id"], item["sku"], MAX_QTY) for _ in "abc"]
    assert [order.status_code for order in placed] == [201] * ORDERS
    room = MAX_STOCK - ORDERS * MAX_QTY

    refused = http.put(f"{gateway}/items/{item['id']}", json={"stock": MAX_STOCK})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"Hay {ORDERS * MAX_QTY} unidades reservadas que pueden volver (si se cancelan sus "
        f"órdenes): el stock puede ser a lo sumo {room}, así stock y reservas no pasan de "
        f"{MAX_STOCK}."
    )
    assert helpers.stock_of(http, item["id"], gateway) == room
    one_more = http.put(f"{gateway}/items/{item['id']}", json={"stock": room + 1})
    assert one_more.status_code == 409
    assert http.put(f"{gateway}/items/{item['id']}", json={"stock": room}).status_code == 200

    cancels = [http.post(f"{gateway}/orders/{order.json()['id']}/cancel") for order in placed]
    assert [cancel.status_code for cancel in cancels] == [200] * ORDERS
    assert helpers.eventually(
        lambda: (
            http.get(f"{gateway}/health").status_code == 200
            and http.get(f"{cluster.url('orders')}/health").json()["pending_releases"] == 0
        ),
        seconds=30,
    )
    assert helpers.stock_of(http, item["id"], gateway) == MAX_STOCK
    assert http.put(f"{gateway}/items/{item['id']}", json={"stock": MAX_STOCK}).status_code == 200
