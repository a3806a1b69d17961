"""Paths: what each gateway path becomes upstream, and where a slash redirect points."""

import pytest

from microservicios.common.web.redirects import relative_location
from microservicios.gateway.paths import upstream_path
from microservicios.gateway.proxy import service_of


@pytest.mark.parametrize(
    ("service", "path", "expected"),
    [
        ("users", "/users/1", "/users/1"),
        ("users", "/users", "/users/"),
        ("users", "/users/", "/users/"),
        ("users", "/users/1/", "/users/1"),
        ("users", "/users//1", "/users/1"),
        ("users", "/users/./1", "/users/1"),
        ("users", "/users/1/../2", "/users/2"),
        ("items", "/items/7", "/items/7"),
        ("orders", "/orders/", "/orders/"),
        ("users", "/users/internals", "/users/internals"),
    ],
)
def test_upstream_path_keeps_paths_inside_the_service(service, path, expected):
    """A path inside the service maps to the same resource, normalised."""
    assert upstream_path(service, path) == expected


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("users", "/usersX"),
        ("users", "/usersX/1"),
        ("users", "/users@127.0.0.1:9/x"),
        ("users", "/users/../../x"),
        ("users", "/users/.."),
        ("users", "/users/../items/1"),
        ("users", "/users/1/../../items/1"),
        ("users", "/items/1"),
        ("users", "/"),
        ("users", ""),
        ("users", "/users/internal/x"),
        ("users", "/users/internal"),
        ("items", "/items/internal/reserve"),
        ("items", "/items/INTERNAL/reserve"),
        ("items", "/items/Internal/release"),
        ("items", "/items/x/../internal/reserve"),
    ],
)
def test_upstream_path_refuses_paths_that_leave_the_service_or_are_internal(service, path):
    """Look-alike prefixes, '..' escapes, other services and internal routes get None."""
    assert upstream_path(service, path) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/a b", "/users/a%20b"),
        ("/users/a%20b", "/users/a%2520b"),
        ("/users/1?admin=1", "/users/1%3Fadmin=1"),
        ("/users/1#frag", "/users/1%23frag"),
        ("/users/ñ", "/users/%C3%B1"),
        ("/users/a:b@c", "/users/a:b@c"),
    ],
)
def test_upstream_path_percent_encodes_each_segment(path, expected):
    """Decoded characters that mean something in a URL are re-encoded, never reinterpreted."""
    assert upstream_path("users", path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/1", "users"),
        ("/users", "users"),
        ("/items/internal/reserve", "items"),
        ("/orders/", "orders"),
        ("/usersX", None),
        ("/users@127.0.0.1:9/x", None),
        ("/gateway/x", None),
        ("/health", None),
        ("/docs", None),
        ("/", None),
        ("", None),
        ("users/1", None),
    ],
)
def test_service_of_matches_the_first_segment_exactly(path, expected):
    """Only an exact first segment naming a backend selects it."""
    assert service_of(path, ("users", "items", "orders")) == expected


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/health", b"", "/health"),
        ("/users/a b", b"", "/users/a%20b"),
        ("/users/a?b#c", b"", "/users/a%3Fb%23c"),
        ("//evil.example/health", b"", "/evil.example/health"),
        ("/\\evil.example/health", b"", "/%5Cevil.example/health"),
        ("/health", b"a=1&b=x%20y", "/health?a=1&b=x%20y"),
        ("/health", b"q=caf\xe9", "/health?q=caf%E9"),
    ],
)
def test_relative_location_stays_on_this_host(path, query, expected):
    """A redirect Location is one path on this server: never '//host' nor a '\\' trick."""
    assert relative_location(path, query) == expected
