"""The per-request shortcuts give the same answers as the long way: one scan of the headers,
label children kept at hand, a record measured once, the layers' benchmark switches."""

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from microservicios.common.settings import Settings
from microservicios.common.web.layers import RequestLayers
from microservicios.common.web.request_head import scan_headers
from microservicios.telemetry import metrics as metrics_module
from microservicios.telemetry.logbook import LogBook, measured_size, record_size
from microservicios.telemetry.logs import EventLogger
from microservicios.telemetry.metrics import Metrics
from microservicios.users.main import create_app


def request_counts(metrics: Metrics) -> dict[tuple[str, str, str], float]:
    families = text_string_to_metric_families(metrics.render().decode())
    return {
        (sample.labels["route"], sample.labels["method"], sample.labels["status"]): sample.value
        for family in families
        if family.name == "http_requests"
        for sample in family.samples
        if sample.name == "http_requests_total"
    }


def test_one_scan_finds_the_first_value_of_each_header_and_the_totals():
    """Request id, traceparent and length are the first of each; count and size are all."""
    headers = [
        (b"x-request-id", b"first"),
        (b"traceparent", b"00-abc"),
        (b"x-request-id", b"second"),
        (b"content-length", b"12"),
    ]
    head = scan_headers(headers)
    assert (head.request_id, head.traceparent, head.content_length) == ("first", "00-abc", b"12")
    assert head.count == 4 and head.size == sum(len(n) + len(v) for n, v in headers)


@pytest.mark.parametrize(
    ("headers", "has_body"),
    [
        ([], False),
        ([(b"content-length", b"0")], False),
        ([(b"content-length", b"5")], True),
        ([(b"transfer-encoding", b"chunked")], True),
    ],
)
def test_only_a_declared_or_chunked_body_is_waited_for(headers, has_body):
    """No Content-Length (or 0) and no Transfer-Encoding: there is no body to read."""
    assert scan_headers(headers).has_body is has_body


def test_kept_label_children_count_as_fresh_lookups(monkeypatch):
    """Counts per route, method and status are right below and past the kept-children cap."""
    monkeypatch.setattr(metrics_module, "MAX_KEPT_CHILDREN", 2)
    metrics = Metrics("users")
    for status in (200, 200, 404, 500, 500, 500):
        metrics.observe_request("/users/{user_id}", "GET", status, 0.01)
    assert request_counts(metrics) == {
        ("/users/{user_id}", "GET", "200"): 2.0,
        ("/users/{user_id}", "GET", "404"): 1.0,
        ("/users/{user_id}", "GET", "500"): 3.0,
    }


def test_a_logged_record_is_a_plain_dict_measured_once_as_the_long_way():
    """The logger's record equals, encodes and measures as a dict; a field overrides a
    stamped one, as it did."""
    book = LogBook()
    logger = EventLogger("users", sinks=[book])
    logger.info("user.created", user_id=7, span_id="given", name="Añá " * 10)
    (record,) = book.records()
    plain = dict(record)
    assert record == plain and json.loads(json.dumps(record)) == plain
    assert record["span_id"] == "given"
    assert record_size(record) == measured_size(plain) == record_size(record)


def test_a_record_below_the_level_or_without_sinks_is_not_wanted():
    """`enabled` says no where the record would go nowhere, so callers skip building it."""
    assert not EventLogger("users", "WARNING", sinks=[LogBook()]).enabled("INFO")
    assert not EventLogger("users", sinks=[]).enabled("ERROR")
    assert EventLogger("users", sinks=[LogBook()]).enabled("INFO")


def test_the_layers_off_leave_the_answer_as_it_was(tmp_path):
    """With every layer off (the benchmark's reference) GET /users/{id} answers the same."""
    off = RequestLayers(tracing=False, logs=False, metrics=False, limits=False, faults=False)
    answers = []
    for number, layers in enumerate((RequestLayers(), off)):
        book = LogBook()
        settings = Settings(data_dir=str(tmp_path / str(number)))
        app = create_app(settings, log_sinks=[book], layers=layers, host="127.0.0.1")
        answers.append(asyncio.run(get_a_new_user(app)))
        logged = [r for r in book.records() if r["event"] == "http.request"]
        assert len(logged) == (2 if layers.logs else 0)
    assert answers[0] == answers[1]


async def get_a_new_user(app: FastAPI) -> tuple[int, dict]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://users"
        ) as client,
    ):
        user = (await client.post("/users/", json={"name": "A", "email": "a@b.co"})).json()
        answer = await client.get(f"/users/{user['id']}")
    return answer.status_code, answer.json()
