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


def what_the_panel_shows(activity: Activity, names: list[str]) -> dict:
    return {
        "rows": activity.service_rows(names),
        "metrics": activity.metrics(names),
        "breakers": activity.breakers(),
        "traces": activity.traces(),
        "logs": activity.logs_after(0),
        "spans": [activity.spans(f"t{number}") for number in range(0, 3_000, 7)],
    }


def test_a_panel_opened_late_shows_what_one_watched_all_along_shows():
    """7,000 records over 90 s (requests, 5xx, roots, a breaker, faults) that nobody read
    until the end: the same rates, charts, breakers, traces, spans and log tail as a panel
    read after every record."""
    names = ["gateway", "orders", "items"]
    watched_clock, late_clock = FakeClock(), FakeClock()
    watched, late = Activity(clock=watched_clock), Activity(clock=late_clock)
    records: list[dict] = [{"event": "service.started", "service": "orders", "breakers": ["items"]}]
    for number in range(3_000):
        trace = {"trace_id": f"t{number % 400}", "request_id": f"r{number}"}
        records.append(request("items", 503 if number % 9 == 0 else 200, number % 50, **trace))
        root = request("gateway", 201, 10.0, parent_span_id=None, path="/orders/", **trace)
        records.append(root)
        if number % 3 == 0:  # a span that ends after its root: not in the root's services
            records.append(request("orders", **trace))
        if number == 1_500:
            records.append({"event": "faults.injected", "service": "items", "error_rate": 1.0})
            records.append(
                {"event": "breaker.opened", "service": "orders", "caller": "orders",
                 "target": "items", "from_state": "closed", "to_state": "open",
                 "at_epoch": 1_000_050.0}
            )  # fmt: skip
    for number, record in enumerate(records):
        for clock in (watched_clock, late_clock):
            clock.now = 1_000_000.0 + 90 * number / len(records)
        watched(record)
        if number % 10 == 0:
            what_the_panel_shows(watched, names)
        late(record)
    assert what_the_panel_shows(late, names) == what_the_panel_shows(watched, names)


def test_records_nobody_read_yet_are_bounded_in_count_and_bytes():
    """Records wait to be counted at most PENDING_RECORDS at a time and PENDING_BYTES in
    all: 5,000 records of 60 KB handed over with no panel open never pile up past that."""
    from microservicios.panel.activity import PENDING_BYTES, PENDING_RECORDS

    activity = Activity(clock=FakeClock())
    long_path = "/users/" + "a" * 60_000
    most = 0
    for number in range(5_000):
        activity(request("gateway", path=long_path, trace_id=f"t{number}"))
        most = max(most, len(activity._pending))
        assert activity._pending_bytes <= PENDING_BYTES
    assert 1 < most < PENDING_RECORDS
    assert activity.service_rows(["gateway"])[0]["rps"] == 5_000 / RATE_WINDOW_S


def test_a_record_that_lacks_a_field_is_in_the_tail_and_the_rest_still_count():
    """A request record with no service (a stray line) neither breaks the panel's reads nor
    loses the records around it: they count, and it shows in the log tail."""
    activity = Activity(clock=FakeClock())
    activity(request("users"))
    activity({"event": "http.request", "status": 200})
    activity(request("users"))
    assert activity.service_rows(["users"])[0]["rps"] == 2 / RATE_WINDOW_S
    assert len(activity.logs_after(0)[1]) == 3
