"""Gateway + orders served by uvicorn, with users and items replaced by slow fakes.

Each fake answers well within one call's attempt timeout (0.8 s of 1.5 s), but placing an
order makes two such calls (users, then items), so it takes longer than one attempt timeout
(at least 1.6 s). The gateway's call to orders is bounded by gateway_timeout (6 s), not by
the attempt timeout: it must wait for the order and answer what really happened, 201.
"""

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import uvicorn

from microservicios.gateway.main import create_app as create_gateway
from microservicios.orders.main import create_app as create_orders
from tests.helpers import make_settings

FAKE_DELAY_S = 0.8  # each dependency: comfortably under the attempt timeout...
TIMEOUTS = {
    "http_attempt_timeout": 1.5,  # ...but two of them (1.6 s) take longer than one attempt
    "http_deadline": 3.0,
    "gateway_timeout": 6.0,  # the gateway waits longer than orders needs
}
assert FAKE_DELAY_S < TIMEOUTS["http_attempt_timeout"] < 2 * FAKE_DELAY_S
assert 2 * FAKE_DELAY_S < TIMEOUTS["gateway_timeout"]


class SlowFakeHandler(BaseHTTPRequestHandler):
    """Plays users (GET /users/<id>) and items (reserve/release), slowly."""

    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        time.sleep(FAKE_DELAY_S)
        user_id = int(self.path.rsplit("/", 1)[-1])
        self._reply(200, {"id": user_id, "name": "Ana", "email": "ana@example.com"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path.endswith("/reserve"):
            time.sleep(FAKE_DELAY_S)
            status = "reserved"
        else:
            status = "released"
        self._reply(
            200,
            {
                "reservation_id": request.get("reservation_id"),
                "item_id": 1,
                "qty": request.get("qty", 0),
                "status": status,
            },
        )

    def log_message(self, *args) -> None:
        pass


def serve(app) -> tuple[uvicorn.Server, threading.Thread, int]:  # noqa: ANN001
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    return server, thread, port


@pytest.fixture
def slow_system(tmp_path) -> Iterator[dict[str, str]]:
    """A gateway and an orders service (TIMEOUTS) whose users and items are one slow fake."""
    fake = ThreadingHTTPServer(("127.0.0.1", 0), SlowFakeHandler)
    fake_thread = threading.Thread(target=fake.serve_forever, kwargs={"poll_interval": 0.05})
    fake_thread.daemon = True
    fake_thread.start()
    fake_url = f"http://127.0.0.1:{fake.server_address[1]}"

    orders_settings = make_settings(
        tmp_path / "orders", service_urls={"users": fake_url, "items": fake_url}, **TIMEOUTS
    )
    orders_server, orders_thread, orders_port = serve(create_orders(orders_settings, log_sinks=[]))
    orders_url = f"http://127.0.0.1:{orders_port}"
    gateway_settings = make_settings(
        tmp_path / "gateway",
        service_urls={"users": fake_url, "items": fake_url, "orders": orders_url},
        **TIMEOUTS,
    )
    gateway_server, gateway_thread, gateway_port = serve(
        create_gateway(gateway_settings, log_sinks=[])
    )
    try:
        yield {"gateway": f"http://127.0.0.1:{gateway_port}", "orders": orders_url}
    finally:
        for server in (gateway_server, orders_server):
            server.should_exit = True
        for thread in (gateway_thread, orders_thread):
            thread.join(10)
        fake.shutdown()
        fake.server_close()


def settled_orders(http: httpx.Client, orders_url: str) -> list[dict]:
    """The orders list once nothing is PENDING any more (bounded wait)."""
    deadline = time.monotonic() + 5
    while True:
        listed = http.get(f"{orders_url}/orders/").json()
        if all(order["status"] != "PENDING" for order in listed) or time.monotonic() > deadline:
            return listed
        time.sleep(0.05)


def place_order(http: httpx.Client, base: str) -> tuple[httpx.Response, float]:
    """POST one order to `base`; returns the response and how long it took."""
    started = time.monotonic()
    response = http.post(f"{base}/orders/", json={"user_id": 1, "item_sku": "LAPIZ-1", "qty": 1})
    return response, time.monotonic() - started


def test_gateway_waits_past_one_attempt_timeout_and_reports_the_order(slow_system):
    """An order slower than one attempt timeout is answered 201 by the gateway, as placed."""
    with httpx.Client(timeout=30.0) as http:
        response, took = place_order(http, slow_system["gateway"])
        listed = settled_orders(http, slow_system["orders"])
    assert response.status_code == 201, f"{response.status_code} {response.text}, stored: {listed}"
    assert [(o["id"], o["status"]) for o in listed] == [(response.json()["id"], "CREATED")]
    assert took > TIMEOUTS["http_attempt_timeout"]  # the race this test is about did happen


def test_orders_service_itself_places_the_slow_order(slow_system):
    """Called directly, orders waits for both slow dependencies and answers 201."""
    with httpx.Client(timeout=30.0) as http:
        response, took = place_order(http, slow_system["orders"])
        listed = settled_orders(http, slow_system["orders"])
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "CREATED"
    assert [(o["id"], o["status"]) for o in listed] == [(response.json()["id"], "CREATED")]
    assert took > TIMEOUTS["http_attempt_timeout"]
