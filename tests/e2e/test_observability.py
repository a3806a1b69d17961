"""Observability on a real cluster: one trace across services, metrics, breaker timelines."""

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import make_cluster


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when the series does not exist yet)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


@pytest.fixture(scope="module")
def traced_order(tmp_path_factory: pytest.TempPathFactory):
    """A cluster and one order placed through the gateway; yields (cluster, response)."""
    with make_cluster(tmp_path_factory.mktemp("obs")) as cluster:
        gateway = cluster.url("gateway")
        with httpx.Client(base_url=gateway, timeout=10) as client:
            user = client.post("/users/", json={"name": "Eva", "email": "eva@example.com"}).json()
            client.post("/items/", json={"name": "Lápiz", "sku": "LAPIZ", "stock": 10})
            response = client.post(
                "/orders/", json={"user_id": user["id"], "item_sku": "LAPIZ", "qty": 2}
            )
        assert response.status_code == 201
        yield cluster, response


def test_one_order_shares_one_trace_id_across_all_four_services(traced_order) -> None:
    """Every service the order touched logged records with the same trace_id."""
    cluster, response = traced_order
    records = cluster.logs(request_id=response.headers["x-request-id"])
    trace_ids = {record["trace_id"] for record in records}
    assert len(trace_ids) == 1 and None not in trace_ids
    assert {record["service"] for record in records} == {"gateway", "orders", "users", "items"}
    assert cluster.logs(trace_id=trace_ids.pop())  # the same records are found by trace id


def test_each_service_logs_http_request_and_calls(traced_order) -> None:
    """One http.request per service served, one http.call per outgoing call, with details."""
    cluster, response = traced_order
    records = cluster.logs(request_id=response.headers["x-request-id"])
    served = {r["service"]: r for r in records if r["event"] == "http.request"}
    assert set(served) == {"gateway", "orders", "users", "items"}
    assert served["orders"]["method"] == "POST" and served["orders"]["status"] == 201
    assert served["users"]["path"].startswith("/users/")
    calls = [
        (r["service"], r["target"], r["attempt"], r["outcome"])
        for r in records
        if r["event"] == "http.call"
    ]
    assert sorted(calls) == [
        ("gateway", "orders", 1, "ok"),
        ("orders", "items", 1, "ok"),
        ("orders", "users", 1, "ok"),
    ]
    assert all(
        r["duration_ms"] >= 0 and "breaker" in r for r in records if r["event"] == "http.call"
    )


def test_trace_spans_nest(traced_order) -> None:
    """The gateway's span contains the orders span, which contains both outgoing calls."""
    cluster, response = traced_order
    trace = cluster.trace(response.headers["x-request-id"])
    rows = trace.rows()
    assert rows[0]["service"] == "gateway" and rows[0]["start_ms"] == 0

    def span(service: str, event: str, text: str = "") -> dict:
        return next(
            r
            for r in rows
            if r["service"] == service and r["event"] == event and text in r["label"]
        )

    def contains(outer: dict, inner: dict) -> bool:
        return (
            outer["start_ms"] <= inner["start_ms"]
            and inner["start_ms"] + inner["duration_ms"]
            <= outer["start_ms"] + outer["duration_ms"] + 0.01
        )

    gateway = span("gateway", "http.request")
    orders = span("orders", "http.request")
    to_users = span("orders", "http.call", "users")
    to_items = span("orders", "http.call", "items")
    assert contains(gateway, orders)
    assert contains(orders, to_users) and contains(orders, to_items)
    assert contains(to_users, span("users", "http.request"))
    assert contains(to_items, span("items", "http.request"))
    assert to_users["start_ms"] < to_items["start_ms"]  # the user is checked first
    assert "<table>" in trace._repr_html_()


def test_client_traceparent_is_continued(tmp_path: Path) -> None:
    """A client's W3C traceparent is kept: every record of the request carries its trace id."""
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with make_cluster(tmp_path) as cluster:
        response = httpx.get(
            cluster.url("gateway") + "/users/",
            headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
        records = cluster.logs(trace_id=trace_id)
    assert response.status_code == 200
    assert {r["service"] for r in records} == {"gateway", "users"}
    gateway_request = next(
        r for r in records if r["event"] == "http.request" and r["service"] == "gateway"
    )
    assert gateway_request["parent_span_id"] == "00f067aa0ba902b7"


def test_logs_filters_and_clusters_do_not_mix(tmp_path: Path, traced_order) -> None:
    """logs() filters by service and event, and a second cluster sees none of the first's."""
    cluster, response = traced_order
    items_records = cluster.logs(service="items")
    assert items_records and all(r["service"] == "items" for r in items_records)
    assert cluster.logs(event="order.created")
    since = cluster.logs()[-1]["ts"]
    recent = cluster.logs(since=since)
    assert recent and all(r["ts"] >= since for r in recent)
    assert len(recent) < len(cluster.logs())
    with make_cluster(tmp_path) as other:
        assert not other.logs(request_id=response.headers["x-request-id"])
        assert not other.logs(event="order.created")


def test_metrics_parse_and_count_known_traffic(tmp_path: Path) -> None:
    """/metrics parses with prometheus-client, and its counters move with known traffic."""
    with make_cluster(tmp_path) as cluster:
        users = cluster.url("users")
        before = httpx.get(users + "/metrics").text
        for _ in range(3):
            assert httpx.get(users + "/users/999").status_code == 404
        after = httpx.get(users + "/metrics").text
        labels = {"service": "users", "route": "/users/{user_id}", "method": "GET", "status": "404"}
        assert (
            metric_value(after, "http_requests_total", **labels)
            - metric_value(before, "http_requests_total", **labels)
            == 3
        )
        assert (
            metric_value(
                after,
                "http_request_duration_seconds_count",
                service="users",
                route="/users/{user_id}",
            )
            >= 3
        )
        for name in ("gateway", "items", "orders"):
            assert list(
                text_string_to_metric_families(httpx.get(cluster.url(name) + "/metrics").text)
            )


def test_metrics_track_calls_retries_and_breaker(tmp_path: Path) -> None:
    """After killing items: failed calls, retries, breaker state 2 and one open transition."""
    settings = {"breaker_failure_threshold": 3, "breaker_reset_timeout": 30}
    with make_cluster(tmp_path, **settings) as cluster:
        gateway, orders = cluster.url("gateway"), cluster.url("orders")
        user = httpx.post(
            gateway + "/users/", json={"name": "Ana", "email": "ana@example.com"}
        ).json()
        httpx.post(gateway + "/items/", json={"name": "Goma", "sku": "GOMA", "stock": 5})
        order = {"user_id": user["id"], "item_sku": "GOMA", "qty": 1}
        assert httpx.post(orders + "/orders/", json=order).status_code == 201
        cluster.kill("items")
        for _ in range(3):
            assert httpx.post(orders + "/orders/", json=order).status_code == 503
        text = httpx.get(orders + "/metrics").text
    target = {"service": "orders", "target": "items"}
    assert metric_value(text, "http_client_calls_total", outcome="ok", **target) == 1
    assert metric_value(text, "http_client_calls_total", outcome="not_sent", **target) >= 3
    assert metric_value(text, "http_client_calls_total", outcome="circuit_open", **target) >= 1
    assert metric_value(text, "http_client_retries_total", **target) >= 2
    assert metric_value(text, "circuit_breaker_state", **target) == 2
    assert metric_value(text, "circuit_breaker_transitions_total", to_state="open", **target) == 1


def test_plots_render_a_kill_revive_scenario(tmp_path: Path) -> None:
    """breaker_timeline and latency_timeline draw a recorded kill/revive as PNG files."""
    from microservicios.plots import breaker_timeline, latency_timeline

    settings = {"breaker_failure_threshold": 2, "breaker_reset_timeout": 0.3}
    samples = []
    with make_cluster(tmp_path / "data", **settings) as cluster:
        orders = cluster.url("orders")
        user = httpx.post(
            cluster.url("users") + "/users/", json={"name": "L", "email": "l@x.com"}
        ).json()
        httpx.post(cluster.url("items") + "/items/", json={"name": "T", "sku": "T1", "stock": 50})
        order = {"user_id": user["id"], "item_sku": "T1", "qty": 1}
        cluster.kill("items")
        for _ in range(4):
            started = time.time()
            status = httpx.post(orders + "/orders/", json=order).status_code
            samples.append(
                {"at": started, "latency_ms": (time.time() - started) * 1000, "status": status}
            )
        cluster.revive("items")
        deadline = time.monotonic() + 10
        while httpx.get(orders + "/health").json()["breakers"]["items"]["state"] != "closed":
            assert time.monotonic() < deadline, "el breaker no volvió a cerrarse"
            httpx.post(orders + "/orders/", json=order)
            time.sleep(0.1)
        states = [t["to_state"] for t in cluster.breaker_transitions()]
        timeline = breaker_timeline(cluster)
        latency = latency_timeline(samples, marks=cluster.marks)
    assert states[:2] == ["open", "half_open"] and states[-1] == "closed"
    for figure, name in ((timeline, "breakers.png"), (latency, "latency.png")):
        path = tmp_path / name
        figure.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 5000
    assert [m["action"] for m in cluster.marks] == ["kill", "revive"]
