"""Pictures for the notebooks (matplotlib, installed with the `notebooks` extra).

- `breaker_timeline(cluster)`: the state of each circuit breaker over time, with the
  kill/revive/inject/heal moments marked.
- `latency_timeline(samples)`: latency of a series of requests over time, coloured by status.

Both return a matplotlib `Figure` built without pyplot (no global figure state) that a
notebook shows as a PNG by itself; `fig.savefig("x.png")` saves it.
"""

import io
import time
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

try:
    from matplotlib.figure import Figure
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError('Los gráficos necesitan matplotlib: pip install -e ".[notebooks]"') from exc


class NotebookFigure(Figure):
    """A Figure that shows itself as a PNG in Jupyter even with no pyplot backend active."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


STATE_COLORS = MappingProxyType({"closed": "#55a868", "half_open": "#f0a73a", "open": "#c44e52"})
STATE_LABELS = MappingProxyType(
    {"closed": "cerrado", "half_open": "semiabierto", "open": "abierto"}
)
MARK_LABELS = MappingProxyType(
    {"kill": "apagado", "revive": "revivido", "inject": "con fallas", "heal": "curado"}
)
# Marks' labels: just right of their line, at the top, on a light box so they stay readable
# over a coloured bar and never cover the y axis or the data points near zero.
LABEL_STYLE = MappingProxyType(
    {
        "rotation": 90,
        "va": "top",
        "ha": "left",
        "fontsize": 8,
        "xytext": (2, -2),
        "textcoords": "offset points",
        "bbox": {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
    }
)
# Room on the time axis before the first moment and after the last, as a fraction of the
# span: a mark at either end (notebook 03 kills items first) keeps its dashed line off the
# frame and its label inside the axes.
TIME_MARGIN = 0.05


def breaker_timeline(
    cluster: Any = None,
    *,
    transitions: Iterable[Mapping[str, Any]] | None = None,
    marks: Iterable[Mapping[str, Any]] | None = None,
    until: float | None = None,
) -> Figure:
    """One lane per breaker (caller → target), coloured by state, from the transition history.

    Pass a `Cluster`, or `transitions` (dicts with caller, target, from_state, to_state, at)
    and optional `marks` (dicts with at, service, action).
    """
    transitions = list(transitions if transitions is not None else cluster.breaker_transitions())
    marks = list(marks if marks is not None else (cluster.marks if cluster is not None else []))
    until = until or time.time()
    moments = [t["at"] for t in transitions] + [m["at"] for m in marks]
    origin = min(moments) if moments else until

    lanes: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for transition in sorted(transitions, key=lambda t: t["at"]):
        lanes.setdefault((transition["caller"], transition["target"]), []).append(transition)

    figure = NotebookFigure(figsize=(9, 1.2 + 0.6 * max(1, len(lanes))), layout="constrained")
    axes = figure.subplots()
    for row, (_lane, history) in enumerate(sorted(lanes.items())):
        state, since = history[0]["from_state"], origin
        for transition in history:
            _segment(axes, row, since - origin, transition["at"] - origin, state)
            state, since = transition["to_state"], transition["at"]
        _segment(axes, row, since - origin, until - origin, state)
    axes.set_yticks(range(len(lanes)), [f"{c} → {t}" for c, t in sorted(lanes)])
    for mark in marks:
        _draw_mark(axes, mark, origin)
    handles = [_patch(state) for state in STATE_COLORS]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _time_axis(axes, until - origin)
    axes.set_xlabel("segundos desde el primer evento")
    axes.set_title("Estado de los circuit breakers")
    axes.set_ylim(-0.5, max(1, len(lanes)) - 0.5)
    if not lanes:
        axes.text(
            0.5, 0.5, "Ningún breaker cambió de estado", ha="center", transform=axes.transAxes
        )
    return figure


def latency_timeline(
    samples: Iterable[Mapping[str, Any]],
    *,
    marks: Iterable[Mapping[str, Any]] = (),
    title: str = "Latencia de cada petición",
) -> Figure:
    """Scatter of latency (ms) over time, coloured by status class.

    `samples`: dicts with `at` (epoch seconds), `latency_ms` and `status` (int, or a text
    such as "timeout" for requests that got no answer).
    """
    samples = list(samples)
    marks = list(marks)
    moments = [s["at"] for s in samples] + [m["at"] for m in marks]
    origin = min(moments, default=0.0)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for sample in samples:
        groups.setdefault(_status_class(sample["status"]), []).append(sample)

    figure = NotebookFigure(figsize=(9, 3.5), layout="constrained")
    axes = figure.subplots()
    colors = {"2xx": "#55a868", "4xx": "#4c72b0", "5xx": "#c44e52", "sin respuesta": "#333333"}
    for name, group in sorted(groups.items()):
        axes.scatter(
            [s["at"] - origin for s in group],
            [s["latency_ms"] for s in group],
            s=12,
            color=colors.get(name, "#888888"),
            label=f"{name} ({len(group)})",
        )
    for mark in marks:
        _draw_mark(axes, mark, origin)
    axes.set_ylim(bottom=0)
    _time_axis(axes, max(moments, default=origin) - origin)
    axes.set_xlabel("segundos")
    axes.set_ylabel("latencia (ms)")
    axes.set_title(title)
    if groups:
        axes.legend(fontsize=8)
    return figure


def mark_label(mark: Mapping[str, Any]) -> str:
    """ "items: apagado", "orders: con fallas"…: what happened to which service."""
    return f"{mark['service']}: {MARK_LABELS.get(mark['action'], mark['action'])}"


def _draw_mark(axes: Any, mark: Mapping[str, Any], origin: float) -> None:
    x = mark["at"] - origin
    axes.axvline(x, color="#333", linestyle="--", linewidth=1)
    # x in data units, y as a fraction of the axes: the label hangs from the top edge.
    axes.annotate(mark_label(mark), (x, 1.0), xycoords=("data", "axes fraction"), **LABEL_STYLE)


def _time_axis(axes: Any, end: float) -> None:
    """Seconds from 0 to `end`, with `TIME_MARGIN` of room on both sides."""
    margin = TIME_MARGIN * (end if end > 0 else 1.0)
    axes.set_xlim(-margin, end + margin)


def _segment(axes: Any, row: int, start: float, end: float, state: str) -> None:
    axes.barh(row, max(end - start, 0.0), left=start, height=0.6, color=STATE_COLORS[state])


def _patch(state: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(color=STATE_COLORS[state], label=STATE_LABELS[state])


def _status_class(status: Any) -> str:
    if isinstance(status, int):
        return f"{status // 100}xx"
    return "sin respuesta"
