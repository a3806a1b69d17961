"""The panel's limits: a few live streams at once, none kept for a browser that does not read,
headers that keep other sites from framing it or learning its URL, and small action bodies."""

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from microservicios.panel import Panel
from tests.helpers import eventually, port_of, raw_request
from tests.integration.test_panel_access import FakeCluster

STREAMS = 8  # what the README promises per panel
FRAME_ANCESTORS = "frame-ancestors 'self' http://127.0.0.1:* http://localhost:*"


@pytest.fixture
def fake() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def panel(fake: FakeCluster) -> Iterator[Panel]:
    running = Panel(fake).start()
    yield running
    running.stop()


def open_stream(panel: Panel, stack: ExitStack) -> httpx.Response:
    """One stream as a browser tab opens it; it stays open until `stack` closes."""
    client = stack.enter_context(httpx.Client(timeout=30))
    url = f"{panel.base_url}/api/stream?token={panel.token}"
    return stack.enter_context(client.stream("GET", url))


def streams_accepted(panel: Panel, count: int) -> bool:
    """Whether `count` new streams are all accepted (they are closed again on return)."""
    with ExitStack() as stack:
        return all(open_stream(panel, stack).status_code == 200 for _ in range(count))


def never_reading_stream(panel: Panel) -> socket.socket:
    """A stream whose client reads nothing: a tiny receive buffer that fills at once."""
    port = port_of(panel.base_url)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    client.connect(("127.0.0.1", port))
    request = f"GET /api/stream?token={panel.token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    client.sendall(request.encode())
    return client


def keep_logging(panel: Panel, stop: threading.Event) -> None:
    """Records of 2 KB as fast as a busy cluster makes them: every stream has lots to send."""
    number = 0
    while not stop.is_set():
        number += 1
        panel.activity({"event": "demo", "service": "users", "n": number, "text": "x" * 2000})
        if number % 100 == 0:
            stop.wait(0.01)


def read_to_the_end(client: socket.socket, seconds: float) -> bool:
    """Reads everything the server sent; True if it ended the stream within `seconds`."""
    client.settimeout(seconds)
    received = b""
    try:
        while chunk := client.recv(65536):
            received += chunk
            if received.endswith(b"\r\n0\r\n\r\n"):  # the last chunk: the stream is over
                return True
    except TimeoutError:
        return False
    return True  # the server closed the connection


def test_a_panel_serves_a_few_streams_and_refuses_the_next_in_spanish(panel: Panel):
    """Eight tabs are live; a ninth gets a 429 that says why; once a tab closes, there is
    room for another."""
    with ExitStack() as first_tab, ExitStack() as others:
        assert open_stream(panel, first_tab).status_code == 200
        assert all(open_stream(panel, others).status_code == 200 for _ in range(STREAMS - 1))
        ninth = open_stream(panel, others)
        assert ninth.status_code == 429
        ninth.read()
        assert "pestañas" in ninth.json()["detail"]
        first_tab.close()
        assert eventually(lambda: streams_accepted(panel, 1), seconds=30, poll=0.5)


def test_a_stream_that_never_reads_is_dropped_and_frees_its_place(panel: Panel):
    """A client that never reads, while the panel has lots to send: the panel stops writing
    to it (its place goes to a new tab: eight more fit) and ends its stream."""
    stop = threading.Event()
    logging = threading.Thread(target=keep_logging, args=(panel, stop), daemon=True)
    slow = never_reading_stream(panel)
    try:
        assert eventually(lambda: not streams_accepted(panel, STREAMS), seconds=10, poll=0.2)
        logging.start()
        assert eventually(lambda: streams_accepted(panel, STREAMS), seconds=120, poll=1)
        stop.set()
        assert read_to_the_end(slow, seconds=60)
    finally:
        stop.set()
        slow.close()


def test_tabs_that_leave_at_once_give_their_place_back(panel: Panel):
    """Forty streams whose client hangs up as soon as it asked (a reload, a script): none of
    them keeps a place, eight tabs fit afterwards."""
    port = port_of(panel.base_url)
    request = f"GET /api/stream?token={panel.token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    for _ in range(40):
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(request.encode())
    assert eventually(lambda: streams_accepted(panel, STREAMS), seconds=30, poll=0.5)


@pytest.mark.parametrize("path", ["/?token={token}", "/api/snapshot?token={token}", "/api/stream"])
def test_no_other_site_may_frame_the_panel_nor_learn_its_url(panel: Panel, path: str):
    """The page, the API and refusals: Referrer-Policy no-referrer, and frame-ancestors
    that admits pages on this machine (JupyterLab's IFrame) and no web site."""
    answer = raw_request(panel.base_url, "GET", path.format(token=panel.token))
    assert answer.header("Referrer-Policy") == "no-referrer"
    assert FRAME_ANCESTORS in (answer.header("Content-Security-Policy") or "")
    assert answer.header("X-Frame-Options") is None  # it could not allow JupyterLab's page


def test_an_oversized_action_body_is_refused_in_spanish(panel: Panel, fake: FakeCluster):
    """A faults body of 20 KB (a form sends a few dozen bytes): 413 that says the limit,
    and nothing is injected."""
    origin = {"X-Panel-Token": panel.token, "Origin": panel.base_url}
    body = b'{"latency": 0.1, "pad": "' + b"x" * 20_000 + b'"}'
    answer = raw_request(
        panel.base_url, "POST", "/api/services/items/faults", body=body, headers=origin
    )
    assert answer.status == 413
    assert answer.json()["detail"] == (
        "El cuerpo de la acción es demasiado grande (máximo 16 KiB)."
    )
    assert fake.done == []
