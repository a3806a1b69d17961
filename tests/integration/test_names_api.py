"""Names that only look filled, through the users and items APIs (both databases)."""

import pytest

from tests.helpers import unique_email, unique_sku

BLANK = ["\u3000", "\u00a0", "\u2003 \u202f"]
INVISIBLE = ["\u200b", "\u200b\u200b\u200b", "\ufeffA", "Ana\u200d", "\u3164"]
BLANK_DETAIL = "'name' no puede estar en blanco"
INVISIBLE_DETAIL = "'name' no puede tener caracteres invisibles"


def new_user(users, name: str):  # noqa: ANN001, ANN201
    return users.post("/users/", json={"name": name, "email": unique_email()})


def new_item(items, name: str):  # noqa: ANN001, ANN201
    return items.post("/items/", json={"name": name, "sku": unique_sku(), "stock": 1})


CASES = [(name, BLANK_DETAIL) for name in BLANK] + [(name, INVISIBLE_DETAIL) for name in INVISIBLE]


@pytest.mark.parametrize(("name", "detail"), CASES, ids=ascii)
def test_a_user_whose_name_only_looks_filled_is_422(users, name, detail):
    """POST and PUT /users/ refuse a name of Unicode spaces or invisible characters."""
    response = new_user(users, name)
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert users.get("/users/").json() == []
    user = new_user(users, "Ana").json()
    response = users.put(f"/users/{user['id']}", json={"name": name})
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert users.get(f"/users/{user['id']}").json()["name"] == "Ana"


@pytest.mark.parametrize(("name", "detail"), CASES, ids=ascii)
def test_an_item_whose_name_only_looks_filled_is_422(items, name, detail):
    """POST and PUT /items/ refuse a name of Unicode spaces or invisible characters."""
    response = new_item(items, name)
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert items.get("/items/").json() == []
    item = new_item(items, "Lápiz").json()
    response = items.put(f"/items/{item['id']}", json={"name": name})
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert items.get(f"/items/{item['id']}").json()["name"] == "Lápiz"


def test_real_names_still_work_and_lose_the_spaces_around(users, items):
    """«José Núñez» is stored as sent; ideographic and no-break spaces around it are not."""
    assert new_user(users, "José Núñez").json()["name"] == "José Núñez"
    assert new_user(users, "\u3000José Núñez\u00a0").json()["name"] == "José Núñez"
    assert new_item(items, "\u00a0Lápiz 🙂\u3000").json()["name"] == "Lápiz 🙂"
