"""The users service on its own."""

import io
import json
import os
import stat
import threading
from collections import Counter

import httpx
import pytest
from fastapi.testclient import TestClient

from microservicios.telemetry.logs import StreamSink
from microservicios.users.main import create_app
from tests.helpers import PATIENT_CLIENT_TIMEOUT_S, dependencies_at, make_settings


def create(users, name="Ana", email="ana@example.com"):
    return users.post("/users/", json={"name": name, "email": email})


def test_create_user_returns_201_with_id(users):
    """Creating a user answers 201 with its id, name and email."""
    response = create(users)
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Ana"
    assert body["email"] == "ana@example.com"
    assert isinstance(body["id"], int) and body["id"] >= 1
    assert users.get(f"/users/{body['id']}").json() == body


def test_created_user_email_is_lowercased_and_name_stripped(users):
    """The stored email is lower-case and the name has no surrounding spaces."""
    body = create(users, name="  Ana  ", email="Ana.Perez@Example.COM").json()
    assert body["name"] == "Ana"
    assert body["email"] == "ana.perez@example.com"


def test_duplicate_email_is_409(users):
    """A second user with the same email gets 409 with a Spanish detail."""
    assert create(users).status_code == 201
    response = create(users, name="Otra")
    assert response.status_code == 409
    assert response.json()["detail"] == "Ya existe un usuario con ese email."


def test_duplicate_email_differing_only_in_case_is_409(users):
    """'Ana@X.com' and 'ana@x.com' are the same address."""
    assert create(users, email="Ana@X.com").status_code == 201
    response = create(users, email="ana@x.com")
    assert response.status_code == 409
    assert len(users.get("/users/").json()) == 1


def test_invalid_email_is_422_in_spanish(users):
    """A malformed email is refused with 'Datos no válidos' naming the field."""
    response = create(users, email="not-an-email")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("Datos no válidos")
    assert "email" in detail


def test_missing_fields_are_422_in_spanish(users):
    """A body without name and email lists both as obligatory."""
    response = users.post("/users/", json={})
    assert response.status_code == 422
    body = response.json()
    assert "'name' es obligatorio" in body["detail"]
    assert "'email' es obligatorio" in body["detail"]
    assert {error["campo"] for error in body["errors"]} == {"name", "email"}


@pytest.mark.parametrize("body", [b"{not json", b'{"name": "Ana",', b"\xff\xfe not UTF-8"])
def test_unparseable_body_is_422_naming_the_body(users, body):
    """A body that is not JSON (or not even text) is the same Spanish 422, about the body."""
    response = users.post("/users/", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Datos no válidos: el cuerpo no es JSON válido.",
        "errors": [
            {"campo": "cuerpo", "mensaje": "el cuerpo no es JSON válido", "tipo": "json_invalid"}
        ],
    }


def test_name_of_101_chars_is_422(users):
    """Names are limited to 100 characters."""
    assert create(users, name="x" * 100, email="a@example.com").status_code == 201
    response = create(users, name="x" * 101, email="b@example.com")
    assert response.status_code == 422
    assert "máximo 100" in response.json()["detail"]


def test_blank_name_is_422(users):
    """A name made only of blanks is refused as blank."""
    response = create(users, name="    ")
    assert response.status_code == 422
    assert "'name' no puede estar en blanco" in response.json()["detail"]


def test_email_outside_the_documented_pattern_is_422(users):
    """Spaces around an email are not trimmed: the schema's pattern forbids them."""
    assert create(users, email=" ana@example.com").status_code == 422
    assert create(users, email="ana@example..com").status_code == 422


@pytest.mark.parametrize("name", ["Ana\x00", "A\x00na", "Ana\nPérez", "Ana\x1bx", "Ana\x7f"])
def test_name_with_a_control_character_is_422_in_spanish(users, name):
    """NUL, a line break or ESC inside a name are refused, with a Spanish message."""
    response = create(users, name=name)
    assert response.status_code == 422
    assert "'name' no puede tener caracteres de control" in response.json()["detail"]
    assert users.get("/users/").json() == []


def test_update_to_a_name_with_a_control_character_is_422(users):
    """PUT checks the new name the same way."""
    user = create(users).json()
    response = users.put(f"/users/{user['id']}", json={"name": "Ana\x00"})
    assert response.status_code == 422
    assert users.get(f"/users/{user['id']}").json()["name"] == "Ana"


def test_get_unknown_user_is_404_in_spanish(users):
    """An id that does not exist gives 404 'Usuario no encontrado.'."""
    response = users.get("/users/12345")
    assert response.status_code == 404
    assert response.json() == {"detail": "Usuario no encontrado."}


def test_id_zero_is_422(users):
    """Ids start at 1."""
    response = users.get("/users/0")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Datos no válidos")


def test_huge_id_is_422_not_500(users):
    """An id beyond SQLite's integers is a validation error, not a crash."""
    for method in ("GET", "PUT", "DELETE"):
        response = users.request(method, "/users/99999999999999999999", json={"name": "X"})
        assert response.status_code == 422, (method, response.text)


def test_non_numeric_id_is_422(users):
    """A path id that is not a number is a 422 in Spanish."""
    response = users.get("/users/abc")
    assert response.status_code == 422
    assert "número entero" in response.json()["detail"]


def test_partial_put_changes_only_the_field_sent(users):
    """PUT with only a name keeps the email, and vice versa."""
    user = create(users).json()
    renamed = users.put(f"/users/{user['id']}", json={"name": "Ana María"})
    assert renamed.status_code == 200
    assert renamed.json() == {**user, "name": "Ana María"}
    moved = users.put(f"/users/{user['id']}", json={"email": "NEW@example.com"})
    assert moved.json() == {**user, "name": "Ana María", "email": "new@example.com"}
    assert users.get(f"/users/{user['id']}").json() == moved.json()


def test_put_invalid_values_is_422_and_changes_nothing(users):
    """A PUT with an invalid field is refused and the user stays as it was."""
    user = create(users).json()
    response = users.put(f"/users/{user['id']}", json={"name": "x" * 101})
    assert response.status_code == 422
    assert users.get(f"/users/{user['id']}").json() == user


def test_put_to_a_taken_email_is_409(users):
    """Changing an email to another user's address is a 409 and changes nothing."""
    ana = create(users, email="ana@example.com").json()
    bea = create(users, name="Bea", email="bea@example.com").json()
    response = users.put(f"/users/{bea['id']}", json={"email": "ANA@example.com"})
    assert response.status_code == 409
    assert response.json()["detail"] == "Ya existe un usuario con ese email."
    assert users.get(f"/users/{bea['id']}").json() == bea
    assert users.get(f"/users/{ana['id']}").json() == ana


def test_put_unknown_user_is_404(users):
    """Updating a user that does not exist is a 404."""
    response = users.put("/users/777", json={"name": "X"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Usuario no encontrado."


def test_delete_is_204_then_404(users):
    """Deleting answers 204 with no body; the user is then gone and a second delete is 404."""
    user = create(users).json()
    deleted = users.delete(f"/users/{user['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert users.get(f"/users/{user['id']}").status_code == 404
    assert users.delete(f"/users/{user['id']}").status_code == 404


def test_deleted_users_email_can_be_used_again(users):
    """After deleting a user, its email is free for a new one."""
    user = create(users).json()
    users.delete(f"/users/{user['id']}")
    assert create(users).status_code == 201


def test_list_limit_and_offset(users):
    """limit and offset page through users in id order."""
    created = [create(users, name=f"U{i}", email=f"u{i}@example.com").json() for i in range(3)]
    assert users.get("/users/").json() == created
    assert users.get("/users/", params={"limit": 1}).json() == created[:1]
    assert users.get("/users/", params={"limit": 1, "offset": 1}).json() == created[1:2]
    assert users.get("/users/", params={"offset": 3}).json() == []
    assert users.get("/users/", params={"limit": 1000}).status_code == 200


def test_list_limit_out_of_range_is_422(users):
    """limit must be 1..1000 and offset at least 0."""
    for params in ({"limit": 1001}, {"limit": 0}, {"offset": -1}, {"limit": "many"}):
        response = users.get("/users/", params=params)
        assert response.status_code == 422, params
        assert response.json()["detail"].startswith("Datos no válidos")


def test_unknown_route_is_404_in_spanish(users):
    """A route that does not exist answers in Spanish."""
    response = users.get("/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Ruta no encontrada."}


def test_wrong_method_is_405_in_spanish_with_every_allowed_method(users):
    """A 405 answers in Spanish and its Allow names all methods of the path, not just one."""
    response = users.patch("/users/1", json={})
    assert response.status_code == 405
    assert response.json() == {"detail": "Método no permitido en esta ruta."}
    assert response.headers["allow"] == "GET, PUT, DELETE"
    assert users.delete("/users/").headers["allow"] == "GET, POST"


def test_health(users):
    """/health names the service and says ok."""
    response = users.get("/health")
    assert response.status_code == 200
    assert response.json() == {"service": "users", "status": "ok"}


def test_response_carries_a_request_id_and_keeps_the_clients(users):
    """Every answer has an X-Request-ID; a client's own id comes back unchanged."""
    generated = users.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    assert (
        users.get("/health", headers={"X-Request-ID": "mine-1"}).headers["x-request-id"] == "mine-1"
    )


def test_logs_never_contain_email_addresses(users, log_records):
    """No log record mentions a user's email, whatever happened to the user."""
    user = create(users, email="secret.person@example.com").json()
    create(users, email="secret.person@example.com")  # 409
    users.put(f"/users/{user['id']}", json={"email": "other.secret@example.com"})
    users.delete(f"/users/{user['id']}")
    assert any(record["event"] == "user.created" for record in log_records)
    dumped = [json.dumps(record, default=str) for record in log_records]
    assert not [line for line in dumped if "secret.person" in line or "other.secret" in line]
    assert not [line for line in dumped if "@example.com" in line]


def test_path_with_unicode_line_breaks_is_logged_on_one_line_per_record(settings):
    """U+2028, U+2029 and U+0085 in a path are escaped: a splitlines() reader sees one
    line per record, and each line reads back to the path as it was."""
    stream, records = io.StringIO(), []
    sinks = [StreamSink(stream), records.append]
    with TestClient(create_app(settings, log_sinks=sinks)) as users:
        users.get("/users/a%E2%80%A8b%E2%80%A9c%C2%85d")
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(records)
    paths = [json.loads(line).get("path") for line in lines]
    assert "/users/a\u2028b\u2029c\x85d" in paths


def test_user_created_is_logged_with_the_request_id(users, log_records):
    """Creating a user logs 'user.created' with the user's id and the request's id."""
    response = users.post(
        "/users/",
        json={"name": "Ana", "email": "log@example.com"},
        headers={"X-Request-ID": "rid-users-1"},
    )
    assert response.status_code == 201
    created = [record for record in log_records if record["event"] == "user.created"]
    assert len(created) == 1
    assert created[0]["user_id"] == response.json()["id"]
    assert created[0]["service"] == "users"
    assert created[0]["request_id"] == "rid-users-1"


@pytest.mark.skipif(
    os.name != "posix", reason="Windows has no POSIX permission bits (chmod only sets read-only)"
)
def test_data_folder_and_database_files_are_private(tmp_path, nowhere):
    """users.db holds e-mail addresses: its folder is 0700; it and its -wal/-shm are 0600."""
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir, **dependencies_at(nowhere))
    previous = os.umask(0o022)  # the usual umask, under which they used to be 0755 and 0644
    try:
        with TestClient(create_app(settings, log_sinks=[])) as users:
            assert create(users).status_code == 201
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data_dir.iterdir()}
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert modes == {"users.db": 0o600, "users.db-wal": 0o600, "users.db-shm": 0o600}


def test_concurrent_duplicate_email_gives_exactly_one_201(cluster, unique_email):
    """20 simultaneous creations of one email: one 201, nineteen 409, no 5xx."""
    url = f"{cluster.url('users')}/users/"
    email = unique_email()
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    # Straight to users, which calls no one: only this client's timeout could turn a slow
    # answer on a busy machine into a miscount, so it is far longer than any answer takes.
    def post(index: int) -> None:
        with httpx.Client(timeout=PATIENT_CLIENT_TIMEOUT_S) as client:
            barrier.wait()
            status = client.post(url, json={"name": f"N{index}", "email": email}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENT_CLIENT_TIMEOUT_S + 10)
    assert Counter(statuses) == {201: 1, 409: 19}
    listed = httpx.get(url, params={"limit": 1000}).json()
    assert [user["email"] for user in listed].count(email) == 1
