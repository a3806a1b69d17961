"""`cluster.kill` looks like a crashed machine: connections cut, never an HTTP 500."""

import concurrent.futures
import time

import httpx
import pytest

from tests.helpers import create_user, make_cluster

IN_FLIGHT = 10


@pytest.fixture
def cluster(tmp_path):
    running = make_cluster(tmp_path, gateway_timeout=10.0, breaker_failure_threshold=100)
    running.start()
    yield running
    running.stop()


def test_killing_a_service_gives_gateway_clients_503_never_500(cluster):
    """Ten slow GETs in flight through the gateway, then users is killed: every client gets
    a Spanish 503 (the gateway saw the connection cut), none gets a 500."""
    with httpx.Client(base_url=cluster.url("gateway"), timeout=30) as http:
        user = create_user(http)
    cluster.inject("users", latency=1.0)
    path = f"/users/{user['id']}"
    with concurrent.futures.ThreadPoolExecutor(IN_FLIGHT) as pool:
        futures = [
            pool.submit(httpx.get, cluster.url("gateway") + path, timeout=30)
            for _ in range(IN_FLIGHT)
        ]
        time.sleep(0.5)  # all ten are waiting out users' latency now
        cluster.kill("users")
        answers = [future.result() for future in futures]
    assert [a.status_code for a in answers] == [503] * IN_FLIGHT, [a.text for a in answers]
    assert all("no está disponible" in a.json()["detail"] for a in answers)


def test_a_killed_service_sends_no_http_answer(cluster):
    """A client talking to users directly when it is killed gets its connection cut, not an
    HTTP response."""
    cluster.inject("users", latency=1.0)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(httpx.get, cluster.url("users") + "/users/", timeout=30) for _ in range(3)
        ]
        time.sleep(0.5)
        cluster.kill("users")
        for future in futures:
            with pytest.raises(httpx.TransportError):
                future.result()
