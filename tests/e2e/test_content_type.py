"""A JSON object sent without `Content-Type: application/json` (what `curl -d` does: it
says application/x-www-form-urlencoded): the 422 names the header, not the body."""

import httpx
import pytest

from tests.helpers import service_token, unique_email

HEADER_HINT = (
    "el cuerpo tiene que ir como JSON, con la cabecera Content-Type: application/json "
    "(curl: -H 'Content-Type: application/json')"
)


def post_user(http: httpx.Client, url: str, headers: dict[str, str]) -> httpx.Response:
    body = f'{{"name":"Bea","email":"{unique_email()}"}}'
    return http.post(f"{url}/users/", content=body.encode(), headers=headers)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
@pytest.mark.parametrize("where", ["gateway", "users"])
def test_a_json_body_without_its_content_type_names_the_header(cluster, http, where, content_type):
    """curl -d without -H: a 422 whose detail says to send Content-Type: application/json."""
    headers = service_token(cluster.settings) if where == "users" else {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = post_user(http, cluster.url(where), headers)
    assert response.status_code == 422, response.text
    said = response.json()
    assert HEADER_HINT in said["detail"], said
    assert "debe ser un objeto JSON" not in said["detail"]
    assert [error["campo"] for error in said["errors"]] == ["cuerpo"]


@pytest.mark.parametrize("where", ["gateway", "users"])
def test_the_same_body_as_json_is_created(cluster, http, where):
    """With the header (and a charset) the same body makes a user: the hint is not a guess."""
    headers = service_token(cluster.settings) if where == "users" else {}
    headers["Content-Type"] = "application/json; charset=utf-8"
    assert post_user(http, cluster.url(where), headers).status_code == 201


def test_a_json_array_keeps_its_own_message(cluster, http):
    """A body sent as JSON that is not an object is still told it must be an object."""
    response = http.post(f"{cluster.url('gateway')}/users/", json=[1, 2])
    assert response.status_code == 422
    assert "'cuerpo' debe ser un objeto JSON" in response.json()["detail"]
    assert "Content-Type" not in response.json()["detail"]
