"""The in-process Cluster: start, stop, kill, revive, ports and isolation."""

import asyncio
import socket
import threading

import httpx
import pytest

from microservicios import Cluster, ClusterError
from microservicios.serve.runner import ThreadServer
from tests.helpers import (
    connection_refused,
    eventually,
    free_port,
    make_cluster,
    make_settings,
    port_is_free,
    port_of,
    service_token,
)

SERVICES = ("gateway", "users", "items", "orders")


def cluster_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("microservicios-")}


def test_kill_makes_the_gateway_answer_503_and_the_port_refuse(fresh_cluster, unique_email):
    """After kill('users') the gateway answers a Spanish 503 naming users; its port refuses."""
    gateway = fresh_cluster.url("gateway")
    with httpx.Client(timeout=10.0) as http:
        user = http.post(f"{gateway}/users/", json={"name": "Ana", "email": unique_email()})
        fresh_cluster.kill("users")
        response = http.get(f"{gateway}/users/{user.json()['id']}")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert "users" in detail
    assert "no está disponible" in detail
    assert connection_refused(port_of(fresh_cluster.url("users")))


def test_status_reflects_kill_and_revive(fresh_cluster):
    """status() shows the killed service down and the others up, then all up again."""
    assert fresh_cluster.status() == dict.fromkeys(SERVICES, True)
    fresh_cluster.kill("users")
    assert fresh_cluster.status() == {**dict.fromkeys(SERVICES, True), "users": False}
    fresh_cluster.revive("users")
    assert fresh_cluster.status() == dict.fromkeys(SERVICES, True)


def test_revive_while_a_kill_is_still_finishing_waits_for_it(tmp_path, monkeypatch):
    """The panel can ask for revive as soon as status() says 'down', while kill is still
    waiting for the old server to finish: revive must wait for it, then bring the service
    back (it used to start the new server, which the ending kill then forgot: 'caído' for
    ever)."""
    shutdown = ThreadServer.shutdown

    async def slow_shutdown(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        await asyncio.sleep(1.0)  # a service that takes a while to close its database
        return await shutdown(self, *args, **kwargs)

    monkeypatch.setattr(ThreadServer, "shutdown", slow_shutdown)
    with make_cluster(tmp_path) as cluster:
        killing = threading.Thread(target=cluster.kill, args=("items",))
        killing.start()
        assert eventually(lambda: not cluster.status()["items"], seconds=5)
        assert killing.is_alive()  # the kill has not finished: that is the case under test
        cluster.revive("items")
        killing.join(timeout=30)
        assert cluster.status()["items"] is True
        assert httpx.get(cluster.url("items") + "/health").status_code == 200


def test_revive_brings_back_the_same_data_on_the_same_port(fresh_cluster, unique_email):
    """A user created before kill('users') is there again after revive('users')."""
    users_url, gateway = fresh_cluster.url("users"), fresh_cluster.url("gateway")
    with httpx.Client(timeout=10.0) as http:
        user = http.post(f"{gateway}/users/", json={"name": "Ana", "email": unique_email()})
        assert user.status_code == 201
        fresh_cluster.kill("users")
        assert http.get(f"{gateway}/users/{user.json()['id']}").status_code == 503
        fresh_cluster.revive("users")
        assert fresh_cluster.url("users") == users_url
        direct = http.get(f"{users_url}/users/{user.json()['id']}")
        proxied = http.get(f"{gateway}/users/{user.json()['id']}")
    assert direct.status_code == 200
    assert direct.json() == user.json()
    assert proxied.status_code == 200
    assert proxied.json() == user.json()


def test_order_while_items_is_down_is_503_and_takes_no_stock(fresh_cluster, unique_email):
    """With items killed an order is a 503 naming items; after revive, stock is intact."""
    gateway = fresh_cluster.url("gateway")
    with httpx.Client(timeout=10.0) as http:
        user = http.post(f"{gateway}/users/", json={"name": "Ana", "email": unique_email()})
        item = http.post(f"{gateway}/items/", json={"name": "Lápiz", "sku": "KILL-1", "stock": 5})
        fresh_cluster.kill("items")
        response = http.post(
            f"{gateway}/orders/",
            json={"user_id": user.json()["id"], "item_sku": "KILL-1", "qty": 2},
        )
        fresh_cluster.revive("items")
        stock = http.get(f"{fresh_cluster.url('items')}/items/{item.json()['id']}").json()["stock"]
        listed = http.get(f"{gateway}/orders/").json()
    assert response.status_code == 503
    assert "items" in response.json()["detail"]
    assert stock == 5
    assert [order["status"] for order in listed] == ["FAILED"]


def test_two_clusters_share_nothing(tmp_path, unique_email):
    """Two 'auto' clusters have their own ports, data and fate."""
    with (
        make_cluster(tmp_path / "a") as first,
        make_cluster(tmp_path / "b") as second,
        httpx.Client(timeout=10.0) as http,
    ):
        assert set(first.urls().values()).isdisjoint(second.urls().values())
        assert first.data_dir != second.data_dir
        email = unique_email()
        created = http.post(f"{first.url('gateway')}/users/", json={"name": "Ana", "email": email})
        assert created.status_code == 201
        assert http.get(f"{second.url('gateway')}/users/").json() == []
        # The same email is still free in the second cluster.
        again = http.post(f"{second.url('gateway')}/users/", json={"name": "Ana", "email": email})
        assert again.status_code == 201

        first.kill("users")
        assert second.status() == dict.fromkeys(SERVICES, True)
        assert http.get(f"{second.url('gateway')}/users/").status_code == 200
        assert http.get(f"{first.url('gateway')}/users/").status_code == 503
    assert (tmp_path / "a" / "users.db").exists()
    assert (tmp_path / "b" / "users.db").exists()


@pytest.fixture
def taken_port():
    """A port some other program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_taken_port_raises_cluster_error_naming_it(tmp_path, taken_port):
    """A port in use is reported as a ClusterError, in Spanish, naming the port."""
    cluster = make_cluster(
        tmp_path, ports={"gateway": 0, "users": taken_port, "items": 0, "orders": 0}
    )
    with pytest.raises(ClusterError) as caught:
        cluster.start()
    message = str(caught.value)
    assert str(taken_port) in message
    assert "No se pudo abrir el puerto" in message
    assert "users" in message


def test_taken_port_leaves_no_threads_or_ports_behind(tmp_path, taken_port):
    """A start that fails on one port frees the others and starts no service thread."""
    before = cluster_threads()
    others = {"gateway": free_port(), "items": free_port(), "orders": free_port()}
    with pytest.raises(ClusterError):
        make_cluster(tmp_path / "x", ports={**others, "users": taken_port}).start()
    assert {t for t in cluster_threads() - before if t.is_alive()} == set()
    assert {name: port_is_free(port) for name, port in others.items()} == dict.fromkeys(
        others, True
    )
    with make_cluster(tmp_path / "y") as cluster:
        assert cluster.status() == dict.fromkeys(SERVICES, True)


def test_context_manager_stops_everything_on_exit(tmp_path):
    """Leaving the with-block stops all four services: their ports refuse connections."""
    with make_cluster(tmp_path) as cluster:
        ports = {name: port_of(url) for name, url in cluster.urls().items()}
        assert httpx.get(f"{cluster.url('gateway')}/health").status_code == 200
    assert {name: connection_refused(port) for name, port in ports.items()} == dict.fromkeys(
        SERVICES, True
    )
    assert cluster.status() == dict.fromkeys(SERVICES, False)


def test_context_manager_stops_everything_after_an_exception(tmp_path):
    """An exception inside the with-block still stops the cluster."""
    with pytest.raises(RuntimeError, match="boom"):
        with make_cluster(tmp_path) as cluster:
            ports = [port_of(url) for url in cluster.urls().values()]
            raise RuntimeError("boom")
    assert all(connection_refused(port) for port in ports)


def test_unknown_service_name_raises_cluster_error(cluster):
    """kill/revive/url of a name that is not a service is a Spanish ClusterError."""
    for call in (cluster.kill, cluster.revive, cluster.url):
        with pytest.raises(ClusterError, match="Servicio desconocido"):
            call("payments")


def test_repr_html_is_a_table_of_the_four_services(cluster):
    """The notebook view is a table with a row for each service and its URL."""
    html = cluster._repr_html_()
    assert "<table" in html
    for name in SERVICES:
        assert f"<b>{name}</b>" in html
        assert cluster.url(name) in html


def test_logs_can_be_filtered_by_service_and_event(cluster, http, gateway, unique_email):
    """cluster.logs() returns only the records matching every filter given."""
    created = http.post(f"{gateway}/users/", json={"name": "Log", "email": unique_email()})
    records = cluster.logs(service="users", event="user.created", user_id=created.json()["id"])
    assert len(records) == 1
    assert all(r["service"] == "users" for r in cluster.logs(service="users"))


def test_complete_settings_are_used_as_given(tmp_path, monkeypatch):
    """Given complete Settings, a cluster reads no .env and changes only URLs and data_dir."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SERVICE_SECRET=from-dotenv\nHTTP_DEADLINE=9\n")
    given = make_settings(tmp_path / "given", service_secret="given-secret", http_deadline=3.0)
    with (
        Cluster(ports="auto", data_dir=tmp_path / "data", settings=given) as cluster,
        httpx.Client(timeout=10.0) as http,
    ):
        used = cluster.settings
        faults = http.get(f"{cluster.url('items')}/internal/faults", headers=service_token(given))
    assert used.service_secret.get_secret_value() == "given-secret"
    assert used.http_deadline == 3.0
    assert used.data_dir == tmp_path / "data"
    assert used.service_url("users") == cluster.url("users")
    assert faults.status_code == 200, faults.text


def test_a_cluster_without_a_configured_secret_makes_its_own(tmp_path, monkeypatch):
    """No SERVICE_SECRET anywhere: the cluster uses a random secret of its own, so the
    well-known 'dev-secret' opens nothing; the cluster's settings carry the real one."""
    monkeypatch.chdir(tmp_path)  # no .env here
    with (
        Cluster(ports="auto", data_dir=tmp_path / "data") as first,
        Cluster(ports="auto", data_dir=tmp_path / "other") as second,
        httpx.Client(timeout=10.0) as http,
    ):
        secret = first.settings.service_secret.get_secret_value()
        assert secret not in ("dev-secret", second.settings.service_secret.get_secret_value())
        assert len(secret) >= 32
        faults = f"{first.url('items')}/internal/faults"
        assert http.get(faults, headers={"X-Service-Token": "dev-secret"}).status_code == 401
        assert http.get(faults, headers={"X-Service-Token": secret}).status_code == 200
        hidden = http.get(
            f"{first.url('gateway')}/internal/faults", headers={"X-Service-Token": "dev-secret"}
        )
        assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ({"gateway": 18123, "users": 18123}, "'users' y 'gateway' tienen el mismo puerto, 18123"),
        ({"gateway": 70000}, "El puerto 70000 de 'gateway' no existe"),
    ],
)
def test_impossible_ports_are_refused_before_any_start(tmp_path, ports, expected):
    """Two services on one port, or a port past 65535: a Spanish ClusterError at once."""
    with pytest.raises(ClusterError, match=expected):
        make_cluster(tmp_path, ports=ports)
