"""The orders service on its own: its dependencies (users, items) point nowhere."""


def test_create_order_with_dependencies_down_is_503_in_spanish(orders):
    """With users unreachable, placing an order is a 503 that names the missing service."""
    response = orders.post("/orders/", json={"user_id": 1, "item_sku": "LAPIZ-1", "qty": 1})
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "no está disponible" in detail
    assert "users" in detail


def test_failed_order_is_listed_as_failed(orders):
    """An order that could not be placed (503) is stored and listed once, as FAILED."""
    placed = orders.post("/orders/", json={"user_id": 1, "item_sku": "LAPIZ-1", "qty": 1})
    assert placed.status_code == 503, placed.text
    response = orders.get("/orders/")
    assert response.status_code == 200
    listed = response.json()
    assert [order["status"] for order in listed] == ["FAILED"]
    assert (listed[0]["user_id"], listed[0]["item_sku"], listed[0]["qty"]) == (1, "LAPIZ-1", 1)


def test_list_orders_works_without_dependencies(orders):
    """Listing orders only reads local data: 200 and an empty list."""
    response = orders.get("/orders/")
    assert response.status_code == 200
    assert response.json() == []


def test_get_unknown_order_is_404_in_spanish(orders):
    """An order id that does not exist is a 404 'Orden no encontrada.'."""
    response = orders.get("/orders/1")
    assert response.status_code == 404
    assert response.json() == {"detail": "Orden no encontrada."}


def test_invalid_order_is_422_before_calling_anyone(orders):
    """qty 0, a bad SKU or a huge user id are refused as 422, not 503."""
    for body in (
        {"user_id": 1, "item_sku": "LAPIZ-1", "qty": 0},
        {"user_id": 1, "item_sku": "no valido", "qty": 1},
        {"user_id": 99999999999999999999, "item_sku": "LAPIZ-1", "qty": 1},
        {"user_id": 0, "item_sku": "LAPIZ-1", "qty": 1},
        {"item_sku": "LAPIZ-1", "qty": 1},
    ):
        response = orders.post("/orders/", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"].startswith("Datos no válidos")


def test_health(orders):
    """/health names the service and says ok."""
    body = orders.get("/health").json()
    assert (body["service"], body["status"]) == ("orders", "ok")
