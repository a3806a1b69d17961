"""The gateway app alone, in front of a tiny echo server that reports what it received."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from microservicios.common.settings import Settings
from microservicios.gateway.main import create_app
from microservicios.serve.runner import START_TIMEOUT_S, ServiceRunner
from tests.helpers import dependencies_at, make_settings, raw_request, service_token


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with a JSON description of it, plus some test headers."""

    protocol_version = "HTTP/1.1"
    received: list[dict]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = {
            "method": self.command,
            "path": self.path,
            "headers": [[name, value] for name, value in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        self.server.received.append(seen)  # type: ignore[attr-defined]
        payload = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Upstream", "echo")
        self.send_header("Set-Cookie", "a=1; Path=/")
        self.send_header("Set-Cookie", "b=2; Path=/")
        self.send_header("Connection", "keep-alive, X-Hop")
        self.send_header("X-Hop", "only-this-connection")
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("X-Service-Token", "upstream-secret")
        if self.path.endswith("/odd-headers"):  # send_header writes each char as one byte
            self.send_header("X-Latin1", "caf\xe9")
            self.send_header("X-Utf8", "café".encode().decode("latin-1"))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


@pytest.fixture
def echo() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def echo_url(echo: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{echo.server_address[1]}"


@pytest.fixture
def echo_settings(tmp_path, echo) -> Settings:
    """Settings whose three backends are all the echo server."""
    return make_settings(tmp_path, **dependencies_at(echo_url(echo)))


@pytest.fixture
def gateway_to_echo(echo_settings, log_records) -> Iterator[TestClient]:
    """A gateway whose three backends are all the echo server."""
    with TestClient(create_app(echo_settings, log_sinks=[log_records.append])) as client:
        yield client


@pytest.fixture
def lonely_gateway(settings, log_records) -> Iterator[TestClient]:
    """A gateway whose backends are all unreachable."""
    with TestClient(create_app(settings, log_sinks=[log_records.append])) as client:
        yield client


@pytest.fixture
def served_gateway(echo_settings) -> Iterator[str]:
    """A gateway in front of the echo, served by uvicorn: the TestClient re-encodes header
    values as UTF-8 both ways, so header bytes can only be checked over real HTTP."""
    runner = ServiceRunner(
        "gateway", "127.0.0.1", 0, lambda: create_app(echo_settings, log_sinks=[])
    )
    runner.bind()
    runner.launch(echo_settings.server_keepalive_timeout, echo_settings.header_timeout)
    try:
        runner.wait_started(time.monotonic() + START_TIMEOUT_S)
        yield f"http://127.0.0.1:{runner.port}"
    finally:
        runner.request_stop()
        runner.join()


def header_values(seen: dict, name: str) -> list[str]:
    return [value for key, value in seen["headers"] if key.lower() == name.lower()]


def test_forwards_method_path_query_and_body(gateway_to_echo, echo):
    """The upstream sees the same method, path, raw query and body the client sent."""
    response = gateway_to_echo.post(
        "/users/?limit=5&q=a%20b",
        content=b'{"name": "Ana"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    [seen] = echo.received
    assert seen["method"] == "POST"
    assert seen["path"] == "/users/?limit=5&q=a%20b"
    assert seen["body"] == '{"name": "Ana"}'
    assert header_values(seen, "content-type") == ["application/json"]


def test_collection_path_without_slash_is_forwarded_with_slash(gateway_to_echo, echo):
    """'/items' reaches the items service as '/items/'."""
    gateway_to_echo.get("/items")
    assert echo.received[0]["path"] == "/items/"


def test_path_segments_are_re_encoded(gateway_to_echo, echo):
    """An encoded space or '?' in a segment stays encoded upstream."""
    gateway_to_echo.get("/users/a%20b%3Fc")
    assert echo.received[0]["path"] == "/users/a%20b%3Fc"


def test_client_service_token_is_replaced_by_the_gateways(tmp_path, echo):
    """A client's X-Service-Token never reaches a service; the gateway sends its own."""
    settings = make_settings(
        tmp_path, **dependencies_at(echo_url(echo)), service_secret="gateway-secret"
    )
    with TestClient(create_app(settings, log_sinks=[])) as client:
        client.get("/users/1", headers={"X-Service-Token": "client-forgery"})
    [seen] = echo.received
    assert header_values(seen, "x-service-token") == ["gateway-secret"]


def test_hop_by_hop_request_headers_are_not_forwarded(gateway_to_echo, echo):
    """Headers named in the client's Connection header stop at the gateway; others pass."""
    gateway_to_echo.get(
        "/users/1",
        headers={"Connection": "keep-alive, X-Foo", "X-Foo": "secret", "X-Custom": "kept"},
    )
    [seen] = echo.received
    assert header_values(seen, "x-foo") == []
    assert header_values(seen, "x-custom") == ["kept"]


def test_request_id_travels_to_the_service_and_back(gateway_to_echo, echo):
    """The client's X-Request-ID is sent upstream once and returned unchanged."""
    response = gateway_to_echo.get("/orders/", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert header_values(echo.received[0], "x-request-id") == ["trace-123"]


def test_response_headers_pass_except_hop_by_hop(gateway_to_echo):
    """Custom headers and both Set-Cookie come back; headers named by Connection do not."""
    response = gateway_to_echo.get("/users/1")
    assert response.headers["x-upstream"] == "echo"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert "x-hop" not in response.headers
    assert "keep-alive" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)


def test_internal_route_is_refused_without_calling_the_service(
    gateway_to_echo, echo, echo_settings
):
    """/items/internal/... is a 404 at the gateway, even with a valid token."""
    response = gateway_to_echo.post(
        "/items/internal/reserve",
        json={"reservation_id": "x", "sku": "A", "qty": 1},
        headers=service_token(echo_settings),
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Ruta no encontrada."}
    assert echo.received == []


def test_unreachable_service_is_503_in_spanish(lonely_gateway):
    """A backend that refuses connections gives a 503 naming it, in Spanish."""
    response = lonely_gateway.get("/users/1")
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "'users'" in detail
    assert "no está disponible" in detail


def test_root_health_and_docs(lonely_gateway):
    """The gateway answers /, /health and /docs itself."""
    assert lonely_gateway.get("/").json() == {"message": "Gateway listo"}
    health = lonely_gateway.get("/health").json()
    assert (health["service"], health["status"]) == ("gateway", "ok")
    docs = lonely_gateway.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


def test_unknown_gateway_route_is_404_in_spanish(lonely_gateway):
    """A path that is neither a service nor a gateway route is a Spanish 404."""
    response = lonely_gateway.get("/usersX")
    assert response.status_code == 404
    assert response.json() == {"detail": "Ruta no encontrada."}


def test_client_forwarded_headers_are_replaced_by_the_gateways(gateway_to_echo, echo):
    """The service sees the client's address as the gateway saw it, not what it claimed."""
    gateway_to_echo.get(
        "/users/1",
        headers={
            "Forwarded": "for=6.6.6.6;host=evil.example",
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https",
        },
    )
    [seen] = echo.received
    assert header_values(seen, "forwarded") == []
    assert header_values(seen, "x-forwarded-host") == []
    assert header_values(seen, "x-forwarded-for") == ["testclient"]  # TestClient's address
    assert header_values(seen, "x-forwarded-proto") == ["http"]


def test_upstream_service_token_does_not_reach_the_client(gateway_to_echo):
    """An X-Service-Token in a service's answer stops at the gateway."""
    response = gateway_to_echo.get("/users/1")
    assert response.status_code == 200
    assert "x-service-token" not in response.headers


def test_utf8_request_header_arrives_byte_for_byte(served_gateway, echo):
    """'café' sent as UTF-8 reaches the service as the same bytes, not as 'cafÃ©'."""
    response = raw_request(served_gateway, "GET", "/users/1", headers={"X-Nombre": "café".encode()})
    assert response.status == 200
    [value] = header_values(echo.received[0], "x-nombre")
    assert value.encode("latin-1") == "café".encode()  # the echo decodes header bytes as Latin-1


def test_response_header_bytes_reach_the_client_unchanged(served_gateway):
    """A Latin-1 byte E9 and the UTF-8 bytes C3 A9 in a service's headers come back as sent."""
    response = raw_request(served_gateway, "GET", "/users/odd-headers")
    assert response.status == 200
    # http.client decodes header bytes as Latin-1: encoding back gives the bytes received.
    assert response.header("x-latin1").encode("latin-1") == b"caf\xe9"
    assert response.header("x-utf8").encode("latin-1") == "café".encode()


def test_request_header_that_is_not_utf8_is_refused(served_gateway, echo):
    """A lone byte E9 cannot be forwarded unchanged (aiohttp writes UTF-8): a Spanish 400
    naming the header, and the service is not called."""
    response = raw_request(served_gateway, "GET", "/users/1", headers={"X-Nombre": b"caf\xe9"})
    assert response.status == 400
    detail = response.json()["detail"]
    assert "'x-nombre'" in detail
    assert "UTF-8" in detail
    assert echo.received == []


@pytest.mark.parametrize("method", ["CONNECT", "TRACE", "PROPFIND"])
def test_methods_the_gateway_does_not_forward_are_405(gateway_to_echo, echo, method):
    """CONNECT, TRACE and unknown methods stop at the gateway with a Spanish 405 and Allow."""
    response = gateway_to_echo.request(method, "/users/1")
    assert response.status_code == 405
    assert response.json()["detail"].startswith("Método no permitido")
    allowed = {name.strip() for name in response.headers["allow"].split(",")}
    assert allowed == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    assert echo.received == []
