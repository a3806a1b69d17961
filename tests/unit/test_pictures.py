"""What the plots and HTML tables show a class: Spanish labels, readable, on any projector."""

import re

from microservicios.cluster.cluster import _status_badge
from microservicios.plots import breaker_timeline, latency_timeline
from microservicios.telemetry.traces import build_trace

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


def inside_axes(figure, text) -> bool:  # noqa: ANN001
    """The label, with room for its light box, lies within the axes (display pixels)."""
    axes = figure.axes[0].get_window_extent()
    extent = text.get_window_extent()
    room = 3 * figure.dpi / 72  # 3 points: the box's padding, and a little air
    return (
        axes.x0 + room <= extent.x0
        and extent.x1 <= axes.x1 - room
        and axes.y0 <= extent.y0
        and extent.y1 <= axes.y1
    )


def test_a_mark_at_the_first_moment_is_inside_the_plot_not_on_its_edge():
    """Notebook 03 kills items first: its line stands clear of the left edge, and its label
    "items: apagado" lies inside the axes, not on the frame."""
    figure = breaker_timeline(transitions=TRANSITIONS, marks=MARKS, until=T0 + 8)
    figure.canvas.draw()
    axes = figure.axes[0]
    kill_line = axes.transData.transform((axes.lines[0].get_xdata()[0], 0))[0]
    assert kill_line - axes.get_window_extent().x0 >= 10  # pixels: a visible dashed line
    assert all(inside_axes(figure, text) for text in mark_texts(figure))


def test_a_mark_at_the_last_moment_keeps_its_label_inside_the_plot():
    """A heal drawn right at the end (the picture taken just after it) labels to the left of
    its line, inside the axes, instead of running off the right edge."""
    marks = [*MARKS, {"at": T0 + 8, "service": "users", "action": "heal"}]
    for figure in (
        breaker_timeline(transitions=TRANSITIONS, marks=marks, until=T0 + 8),
        latency_timeline(
            [{"at": T0 + i / 10, "latency_ms": 3.0, "status": 200} for i in range(80)], marks=marks
        ),
    ):
        figure.canvas.draw()
        texts = mark_texts(figure)
        assert [t.get_text() for t in texts][-1] == "users: curado"
        assert all(inside_axes(figure, text) for text in texts), [
            (t.get_text(), t.get_window_extent()) for t in texts
        ]


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
