"""The items service on its own: CRUD, and the token-protected reserve/release routes."""

import pytest
from fastapi.testclient import TestClient

from microservicios.common.context import context_of
from microservicios.items.main import create_app
from tests.helpers import make_settings, service_token, stock_of


def create(items, sku="LAPIZ-1", stock=10, name="Lápiz"):
    return items.post("/items/", json={"name": name, "sku": sku, "stock": stock})


def signed(items: TestClient) -> dict[str, str]:
    """The token of the settings this items app was built with."""
    return service_token(context_of(items.app).settings)


def reserve(items, reservation_id, sku="LAPIZ-1", qty=1, headers=None):
    body = {"reservation_id": reservation_id, "sku": sku, "qty": qty}
    headers = signed(items) if headers is None else headers
    return items.post("/items/internal/reserve", json=body, headers=headers)


def release(items, reservation_id, headers=None):
    body = {"reservation_id": reservation_id}
    headers = signed(items) if headers is None else headers
    return items.post("/items/internal/release", json=body, headers=headers)


# --- public CRUD -------------------------------------------------------------------


def test_create_item_returns_201(items):
    """Creating an item answers 201 with its id, name, sku and stock."""
    response = create(items)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("name", "sku", "stock")} == {
        "name": "Lápiz",
        "sku": "LAPIZ-1",
        "stock": 10,
    }
    assert items.get(f"/items/{body['id']}").json() == body


def test_stock_defaults_to_zero(items):
    """An item created without stock has 0."""
    response = items.post("/items/", json={"name": "Goma", "sku": "GOMA"})
    assert response.status_code == 201
    assert response.json()["stock"] == 0


def test_duplicate_sku_is_409(items):
    """A second item with the same SKU gets 409 in Spanish."""
    assert create(items).status_code == 201
    response = create(items, name="Otro")
    assert response.status_code == 409
    assert response.json()["detail"] == "Ya existe un ítem con ese SKU."


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Lápiz", "sku": "NEG", "stock": -1},
        {"name": "Lápiz", "sku": "con espacio", "stock": 1},
        {"name": "Lápiz", "sku": "", "stock": 1},
        {"name": "x" * 101, "sku": "LARGO", "stock": 1},
        {"name": "Lápiz", "sku": "S" * 65, "stock": 1},
        {"name": "Lápiz", "sku": "MUCHO", "stock": 10**12},
        {"sku": "SIN-NOMBRE"},
    ],
)
def test_invalid_item_is_422_in_spanish(items, body):
    """Negative or huge stock, a bad SKU, a long name or a missing field are 422."""
    response = items.post("/items/", json=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Datos no válidos")
    assert items.get("/items/").json() == []


def test_name_with_a_control_character_is_422_in_spanish(items):
    """A NUL in an item's name is refused on create and on update, in Spanish."""
    response = create(items, name="Lá\x00piz")
    assert response.status_code == 422
    assert "'name' no puede tener caracteres de control" in response.json()["detail"]
    item = create(items).json()
    response = items.put(f"/items/{item['id']}", json={"name": "Lápiz\x00"})
    assert response.status_code == 422
    assert items.get(f"/items/{item['id']}").json()["name"] == "Lápiz"


def test_get_unknown_item_is_404(items):
    """An item id that does not exist gives 404 'Ítem no encontrado.'."""
    response = items.get("/items/4242")
    assert response.status_code == 404
    assert response.json() == {"detail": "Ítem no encontrado."}


@pytest.mark.parametrize("item_id", ["0", "-1", "99999999999999999999", "abc"])
def test_bad_item_id_is_422(items, item_id):
    """Ids must be whole numbers from 1 up to SQLite's limit."""
    response = items.get(f"/items/{item_id}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Datos no válidos")


def test_partial_put_changes_only_the_field_sent(items):
    """PUT with only the stock keeps name and SKU."""
    item = create(items).json()
    response = items.put(f"/items/{item['id']}", json={"stock": 3})
    assert response.status_code == 200
    assert response.json() == {**item, "stock": 3}
    assert items.get(f"/items/{item['id']}").json() == {**item, "stock": 3}


def test_put_negative_stock_is_422_and_changes_nothing(items):
    """Stock can never be set below zero."""
    item = create(items).json()
    assert items.put(f"/items/{item['id']}", json={"stock": -5}).status_code == 422
    assert stock_of(items, item["id"]) == 10


def test_put_to_a_taken_sku_is_409(items):
    """Renaming an item's SKU to another item's SKU is a 409."""
    create(items, sku="A")
    second = create(items, sku="B").json()
    response = items.put(f"/items/{second['id']}", json={"sku": "A"})
    assert response.status_code == 409
    assert items.get(f"/items/{second['id']}").json()["sku"] == "B"


def test_delete_is_204_then_404(items):
    """Deleting an item answers 204; afterwards it is 404."""
    item = create(items).json()
    assert items.delete(f"/items/{item['id']}").status_code == 204
    assert items.get(f"/items/{item['id']}").status_code == 404
    assert items.delete(f"/items/{item['id']}").status_code == 404


def test_list_limit_and_offset(items):
    """limit and offset page through items in id order; limit 1001 is refused."""
    created = [create(items, sku=f"S{i}").json() for i in range(3)]
    assert items.get("/items/").json() == created
    assert items.get("/items/", params={"limit": 2, "offset": 1}).json() == created[1:]
    assert items.get("/items/", params={"limit": 1001}).status_code == 422


def test_health(items):
    """/health names the service and says ok."""
    assert items.get("/health").json() == {"service": "items", "status": "ok"}


# --- internal routes: authentication ---------------------------------------------


@pytest.mark.parametrize("route", ["reserve", "release"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Service-Token": "wrong"}, {"X-Service-Token": ""}],
    ids=["none", "wrong", "empty"],
)
def test_internal_routes_need_the_service_token(items, route, headers):
    """Without the right X-Service-Token the internal routes answer 401 and change nothing."""
    item = create(items).json()
    body = {"reservation_id": "r1", "sku": "LAPIZ-1", "qty": 1}
    response = items.post(f"/items/internal/{route}", json=body, headers=headers)
    assert response.status_code == 401
    assert "X-Service-Token" in response.json()["detail"]
    assert stock_of(items, item["id"]) == 10


def test_internal_reserve_with_the_token_is_200(items):
    """With the token of the service's settings a reservation is made and stock goes down."""
    item = create(items).json()
    response = reserve(items, "r-ok", qty=4)
    assert response.status_code == 200
    assert response.json() == {
        "reservation_id": "r-ok",
        "item_id": item["id"],
        "qty": 4,
        "status": "reserved",
    }
    assert stock_of(items, item["id"]) == 6


def test_internal_routes_accept_a_configured_secret(tmp_path):
    """A service started with another secret accepts it and refuses 'dev-secret'."""
    app = create_app(make_settings(tmp_path, service_secret="s3cret"), log_sinks=[])
    with TestClient(app) as client:
        client.post("/items/", json={"name": "Lápiz", "sku": "LAPIZ-1", "stock": 1})
        assert reserve(client, "a", headers={"X-Service-Token": "dev-secret"}).status_code == 401
        assert reserve(client, "b", headers={"X-Service-Token": "s3cret"}).status_code == 200


# --- reservations ------------------------------------------------------------------


def test_reserve_more_than_stock_is_409_and_stock_unchanged(items):
    """Asking for more than is left is a 409 in Spanish; nothing is taken."""
    item = create(items, stock=3).json()
    response = reserve(items, "r-big", qty=4)
    assert response.status_code == 409
    assert "No hay stock suficiente" in response.json()["detail"]
    assert stock_of(items, item["id"]) == 3


def test_reserve_exactly_the_stock_leaves_zero(items):
    """Reserving all that is left succeeds and leaves 0; one more unit is a 409."""
    item = create(items, stock=2).json()
    assert reserve(items, "r-all", qty=2).status_code == 200
    assert stock_of(items, item["id"]) == 0
    assert reserve(items, "r-more", qty=1).status_code == 409


def test_reserve_unknown_sku_is_404(items):
    """Reserving an SKU that does not exist is a 404 naming the SKU."""
    response = reserve(items, "r-none", sku="NO-EXISTE")
    assert response.status_code == 404
    assert "NO-EXISTE" in response.json()["detail"]


@pytest.mark.parametrize("qty", [0, -1, 1_000_001])
def test_reserve_invalid_qty_is_422(items, qty):
    """Quantities must be between 1 and 1,000,000."""
    item = create(items).json()
    assert reserve(items, "r-bad", qty=qty).status_code == 422
    assert stock_of(items, item["id"]) == 10


def test_same_reservation_id_twice_reserves_once(items):
    """Repeating a reservation (a retry) answers 200 again but takes stock only once."""
    item = create(items).json()
    first = reserve(items, "r-dup", qty=3)
    second = reserve(items, "r-dup", qty=3)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert stock_of(items, item["id"]) == 7


def test_release_returns_the_stock_once(items):
    """Releasing gives the stock back; releasing again changes nothing."""
    item = create(items).json()
    reserve(items, "r-rel", qty=3)
    first = release(items, "r-rel")
    assert first.status_code == 200
    assert first.json()["status"] == "released"
    assert stock_of(items, item["id"]) == 10
    second = release(items, "r-rel")
    assert second.status_code == 200
    assert second.json()["status"] == "released"
    assert stock_of(items, item["id"]) == 10


def test_reserve_after_release_is_409(items):
    """A released reservation cannot take stock again."""
    item = create(items).json()
    reserve(items, "r-again", qty=3)
    release(items, "r-again")
    response = reserve(items, "r-again", qty=3)
    assert response.status_code == 409
    assert stock_of(items, item["id"]) == 10


def test_release_of_unknown_id_blocks_a_late_reserve(items):
    """A release that arrives first leaves a tombstone: the late reserve is a 409."""
    item = create(items).json()
    released = release(items, "r-late")
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    response = reserve(items, "r-late", qty=2)
    assert response.status_code == 409
    assert "liberada" in response.json()["detail"]
    assert stock_of(items, item["id"]) == 10


def test_reuse_of_reservation_id_with_other_qty_is_422(items):
    """The same reservation id with a different quantity is refused."""
    item = create(items).json()
    reserve(items, "r-mix", qty=2)
    response = reserve(items, "r-mix", qty=5)
    assert response.status_code == 422
    assert "reservation_id" in response.json()["detail"]
    assert [error["campo"] for error in response.json()["errors"]] == ["reservation_id"]
    assert stock_of(items, item["id"]) == 8


def test_reuse_of_reservation_id_with_other_sku_is_422(items):
    """The same reservation id for another SKU is refused and touches neither item."""
    first = create(items, sku="A").json()
    second = create(items, sku="B").json()
    reserve(items, "r-sku", sku="A", qty=2)
    assert reserve(items, "r-sku", sku="B", qty=2).status_code == 422
    assert stock_of(items, first["id"]) == 8
    assert stock_of(items, second["id"]) == 10


@pytest.mark.parametrize("reservation_id", ["", "con espacio", "r" * 65, "a/b"])
def test_invalid_reservation_id_is_422(items, reservation_id):
    """Reservation ids are 1..64 letters, digits, '-' or '_'."""
    create(items)
    assert reserve(items, reservation_id).status_code == 422


def test_logs_record_reservations_with_sku_and_qty(items, log_records):
    """Reserving and releasing are logged as stock.reserved and stock.released."""
    create(items)
    reserve(items, "r-log", qty=2)
    release(items, "r-log")
    events = [(r["event"], r.get("reservation_id")) for r in log_records]
    assert ("stock.reserved", "r-log") in events
    assert ("stock.released", "r-log") in events


def test_stock_must_be_a_json_integer(items):
    """true, "5" or 2.5 are not a stock: 422 in Spanish, nothing created."""
    for value in (True, "5", 2.5):
        answer = items.post("/items/", json={"name": "Lápiz", "sku": "LAP-STRICT", "stock": value})
        assert answer.status_code == 422, value
        assert "número entero" in answer.json()["detail"]
    assert items.get("/items/").json() == []


def test_integral_float_stock_is_that_integer(items):
    """636.0 is an integer for JSON Schema, so it is accepted as 636 (as the schema promises)."""
    answer = items.post("/items/", json={"name": "Lápiz", "sku": "LAP-636", "stock": 636.0})
    assert answer.status_code == 201, answer.text
    assert answer.json()["stock"] == 636
    updated = items.put(f"/items/{answer.json()['id']}", json={"stock": 7.0})
    assert updated.json()["stock"] == 7
