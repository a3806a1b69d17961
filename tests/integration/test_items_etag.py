"""Optimistic concurrency on items: an ETag on GET and PUT, If-Match on PUT (both databases)."""

import re

import pytest
from fastapi.testclient import TestClient

from microservicios.common.context import context_of
from microservicios.items import crud
from microservicios.items.schemas import ItemUpdate
from tests.helpers import service_token, unique_sku

STALE = "El ítem cambió desde que lo leíste"
ETAG = re.compile(r'^"[0-9a-f]+"$')  # a strong entity tag


def create(items: TestClient, stock: int = 10) -> dict:
    response = items.post("/items/", json={"name": "Lápiz", "sku": unique_sku(), "stock": stock})
    assert response.status_code == 201, response.text
    return response.json()


def read(items: TestClient, item: dict) -> tuple[dict, str]:
    """The item as GET shows it now, and its ETag."""
    response = items.get(f"/items/{item['id']}")
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def put(items: TestClient, item: dict, body: dict, if_match: str | None = None):  # noqa: ANN201
    headers = {} if if_match is None else {"If-Match": if_match}
    return items.put(f"/items/{item['id']}", json=body, headers=headers)


def reserve(items: TestClient, item: dict, qty: int) -> None:
    body = {"reservation_id": unique_sku(), "sku": item["sku"], "qty": qty}
    token = service_token(context_of(items.app).settings)
    response = items.post("/items/internal/reserve", json=body, headers=token)
    assert response.status_code == 200, response.text


def test_get_gives_a_strong_etag_that_only_changes_with_the_item(items):
    """Two GETs of an unchanged item give the same ETag; after a change it is another."""
    item = create(items)
    _, first = read(items, item)
    assert ETAG.match(first), first
    assert read(items, item)[1] == first
    assert put(items, item, {"name": "Lápiz negro"}).status_code == 200
    assert read(items, item)[1] != first


def test_the_etag_changes_after_a_reserve(items):
    """An order reserving stock changes the item, so it changes its ETag."""
    item = create(items)
    _, before = read(items, item)
    reserve(items, item, 3)
    body, after = read(items, item)
    assert body["stock"] == 7
    assert after != before


def test_a_put_with_a_fresh_if_match_is_200_and_answers_the_new_etag(items):
    """If-Match with the current ETag: the change is made; the answer's ETag is the next GET's."""
    item = create(items)
    _, etag = read(items, item)
    response = put(items, item, {"stock": 25}, if_match=etag)
    assert response.status_code == 200, response.text
    assert response.json()["stock"] == 25
    body, now = read(items, item)
    assert body["stock"] == 25
    assert response.headers["ETag"] == now != etag


def test_a_put_based_on_a_read_before_a_reserve_is_412_and_changes_nothing(items):
    """GET, then an order reserves 3, then PUT the stock read: 412 in Spanish, no unit created."""
    item = create(items)
    body, etag = read(items, item)
    reserve(items, item, 3)
    stale = {key: body[key] for key in ("name", "sku", "stock")}
    response = put(items, item, stale, if_match=etag)
    assert response.status_code == 412, response.text
    assert STALE in response.json()["detail"]
    assert read(items, item)[0]["stock"] == 7


def test_the_second_of_two_puts_from_the_same_read_is_412(items):
    """Two clients read the same ETag: the first PUT wins, the second is refused."""
    item = create(items)
    _, etag = read(items, item)
    assert put(items, item, {"name": "Lápiz rojo"}, if_match=etag).status_code == 200
    response = put(items, item, {"name": "Lápiz azul"}, if_match=etag)
    assert response.status_code == 412, response.text
    assert read(items, item)[0]["name"] == "Lápiz rojo"


class ReserveAfterRead:
    """A session that lets a reservation commit right after the item is read: the gap
    between the service's If-Match check and its write."""

    def __init__(self, session, reserve) -> None:  # noqa: ANN001
        self.session, self.reserve = session, reserve

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.session, name)

    async def get(self, entity, ident):  # noqa: ANN001, ANN201
        found = await self.session.get(entity, ident)
        await self.reserve()
        return found


def test_a_reserve_between_the_check_and_the_write_still_makes_it_stale(items):
    """A reservation that commits after the service checked If-Match but before it wrote
    makes the PUT change nothing: the write itself compares with what was read."""
    item = create(items)
    _, etag = read(items, item)
    context = context_of(items.app)

    async def put_while_an_order_reserves() -> None:
        async with context.session() as session, context.session() as other:

            async def reserve() -> None:
                assert await crud.take_stock(other, sku=item["sku"], qty=3) == item["id"]
                await other.commit()

            with pytest.raises(crud.StaleItemError):
                await crud.update_item(
                    ReserveAfterRead(session, reserve),
                    item_id=item["id"],
                    data=ItemUpdate(stock=10),
                    if_match=etag,
                )

    items.portal.call(put_while_an_order_reserves)
    assert read(items, item)[0]["stock"] == 7


@pytest.mark.parametrize(
    ("if_match", "status"),
    [("*", 200), ('"otro", {etag}', 200), ("W/{etag}", 412), ('"0123abcd"', 412), ("basura", 412)],
)
def test_if_match_follows_http(items, if_match, status):
    """«*» or a list naming the current tag match; a weak tag or another tag does not."""
    item = create(items)
    _, etag = read(items, item)
    response = put(items, item, {"stock": 3}, if_match=if_match.format(etag=etag))
    assert response.status_code == status, response.text
    assert read(items, item)[0]["stock"] == (3 if status == 200 else 10)


def test_a_put_without_if_match_still_works(items):
    """If-Match is optional: a PUT without it changes the item, as before."""
    item = create(items)
    response = put(items, item, {"stock": 4})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == read(items, item)[1]


def test_a_conditional_put_on_a_missing_item_is_404(items):
    """An item that does not exist is 404, If-Match or not."""
    response = items.put("/items/987654", json={"stock": 1}, headers={"If-Match": "*"})
    assert response.status_code == 404


def test_openapi_documents_etag_if_match_and_412(items):
    """/docs shows the ETag of GET and PUT, the If-Match parameter and the 412 answer."""
    operations = items.get("/openapi.json").json()["paths"]["/items/{item_id}"]
    assert "ETag" in operations["get"]["responses"]["200"]["headers"]
    assert "ETag" in operations["put"]["responses"]["200"]["headers"]
    parameters = {p["name"]: p for p in operations["put"]["parameters"]}
    assert parameters["If-Match"]["in"] == "header"
    assert not parameters["If-Match"].get("required", False)
    assert "412" in operations["put"]["responses"]
