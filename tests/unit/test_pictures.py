"""What the plots and HTML tables show a class: Spanish labels, readable, on any projector."""

import re

from microservicios.cluster.cluster import _status_badge
from microservicios.cluster.traces import build_trace
from microservicios.plots import breaker_timeline, latency_timeline

T0 = 1_700_000_000.0
TRANSITIONS = [
    {
        "caller": "orders",
        "target": "items",
        "from_state": "closed",
        "to_state": "open",
        "at": T0 + 1,
    },
    {
        "caller": "orders",
        "target": "items",
        "from_state": "open",
        "to_state": "closed",
        "at": T0 + 6,
    },
]
MARKS = [
    {"at": T0, "service": "items", "action": "kill"},
    {"at": T0 + 5, "service": "items", "action": "revive"},
    {"at": T0 + 7, "service": "items", "action": "heal"},
]


def mark_texts(figure) -> list:  # noqa: ANN001
    return [t for t in figure.axes[0].texts if ":" in t.get_text()]


def test_breaker_marks_are_spanish_readable_and_off_the_y_axis():
    """Marks read "items: apagado"…, sit right of their line (the first one clear of the y
    axis) and have a light box, so "revivido" is readable over a red bar."""
    figure = breaker_timeline(transitions=TRANSITIONS, marks=MARKS, until=T0 + 8)
    texts = mark_texts(figure)
    assert [t.get_text() for t in texts] == ["items: apagado", "items: revivido", "items: curado"]
    assert all(t.get_ha() == "left" for t in texts)
    assert all(t.get_bbox_patch() is not None for t in texts)
    figure.canvas.draw()
    axis_right = figure.axes[0].get_window_extent().x0
    first = texts[0].get_window_extent()
    assert first.x0 > axis_right  # not on top of the y axis labels


def test_latency_marks_hang_from_the_top_not_over_points_near_zero():
    """Latency marks are drawn at the top of the axes, away from the points near y = 0."""
    samples = [{"at": T0 + i / 10, "latency_ms": 3.0, "status": 200} for i in range(50)]
    figure = latency_timeline(samples, marks=MARKS)
    texts = mark_texts(figure)
    assert len(texts) == 3
    assert all(t.xycoords == ("data", "axes fraction") and t.xy[1] == 1.0 for t in texts)


def test_status_badge_uses_no_emoji():
    """The cluster table's status is a CSS dot plus a word: no emoji font needed."""
    for up, word in ((True, "activo"), (False, "detenido")):
        badge = _status_badge(up)
        assert word in badge
        assert not re.search("[\U0001f300-\U0001faff]", badge)


def test_trace_text_columns_are_left_aligned():
    """In the waterfall, Servicio, Qué and Resultado read from the left."""
    records = [
        {"event": "http.request", "service": "gateway", "trace_id": "t" * 32, "span_id": "a" * 16,
         "parent_span_id": None, "method": "GET", "path": "/users/1", "route": "/users/*",
         "status": 200, "duration_ms": 5.0, "started_at": T0, "request_id": "r1"},
    ]  # fmt: skip
    html = build_trace(records, "t" * 32)._repr_html_()
    assert "<th style='text-align:left'>Qué</th>" in html
    assert html.count("<td style='text-align:left'>") == 3
