"""What the panel learns from log records: rates, p99, breakers, faults, traces, the tail."""

from microservicios.panel.activity import RATE_WINDOW_S, Activity


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def request(service: str, status: int = 200, duration_ms: float = 5.0, **fields) -> dict:
    return {
        "event": "http.request",
        "level": "INFO",
        "service": service,
        "method": "GET",
        "path": "/x",
        "status": status,
        "duration_ms": duration_ms,
        "started_at": 1_000_000.0,
        "parent_span_id": "p",
        "trace_id": None,
        "request_id": None,
        **fields,
    }


def test_rates_errors_and_p99_cover_the_last_ten_seconds():
    """20 requests (2 of them 5xx, one of 900 ms among 5 ms ones) → 2/s, 10 %, p99 900 ms."""
    clock = FakeClock()
    activity = Activity(clock=clock)
    for number in range(20):
        status = 503 if number < 2 else 200
        activity(request("items", status, duration_ms=900.0 if number == 7 else 5.0))
    row = activity.service_rows(["items", "users"])
    assert row[0] == {
        "name": "items",
        "rps": 20 / RATE_WINDOW_S,
        "error_pct": 10.0,
        "p99_ms": 900.0,
        "faults": None,
    }
    assert row[1]["rps"] == 0 and row[1]["p99_ms"] is None
    clock.now += RATE_WINDOW_S + 1
    assert activity.service_rows(["items"])[0]["rps"] == 0


def test_metric_series_have_one_point_per_second():
    """Requests in two different seconds land in two points of the 60-point series."""
    clock = FakeClock()
    activity = Activity(clock=clock)
    activity(request("users"))
    clock.now += 1
    activity(request("users", duration_ms=40.0))
    activity(request("users", duration_ms=40.0))
    series = activity.metrics(["users"])["series"]["users"]
    assert len(series["rps"]) == 60
    assert series["rps"][-2:] == [1, 2]
    assert series["p99_ms"][-2:] == [5.0, 40.0]


def test_breakers_are_known_from_the_start_and_follow_their_transitions():
    """service.started lists a caller's breakers (closed); a transition changes the state."""
    clock = FakeClock()
    activity = Activity(clock=clock)
    activity({"event": "service.started", "service": "orders", "breakers": ["items", "users"]})
    assert [(b["target"], b["state"]) for b in activity.breakers()] == [
        ("items", "closed"),
        ("users", "closed"),
    ]
    activity(
        {
            "event": "breaker.opened",
            "service": "orders",
            "caller": "orders",
            "target": "items",
            "from_state": "closed",
            "to_state": "open",
            "at_epoch": clock.now,
        }
    )
    items = activity.breakers()[0]
    assert items["state"] == "open"
    assert items["since_state"] == "closed"
    assert items["history"] == [{"at": clock.now, "state": "open"}]


def test_faults_in_force_until_healed_or_restarted():
    """faults.injected shows; faults.healed clears; a service that starts again has none."""
    activity = Activity(clock=FakeClock())
    injected = {
        "latency": 0.0,
        "error_rate": 1.0,
        "status": 503,
        "hang": False,
        "jitter": 0.2,
        "drop_rate": 0.3,
    }
    activity({"event": "faults.injected", "service": "items", **injected})
    assert activity.service_rows(["items"])[0]["faults"] == injected
    activity({"event": "faults.healed", "service": "items"})
    assert activity.service_rows(["items"])[0]["faults"] is None
    activity({"event": "faults.injected", "service": "items", **injected})
    activity({"event": "service.started", "service": "items", "breakers": []})
    assert activity.service_rows(["items"])[0]["faults"] is None


def test_a_root_request_becomes_a_trace_that_names_the_services_it_touched():
    """The outermost request (no parent span) is listed with every service of its trace, in
    the order they started; its spans are found by trace id or by request id; /health is
    not listed, nor the panel's own fault calls (/internal/faults)."""
    activity = Activity(clock=FakeClock())
    inner = request("items", trace_id="t1", request_id="r1", started_at=2.0, span_id="b")
    call = {**request("orders", trace_id="t1", request_id="r1", started_at=1.5, span_id="a")}
    call.update(event="http.call", target="items", attempt=1)
    root = request(
        "orders", status=201, trace_id="t1", request_id="r1", started_at=1.0, parent_span_id=None
    )
    for record in (inner, call, root):
        activity(record)
    activity(request("users", path="/health", parent_span_id=None, trace_id="t2"))
    activity(request("items", path="/internal/faults", parent_span_id=None, trace_id="t3"))
    [trace] = activity.traces()
    assert trace["trace_id"] == "t1" and trace["status"] == 201
    assert trace["services"] == ["orders", "items"]
    assert len(activity.spans("r1")) == 3 and len(activity.spans("t1")) == 3


def test_the_log_tail_gives_each_record_once():
    """logs_after(cursor) returns only what came after it."""
    activity = Activity(clock=FakeClock())
    activity({"event": "a", "service": "users"})
    cursor, first = activity.logs_after(0)
    activity({"event": "b", "service": "users"})
    cursor, second = activity.logs_after(cursor)
    assert [r["event"] for r in first] == ["a"]
    assert [r["event"] for r in second] == ["b"]
    assert activity.logs_after(cursor)[1] == []


def test_what_a_browser_loads_for_docs_is_not_a_trace():
    """Opening /docs (the page, Swagger UI's assets, the OpenAPI document, a favicon) lists
    no trace, nor do readiness probes; they still count as requests answered."""
    activity = Activity(clock=FakeClock())
    loaded = [
        "/docs",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/docs/assets/favicon.png",
        "/openapi.json",
        "/redoc",
        "/favicon.ico",
        "/health/ready",
    ]
    for number, path in enumerate(loaded):
        activity(request("gateway", path=path, parent_span_id=None, trace_id=f"d{number}"))
    activity(request("gateway", path="/users/", parent_span_id=None, trace_id="u1"))
    activity(request("gateway", path="/docsdraft", parent_span_id=None, trace_id="u2"))
    assert [trace["path"] for trace in activity.traces()] == ["/docsdraft", "/users/"]
    assert activity.service_rows(["gateway"])[0]["rps"] == (len(loaded) + 2) / RATE_WINDOW_S
