"""No route runs for a request whose body did not arrive whole; bodies and headers are bounded."""

import concurrent.futures
import socket
import sys
import time

import httpx
import pytest

from tests.helpers import create_item, create_user, make_cluster, port_of

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = make_cluster(tmp_path_factory.mktemp("limits"), body_timeout=1.0, header_timeout=1.0)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def http(cluster):
    with httpx.Client(base_url=cluster.url("gateway"), timeout=30) as client:
        yield client


def hang_up_after(url: str, head: str, body: bytes = b"") -> None:
    """Send `head` and `body` as they are, then close the connection at once."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + body)


def send_raw(url: str, head: str, body: bytes = b"", close_after: float = 0.2) -> bytes:
    """Send `head` and `body` as they are, wait a little; whatever came back, then close."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + body)
        time.sleep(close_after)
        sock.settimeout(close_after + 2)
        try:
            return sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return b""


def order_body(user_id: int, sku: str) -> bytes:
    return f'{{"user_id": {user_id}, "item_sku": "{sku}", "qty": 1}}'.encode()


def test_truncated_order_through_the_gateway_creates_nothing(cluster, http):
    """Content-Length 60, 40 bytes sent, then the client hangs up: no order, stock intact."""
    user, item = create_user(http), create_item(http, stock=5)
    body = order_body(user["id"], item["sku"]).ljust(60)
    head = (
        "POST /orders/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 60\r\n\r\n"
    )
    hang_up_after(cluster.url("gateway"), head, body[:40])
    time.sleep(0.5)
    assert [o for o in http.get("/orders/").json() if o["item_sku"] == item["sku"]] == []
    assert http.get(f"/items/{item['id']}").json()["stock"] == 5
    assert cluster.logs(service="gateway", event="http.incomplete_body")


def test_cancel_whose_client_hung_up_before_its_body_cancels_nothing(cluster, http):
    """A cancel announcing a body that never comes does not cancel the order."""
    user, item = create_user(http), create_item(http, stock=5)
    order = http.post("/orders/", json={"user_id": user["id"], "item_sku": item["sku"], "qty": 1})
    assert order.status_code == 201, order.text
    head = f"POST /orders/{order.json()['id']}/cancel HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
    hang_up_after(cluster.url("gateway"), head)
    time.sleep(0.5)
    assert http.get(f"/orders/{order.json()['id']}").json()["status"] == "CREATED"


def test_delete_with_a_broken_chunked_body_deletes_nothing(cluster, http):
    """DELETE /users/{id} straight to users with a malformed chunk (`ZZ`): the user stays."""
    user = create_user(http)
    head = f"DELETE /users/{user['id']} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = send_raw(cluster.url("users"), head, b"ZZ\r\n", close_after=0.3)
    assert not answer.startswith(b"HTTP/1.1 204"), answer[:200]
    assert http.get(f"/users/{user['id']}").status_code == 200


@pytest.mark.parametrize("service", ["gateway", "users"])
def test_a_body_over_the_limit_is_413_in_spanish(cluster, service):
    """A 2 MiB body is refused with 413 and a Spanish detail, declared or chunked."""
    big = b'{"name": "' + b"x" * (2 * MIB) + b'", "email": "a@b.co"}'
    declared = httpx.post(cluster.url(service) + "/users/", content=big, timeout=30)
    chunked = httpx.post(
        cluster.url(service) + "/users/",
        content=iter([big[i : i + 65536] for i in range(0, len(big), 65536)]),
        timeout=30,
    )
    for answer in (declared, chunked):
        assert answer.status_code == 413
        assert "demasiado grande" in answer.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{f"X-Extra-{n}": "1" for n in range(150)}, {"X-Huge": "a" * (64 * 1024)}],
    ids=["too-many", "too-large"],
)
def test_too_many_or_too_large_headers_are_431(cluster, headers):
    """150 headers, or one of 64 KiB, are refused with 431 in Spanish, nothing forwarded."""
    answer = httpx.get(cluster.url("gateway") + "/users/", headers=headers, timeout=30)
    assert answer.status_code == 431
    assert "cabeceras" in answer.json()["detail"]


def test_a_body_that_arrives_too_slowly_is_cut_with_408(cluster):
    """A body trickling in past body_timeout (1 s here) gets a 408, not an open connection."""
    head = "POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
    answer = send_raw(cluster.url("users"), head, b'{"na', close_after=1.8)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_beyond_max_in_flight_the_service_says_busy(tmp_path):
    """With max_in_flight=2 and a slow users service, 4 requests at once: 2 answered, 2 get
    503 with Retry-After at once (never a queue without end)."""
    busy = make_cluster(tmp_path, max_in_flight=2)
    busy.start()
    try:
        busy.inject("users", latency=1.0)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(lambda _: httpx.get(busy.url("users") + "/users/", timeout=30), range(4))
            )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 200, 503, 503]
        refused = [a for a in answers if a.status_code == 503]
        assert all(a.headers["Retry-After"] == "1" for a in refused)
    finally:
        busy.stop()


@pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage no existe en Windows")
def test_six_concurrent_50_mb_uploads_do_not_grow_memory(cluster):
    """Six chunked 50 MB uploads at once are cut at 1 MiB each: peak memory grows by less
    than 40 MB (before the limit it grew by about 900 MB)."""
    import resource

    def peak_mb() -> float:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / MIB if sys.platform == "darwin" else peak / 1024

    def upload() -> int:
        chunk = b"x" * 65536
        try:
            answer = httpx.post(
                cluster.url("gateway") + "/users/",
                content=(chunk for _ in range(50 * MIB // len(chunk))),
                timeout=60,
            )
            return answer.status_code
        except httpx.TransportError:
            return 0  # the server closed the connection mid-upload: also fine

    before = peak_mb()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: upload(), range(6)))
    assert set(statuses) <= {413, 0}
    assert peak_mb() - before < 40


def closed_by_server(sock: socket.socket) -> bool:
    """True if the server has closed this connection (EOF or reset)."""
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def test_idle_and_slow_header_connections_are_closed(cluster):
    """Connections that send nothing, or trickle their headers a byte at a time, are closed
    by the server once header_timeout (1 s here) has passed."""
    port = port_of(cluster.url("users"))
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    try:
        trickle = b"GET /users/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 30
        deadline = time.monotonic() + 10
        sent = 0
        while time.monotonic() < deadline and not all(map(closed_by_server, idle + slow)):
            for sock in slow:
                try:
                    sock.sendall(trickle[sent : sent + 1])
                except OSError:
                    pass
            sent += 1
            time.sleep(0.2)
        assert all(map(closed_by_server, idle + slow))
    finally:
        for sock in idle + slow:
            sock.close()
