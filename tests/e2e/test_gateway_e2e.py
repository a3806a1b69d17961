"""The gateway in front of the real services of a running in-process cluster."""

import re
import uuid

import pytest

from tests.helpers import raw_request, service_token, stock_of


@pytest.fixture(scope="module")
def sample(cluster, http):
    """One user, one item and one order, created directly on each service."""
    user = http.post(
        f"{cluster.url('users')}/users/",
        json={"name": "Muestra", "email": f"m-{uuid.uuid4().hex[:10]}@example.com"},
    ).json()
    item = http.post(
        f"{cluster.url('items')}/items/",
        json={"name": "Muestra", "sku": f"M-{uuid.uuid4().hex[:10]}", "stock": 100},
    ).json()
    order = http.post(
        f"{cluster.url('orders')}/orders/",
        json={"user_id": user["id"], "item_sku": item["sku"], "qty": 1},
    )
    assert order.status_code == 201, order.text
    return {"user": user["id"], "item": item["id"], "order": order.json()["id"]}


ROUTES = [
    ("users", "GET", "/users/{user}", None),
    ("users", "GET", "/users/?limit=2", None),
    ("users", "GET", "/users/987654321", None),
    ("users", "GET", "/users/0", None),
    ("users", "GET", "/users/99999999999999999999", None),
    ("users", "GET", "/users/?limit=1001", None),
    ("users", "PUT", "/users/{user}", {"name": "Muestra Dos"}),
    ("users", "PUT", "/users/987654321", {"name": "Nadie"}),
    ("users", "POST", "/users/", {"name": "Sin email"}),
    ("users", "DELETE", "/users/987654321", None),
    ("users", "PATCH", "/users/{user}", {"name": "X"}),
    ("items", "GET", "/items/{item}", None),
    ("items", "GET", "/items/?limit=1&offset=0", None),
    ("items", "GET", "/items/987654321", None),
    ("items", "PUT", "/items/{item}", {"name": "Muestra Dos"}),
    ("items", "POST", "/items/", {"name": "Malo", "sku": "MALO", "stock": -1}),
    ("orders", "GET", "/orders/{order}", None),
    ("orders", "GET", "/orders/987654321", None),
    ("orders", "POST", "/orders/", {"user_id": 1, "item_sku": "X", "qty": 0}),
]


@pytest.mark.parametrize(
    ("service", "method", "template", "body"),
    ROUTES,
    ids=[f"{method} {template}" for _, method, template, _ in ROUTES],
)
def test_route_answers_the_same_directly_and_via_gateway(
    cluster, http, sample, service, method, template, body
):
    """Through the gateway a route gives the same status and JSON as on the service."""
    path = template.format(**sample)
    direct = http.request(method, cluster.url(service) + path, json=body)
    proxied = http.request(method, cluster.url("gateway") + path, json=body)
    assert proxied.status_code == direct.status_code
    assert proxied.json() == direct.json()
    assert proxied.headers["content-type"] == direct.headers["content-type"]


def test_gateway_get_user_equals_direct_get(cluster, http, new_user):
    """GET gateway/users/{id} returns exactly what GET users/users/{id} returns."""
    user = new_user()
    direct = http.get(f"{cluster.url('users')}/users/{user['id']}")
    proxied = http.get(f"{cluster.url('gateway')}/users/{user['id']}")
    assert proxied.status_code == direct.status_code == 200
    assert proxied.json() == direct.json() == user


def test_delete_via_gateway_is_204_without_body(http, gateway, new_user):
    """DELETE through the gateway answers 204 with an empty body, then the user is gone."""
    user = new_user()
    response = http.delete(f"{gateway}/users/{user['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert http.get(f"{gateway}/users/{user['id']}").status_code == 404


def test_collection_without_trailing_slash_works_via_gateway(http, gateway, new_user):
    """GET gateway/users (no slash) lists users, as GET gateway/users/ does."""
    new_user()
    without_slash = http.get(f"{gateway}/users?limit=5")
    with_slash = http.get(f"{gateway}/users/?limit=5")
    assert without_slash.status_code == 200
    assert without_slash.json() == with_slash.json()
    assert len(without_slash.json()) >= 1


@pytest.mark.parametrize(
    "path",
    [
        "/users@127.0.0.1:9/x",
        "/users/../../x",
        "/users/../items/1",
        "/usersX",
        "/users/%2e%2e/%2e%2e/x",
        "/users/%2E%2E/items/1",
        "/users/..%2f..%2fx",
        "/items/internal/reserve",
        "/items/INTERNAL/reserve",
        "/items/%69nternal/reserve",
        "/items/x/../internal/reserve",
    ],
)
def test_gateway_refuses_escaping_and_internal_paths_with_404(cluster, path):
    """Paths that leave the service or reach internal routes are a Spanish 404, never 500."""
    response = raw_request(cluster.url("gateway"), "GET", path)
    assert response.status == 404, (path, response.body)
    assert response.json() == {"detail": "Ruta no encontrada."}


@pytest.mark.parametrize("service", ["gateway", "users"])
@pytest.mark.parametrize("path", ["/health/", "/docs/", "/metrics/"])
def test_slash_redirect_never_points_to_the_clients_host(cluster, service, path):
    """Over real HTTP, 'Host: evil.example' gets a redirect to a path on this server."""
    response = raw_request(cluster.url(service), "GET", path, host="evil.example")
    assert response.status == 307
    assert response.header("location") == path.rstrip("/")


def test_internal_reserve_via_gateway_is_404_even_with_a_valid_token(cluster, http, new_item):
    """A client cannot reach /items/internal/reserve through the gateway, token or not."""
    item = new_item(stock=5)
    body = b'{"reservation_id": "from-outside", "sku": "' + item["sku"].encode() + b'", "qty": 5}'
    response = raw_request(
        cluster.url("gateway"),
        "POST",
        "/items/internal/reserve",
        body=body,
        headers={"Content-Type": "application/json", **service_token(cluster.settings)},
    )
    assert response.status == 404
    assert stock_of(http, item["id"], base=cluster.url("items")) == 5


def test_gateway_response_carries_a_request_id(http, gateway):
    """Every gateway answer has an X-Request-ID of 32 hex digits."""
    for path in ("/", "/users/", "/nope"):
        request_id = http.get(f"{gateway}{path}").headers.get("x-request-id", "")
        assert re.fullmatch(r"[0-9a-f]{32}", request_id), (path, request_id)


def test_client_request_id_is_returned_and_reaches_the_users_logs(
    cluster, http, gateway, unique_email
):
    """A client's X-Request-ID comes back unchanged and tags the users service's log."""
    request_id = f"e2e-{uuid.uuid4().hex}"
    response = http.post(
        f"{gateway}/users/",
        json={"name": "Traza", "email": unique_email()},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == request_id
    records = cluster.logs(service="users", request_id=request_id)
    created = [record for record in records if record["event"] == "user.created"]
    assert len(created) == 1
    assert created[0]["user_id"] == response.json()["id"]
    assert cluster.logs(service="users", event="user.created", request_id="nope") == []


def test_chunked_request_body_via_gateway(http, gateway, unique_email):
    """A POST whose body arrives in chunks (no Content-Length) is forwarded whole."""
    email = unique_email()

    def body():
        yield b'{"name": "Tro'
        yield b'zos", "email": "'
        yield email.encode()
        yield b'"}'

    request = http.build_request(
        "POST", f"{gateway}/users/", content=body(), headers={"Content-Type": "application/json"}
    )
    assert request.headers.get("transfer-encoding") == "chunked"
    response = http.send(request)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Trozos"
    assert response.json()["email"] == email


def test_gateway_root(http, gateway):
    """GET / on the gateway says it is ready."""
    response = http.get(f"{gateway}/")
    assert response.status_code == 200
    assert response.json() == {"message": "Gateway listo"}


@pytest.mark.parametrize("service", ["gateway", "users", "items", "orders"])
def test_health_of_each_service(cluster, http, service):
    """Each of the four answers /health with its own name and status ok."""
    response = http.get(f"{cluster.url(service)}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == service
    assert body["status"] == "ok"


@pytest.mark.parametrize("service", ["gateway", "users", "items", "orders"])
def test_docs_of_each_service(cluster, http, service):
    """Each service serves its interactive docs (HTML) and the OpenAPI schema behind them."""
    docs = http.get(f"{cluster.url(service)}/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    schema = http.get(f"{cluster.url(service)}/openapi.json")
    assert schema.status_code == 200
    assert "openapi" in schema.json()


def test_gateway_internal_routes_refuse_clients_without_the_token(http, gateway):
    """Without the token the gateway's own /internal/faults does not exist: a Spanish 404."""
    for method in ("GET", "PUT", "DELETE"):
        response = http.request(method, f"{gateway}/internal/faults", json={"hang": True})
        assert response.status_code == 404, (method, response.text)
        assert response.json() == {"detail": "Ruta no encontrada."}
    assert http.get(f"{gateway}/").status_code == 200
