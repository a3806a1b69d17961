"""The live panel of a real cluster, through its API, in threads and --processes mode."""

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from microservicios import Cluster
from microservicios.cluster.cluster import resolve_ports
from microservicios.cluster.processes import ProcessCluster
from microservicios.cluster.supervision import FIRST_DELAY_S
from tests.helpers import LineReader, eventually, make_cluster, start_cli

announced: list[str] = []  # what the processes fixture's launcher tells a person
PANEL_URL = re.compile(r"^Panel en vivo: (http://127\.0\.0\.1:\d+)/\?token=(\S+)$")


class PanelClient:
    """The panel's API as the page uses it: the token in the URL to read, in a header to act."""

    def __init__(self, url: str) -> None:
        self.base, _, self.token = url.partition("/?token=")

    def snapshot(self) -> dict:
        return httpx.get(self.base + "/api/snapshot", params={"token": self.token}).json()

    def act(self, service: str, action: str, body: dict | None = None) -> httpx.Response:
        headers = {"X-Panel-Token": self.token, "Origin": self.base}
        url = f"{self.base}/api/services/{service}/{action}"
        return httpx.post(url, headers=headers, json=body, timeout=60)

    def service(self, name: str) -> dict:
        return next(row for row in self.snapshot()["services"] if row["name"] == name)

    def breaker(self, caller: str, target: str) -> dict:
        breakers = self.snapshot()["breakers"]
        return next(b for b in breakers if (b["caller"], b["target"]) == (caller, target))


def order_path(gateway: str) -> dict:
    """A user and an item with stock, through the gateway; the order body for them."""
    user = httpx.post(f"{gateway}/users/", json={"name": "Ana", "email": "ana@example.com"})
    httpx.post(f"{gateway}/items/", json={"name": "Lápiz", "sku": "LAPIZ-P", "stock": 100})
    return {"user_id": user.json()["id"], "item_sku": "LAPIZ-P", "qty": 1}


@pytest.fixture
def threads(tmp_path: Path) -> Iterator[Cluster]:
    cluster = make_cluster(tmp_path)
    with cluster:
        yield cluster


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ProcessCluster]:
    cluster = ProcessCluster(
        resolve_ports("auto"), tmp_path / "data", quiet=True, panel=True,
        announce=announced.append,
    )  # fmt: skip
    announced.clear()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def breaker_scenario(cluster, panel: PanelClient) -> None:  # noqa: ANN001
    """error_rate=1 on items and ten orders open orders → items; heal and wait: closed."""
    body = order_path(cluster.url("gateway"))
    assert panel.act("items", "faults", {"error_rate": 1, "status": 503}).status_code == 200
    assert panel.service("items")["faults"]["error_rate"] == 1
    answers = [httpx.post(cluster.url("gateway") + "/orders/", json=body) for _ in range(10)]
    assert {answer.status_code for answer in answers} == {503}
    assert eventually(lambda: panel.breaker("orders", "items")["state"] == "open", 10)
    assert panel.act("items", "heal").status_code == 200
    assert panel.service("items")["faults"] is None
    # After the breaker's wait, one order goes through (half-open probe) and closes it.
    assert eventually(
        lambda: httpx.post(cluster.url("gateway") + "/orders/", json=body).status_code == 201, 10
    )
    assert eventually(lambda: panel.breaker("orders", "items")["state"] == "closed", 10)
    history = [entry["state"] for entry in panel.breaker("orders", "items")["history"]]
    assert history[0] == "open" and history[-1] == "closed"
    actions = [mark["action"] for mark in panel.snapshot()["marks"]]
    assert actions == ["inject", "heal"]


def test_threads_kill_and_revive_from_the_panel(threads: Cluster):
    """Apagar: the service is down (cluster and panel agree); revivir: it answers again."""
    panel = PanelClient(threads.panel_url())
    assert panel.act("items", "kill").json() == {"message": "'items' apagado."}
    assert threads.status()["items"] is False
    assert panel.service("items")["up"] is False
    assert panel.act("items", "revive").status_code == 200
    assert httpx.get(threads.url("items") + "/health").status_code == 200
    assert panel.service("items")["up"] is True


def test_threads_breaker_scenario_through_the_panel(threads: Cluster):
    """The panel injects, shows the breaker open, heals, and shows it closed again."""
    breaker_scenario(threads, PanelClient(threads.panel_url()))


def test_threads_a_trace_spans_three_services(threads: Cluster):
    """The latest order is listed with the services it touched, and its waterfall loads."""
    panel = PanelClient(threads.panel_url())
    body = order_path(threads.url("gateway"))
    assert httpx.post(threads.url("gateway") + "/orders/", json=body).status_code == 201
    assert eventually(lambda: panel.snapshot()["traces"][0]["path"] == "/orders/", 10)
    latest = panel.snapshot()["traces"][0]
    assert set(latest["services"]) == {"gateway", "orders", "users", "items"}
    rows = httpx.get(
        f"{panel.base}/api/traces/{latest['trace_id']}", params={"token": panel.token}
    ).json()["rows"]
    assert {row["service"] for row in rows} == {"gateway", "orders", "users", "items"}


def test_threads_opening_the_docs_adds_no_trace(threads: Cluster):
    """Loading the gateway's /docs as a browser does (the page, Swagger UI's files, the
    OpenAPI document) lists nothing in «Trazas»; the request after it is listed."""
    panel = PanelClient(threads.panel_url())
    gateway = threads.url("gateway")
    page = httpx.get(gateway + "/docs")
    assets = re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text)
    assert page.status_code == 200 and len(assets) >= 2
    for path in [*assets, "/openapi.json"]:
        assert httpx.get(gateway + path, timeout=30).status_code == 200
    assert httpx.get(gateway + "/users/").status_code == 200
    assert eventually(lambda: panel.snapshot()["traces"][0]["path"] == "/users/", 10)
    assert [trace["path"] for trace in panel.snapshot()["traces"]] == ["/users/"]


def test_the_stream_sends_snapshots_and_logs(threads: Cluster):
    """/api/stream is server-sent events: a snapshot and the log records, as JSON."""
    panel = PanelClient(threads.panel_url())
    httpx.get(threads.url("users") + "/users/")
    events: dict[str, object] = {}
    with httpx.stream(
        "GET", panel.base + "/api/stream", params={"token": panel.token}, timeout=10
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                events[name] = json.loads(line.removeprefix("data: "))
            if {"snapshot", "logs"} <= set(events):
                break
    assert any(record["event"] == "http.request" for record in events["logs"])
    assert [row["name"] for row in events["snapshot"]["services"]] == list(threads.names)


def test_a_panel_opened_late_gets_the_recent_logs(threads: Cluster):
    """A tab opened (or reloaded) after 60 requests gets all their records at once, not only
    the newest 50 that a live tab gets per tick."""
    panel = PanelClient(threads.panel_url())
    with httpx.Client(base_url=threads.url("users")) as users:
        for _ in range(60):
            users.get("/users/")
    assert eventually(lambda: panel.service("users")["rps"] >= 6, 10)
    with httpx.stream(
        "GET", panel.base + "/api/stream", params={"token": panel.token}, timeout=10
    ) as stream:
        lines = stream.iter_lines()
        first_logs = next(
            json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: [")
        )
    served = [r for r in first_logs if r["event"] == "http.request" and r["service"] == "users"]
    assert len(served) >= 60


def test_a_cluster_can_do_without_its_panel(tmp_path: Path):
    """Cluster(panel=False) starts no panel, and says so if asked for it."""
    with Cluster(ports="auto", data_dir=tmp_path, panel=False) as cluster:
        with pytest.raises(Exception, match="panel=False"):
            cluster.panel_url()


def test_processes_kill_keeps_the_service_down_until_revived(processes: ProcessCluster):
    """Apagar a process: the supervisor does not restart it by itself; revivir does."""
    panel = PanelClient(processes.panel_url())
    assert panel.act("items", "kill").status_code == 200
    deadline = time.monotonic() + 4 * FIRST_DELAY_S
    while time.monotonic() < deadline:
        assert processes.supervise() == []  # a death on purpose is not reported nor restarted
        time.sleep(0.1)
    assert processes.status()["items"] is False and panel.service("items")["up"] is False
    with pytest.raises(httpx.ConnectError):
        httpx.get(processes.url("items") + "/health")
    assert panel.act("items", "revive").status_code == 200
    assert httpx.get(processes.url("items") + "/health").status_code == 200
    # The table's PID is stale now: the launcher says which one to `kill -9` next.
    new_pid = processes.pids()["items"]
    assert announced[-1] == f"El servicio 'items' arrancó de nuevo (pid {new_pid})."
    assert "fue apagado" in announced[-2]


def test_processes_breaker_scenario_through_the_panel(processes: ProcessCluster):
    """The same scenario with each service in its own process: faults travel over HTTP,
    the panel learns from the children's log lines."""
    breaker_scenario(processes, PanelClient(processes.panel_url()))


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_the_cli_prints_the_panel_url_and_it_opens(tmp_path: Path, mode: list[str]):
    """The start table has 'Panel en vivo: <url with token>' and that page answers."""
    process = start_cli(tmp_path, "--ports", "auto", "--quiet", "--data-dir", "data", *mode)
    try:
        reader = LineReader(process.stdout)
        found = reader.wait_for(PANEL_URL, seconds=60)
        assert found, "".join(reader.seen)
        base, token = found.group(1), found.group(2)
        assert httpx.get(f"{base}/?token={token}").status_code == 200
        assert httpx.get(f"{base}/").status_code == 403
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
