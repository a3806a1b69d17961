"""Trailing-slash redirects, in every app: a path, never a host the client chose."""

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from microservicios.gateway.main import create_app as create_gateway
from microservicios.items.main import create_app as create_items
from microservicios.orders.main import create_app as create_orders
from microservicios.users.main import create_app as create_users

APPS: dict[str, Callable[..., FastAPI]] = {
    "users": create_users,
    "items": create_items,
    "orders": create_orders,
    "gateway": create_gateway,
}
EVIL_HOST = {"Host": "evil.example"}


@pytest.fixture(params=list(APPS))
def any_app(request, settings) -> Iterator[TestClient]:
    with TestClient(APPS[request.param](settings, log_sinks=[])) as client:
        yield client


@pytest.mark.parametrize("path", ["/health", "/docs", "/metrics"])
def test_slash_redirect_is_a_relative_path_whatever_the_host(any_app, path):
    """'/health/' with 'Host: evil.example' redirects to '/health', not to evil.example."""
    response = any_app.get(f"{path}/", headers=EVIL_HOST, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == path


def test_slash_redirect_keeps_the_query(any_app):
    """The query string survives the redirect."""
    response = any_app.get("/health/?a=1&b=x%20y", headers=EVIL_HOST, follow_redirects=False)
    assert response.headers["location"] == "/health?a=1&b=x%20y"


def test_slash_redirect_still_works_when_followed(any_app):
    """A client that follows the redirect gets the page."""
    response = any_app.get("/health/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_slash_redirect_of_a_service_route_is_relative(settings):
    """'/users/1/' on the users service redirects to '/users/1', with any Host."""
    with TestClient(create_users(settings, log_sinks=[])) as users:
        response = users.get("/users/1/", headers=EVIL_HOST, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/users/1"


def test_slash_redirect_location_is_percent_encoded(settings):
    """A decoded space in the path goes back encoded: the Location is a valid reference."""
    with TestClient(create_users(settings, log_sinks=[])) as users:
        response = users.get("/users/a%20b/", follow_redirects=False)
    assert response.headers["location"] == "/users/a%20b"


def test_unknown_path_is_still_404(any_app):
    """Only a path that matches a route once its slash is fixed is redirected."""
    response = any_app.get("/nothing-here/", headers=EVIL_HOST, follow_redirects=False)
    assert response.status_code == 404
    assert response.json() == {"detail": "Ruta no encontrada."}
