"""A kill in threads mode tells what the clients saw: no tracebacks, no 500 nobody got.

`kill` cuts every request in flight, as a dead machine would: a client of the killed
service sees its connection cut, a client of the gateway a 503. The killed service's log
must say so too; it used to print ~30 lines of «Exception in ASGI application …
CancelledError» per request and log each one as a 500, which the panel counted as errors.
"""

import logging
import threading

import httpx

from microservicios import Cluster
from tests.helpers import eventually, make_cluster

IN_FLIGHT = 4  # two straight to items, two through the gateway


def requests_in_flight(cluster: Cluster, name: str) -> int:
    """Requests the service's server is running now (uvicorn's own count)."""
    server = cluster._runners[name]._server
    return 0 if server is None else len(server.server_state.tasks)


def send_and_keep(url: str, seen: list[str]) -> None:
    """GET `url`; note the status the client got, or "cut" if its connection was cut."""
    try:
        seen.append(str(httpx.get(url, timeout=60.0).status_code))
    except httpx.TransportError:
        seen.append("cut")


def panel_snapshot(cluster: Cluster) -> dict:
    """What the panel's page shows now, through its API (the token from panel_url)."""
    base, _, token = cluster.panel_url().partition("/?token=")
    return httpx.get(f"{base}/api/snapshot", params={"token": token}).json()


def test_requests_cut_by_kill_are_not_500s_nor_tracebacks(tmp_path, caplog, capfd):
    """Requests in flight when items is killed: nothing printed at ERROR (no «Exception in
    ASGI application», no CancelledError), items logs them as cut (status 499, not 500), and
    the panel's error % for items stays 0."""
    caplog.set_level(logging.WARNING)
    # Long client timeouts: the gateway's calls must still be waiting when the kill comes.
    cluster = make_cluster(tmp_path, http_attempt_timeout=60.0, gateway_timeout=120.0)
    with cluster:
        items, gateway = cluster.url("items"), cluster.url("gateway")
        cluster.inject("items", hang=True)
        seen: list[str] = []
        clients = [
            threading.Thread(target=send_and_keep, args=(f"{base}/items/", seen))
            for base in (items, items, gateway, gateway)
        ]
        for client in clients:
            client.start()
        assert eventually(lambda: requests_in_flight(cluster, "items") == IN_FLIGHT, 60)
        caplog.clear()
        capfd.readouterr()

        cluster.kill("items")
        for client in clients:
            client.join(timeout=60)

        printed = capfd.readouterr().err + caplog.text
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        cut = cluster.logs(service="items", event="http.request", path="/items/")
        snapshot = panel_snapshot(cluster)
    assert sorted(seen) == ["503", "503", "cut", "cut"]
    assert "Exception in ASGI application" not in printed
    assert "CancelledError" not in printed
    assert errors == []
    assert [record["status"] for record in cut] == [499] * IN_FLIGHT
    assert all(record.get("cancelled") is True for record in cut)
    row = next(row for row in snapshot["services"] if row["name"] == "items")
    assert row["error_pct"] == 0.0
