"""Only the holder of the panel's token, from the panel's own page, may read or act."""

import re
from collections.abc import Iterator

import httpx
import pytest

from microservicios.common.faults import Faults
from microservicios.panel import Panel
from microservicios.serve.errors import ClusterError
from tests.helpers import RawResponse, raw_request


class FakeCluster:
    """Records what the panel asked it to do."""

    names = ("users", "items")

    def __init__(self) -> None:
        self.marks: list[dict] = []
        self.done: list[tuple] = []
        self.up = {"users": True, "items": True}

    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:1{index}" for index, name in enumerate(self.names)}

    def status(self) -> dict[str, bool]:
        return dict(self.up)

    def kill(self, name: str) -> None:
        if not self.up[name]:
            raise ClusterError(f"El servicio '{name}' ya está apagado.")
        self.up[name] = False
        self.done.append(("kill", name))

    def revive(self, name: str) -> None:
        self.up[name] = True
        self.done.append(("revive", name))

    def inject_faults(self, name: str, faults: Faults) -> Faults:
        self.done.append(("inject", name, faults))
        return faults

    def heal(self, name: str) -> None:
        self.done.append(("heal", name))


@pytest.fixture
def fake() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def panel(fake: FakeCluster) -> Iterator[Panel]:
    running = Panel(fake).start()
    yield running
    running.stop()


def act(panel: Panel, path: str, **headers: str) -> RawResponse:
    return raw_request(panel.base_url, "POST", path, body=b"", headers=headers)


def test_without_the_token_everything_is_refused_in_spanish(panel: Panel, fake: FakeCluster):
    """The page, the snapshot, the stream, a trace and an action: 403 with a Spanish reason."""
    for path in ("/", "/api/snapshot", "/api/stream", "/api/traces/abc"):
        answer = httpx.get(panel.base_url + path)
        assert answer.status_code == 403, path
        assert "Falta el token del panel" in answer.text
    answer = httpx.post(panel.base_url + "/api/services/items/kill")
    assert answer.status_code == 403 and "token" in answer.json()["detail"]
    assert fake.done == []


def test_a_wrong_token_is_refused(panel: Panel, fake: FakeCluster):
    """A token of another cluster opens nothing and kills nothing."""
    wrong = {"X-Panel-Token": "x" * len(panel.token)}
    assert httpx.get(panel.base_url + "/?token=otro").status_code == 403
    answer = httpx.post(panel.base_url + "/api/services/items/kill", headers=wrong)
    assert answer.status_code == 403 and "no es válido" in answer.json()["detail"]
    assert fake.done == []


def test_the_token_opens_the_page_and_the_snapshot(panel: Panel):
    """The URL the cluster prints works as it is."""
    assert httpx.get(panel.url).status_code == 200
    snapshot = httpx.get(panel.base_url + "/api/snapshot", params={"token": panel.token}).json()
    assert [service["name"] for service in snapshot["services"]] == ["users", "items"]


def test_an_action_from_another_site_is_refused(panel: Panel, fake: FakeCluster):
    """Even with the token: an Origin of another site, or a cross-site fetch, acts on nothing."""
    token = {"X-Panel-Token": panel.token}
    evil = act(panel, "/api/services/items/kill", Origin="http://evil.example", **token)
    cross = act(panel, "/api/services/items/kill", **{"Sec-Fetch-Site": "cross-site"}, **token)
    assert (evil.status, cross.status) == (403, 403)
    assert "Otra página web" in evil.json()["detail"]
    assert fake.done == []


def test_an_action_needs_the_token_in_its_header_not_the_url(panel: Panel, fake: FakeCluster):
    """A link or form of another page can carry ?token=; it cannot set a header."""
    answer = httpx.post(panel.base_url + f"/api/services/items/kill?token={panel.token}")
    assert answer.status_code == 403 and "cabecera" in answer.json()["detail"]
    assert fake.done == []


def test_a_foreign_host_name_is_refused(panel: Panel):
    """DNS rebinding: a page whose name points at 127.0.0.1 sends its own Host header."""
    answer = raw_request(panel.base_url, "GET", f"/?token={panel.token}", host="evil.example")
    assert answer.status == 403


def test_actions_reach_the_cluster(panel: Panel, fake: FakeCluster):
    """kill, revive, faults and heal with the token from the panel's own origin."""
    origin = {"X-Panel-Token": panel.token, "Origin": panel.base_url}
    base = panel.base_url + "/api/services/items"
    assert httpx.post(base + "/kill", headers=origin).json() == {"message": "'items' apagado."}
    again = httpx.post(base + "/kill", headers=origin)
    assert (
        again.status_code == 409
        and again.json()["detail"] == "El servicio 'items' ya está apagado."
    )
    httpx.post(base + "/revive", headers=origin)
    faults = {"latency": 0.2, "error_rate": 0.5, "status": 500, "hang": False}
    assert httpx.post(base + "/faults", headers=origin, json=faults).status_code == 200
    httpx.post(base + "/heal", headers=origin)
    assert fake.done == [
        ("kill", "items"),
        ("revive", "items"),
        ("inject", "items", Faults(**faults)),
        ("heal", "items"),
    ]


def test_bad_faults_and_unknown_services_are_explained(panel: Panel, fake: FakeCluster):
    """error_rate 2 → 422 naming the field; nothing to inject → 422; a service that does
    not exist → 404."""
    origin = {"X-Panel-Token": panel.token}
    bad = httpx.post(
        panel.base_url + "/api/services/items/faults", headers=origin, json={"error_rate": 2}
    )
    assert bad.status_code == 422 and "error_rate" in bad.json()["detail"]
    nothing = httpx.post(
        panel.base_url + "/api/services/items/faults", headers=origin, json={"latency": 0}
    )
    assert nothing.status_code == 422 and nothing.json()["detail"].startswith("Todo está en 0")
    unknown = httpx.post(panel.base_url + "/api/services/pagos/kill", headers=origin)
    assert (
        unknown.status_code == 404 and "No existe el servicio 'pagos'" in unknown.json()["detail"]
    )
    assert fake.done == []


def test_the_page_is_light_and_loads_nothing_from_elsewhere(panel: Panel):
    """The page and everything it references come from the panel itself, under 64 KiB."""
    page = httpx.get(panel.url).text
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert sorted(assets) == ["/static/panel.css", "/static/panel.js", "data:,"]
    total = len(page.encode()) + sum(
        len(httpx.get(panel.base_url + asset).content) for asset in assets if asset != "data:,"
    )
    assert total < 64 * 1024, total
