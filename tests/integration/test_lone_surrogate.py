"""A name with half of a UTF-16 pair (JSON "\\ud800"), which no Unicode text can hold."""

import pytest

from tests.helpers import unique_email

# Sent as the JSON escape itself: json.dumps would refuse nothing, but the body must carry
# the six characters \ud800 exactly as a client that builds JSON by hand sends them.
NAMES = ["\\ud800", "Ana \\udfff", "\\udc00\\ud800"]


@pytest.mark.parametrize("name", NAMES)
def test_a_lone_surrogate_in_a_name_is_a_spanish_422(users, name):
    """POST /users/ with an unpaired surrogate in the name: 422 with a Spanish message."""
    body = f'{{"name": "{name}", "email": "{unique_email()}"}}'
    answer = users.post("/users/", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith("Datos no válidos: 'name' tiene un carácter que no existe"), detail
    assert "UTF-16" in detail
    assert "Input should" not in answer.text
    assert users.get("/users/").json() == []
