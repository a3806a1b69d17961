"""One request's journey across services, rebuilt from the cluster's log records.

Every service logs an `http.request` record per request it serves and an `http.call`
record per outgoing attempt, each with its trace id, span ids, start time and duration.
`build_trace` puts them in order; in a notebook, a `Trace` draws itself as a waterfall.
"""

import html
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from microservicios.telemetry.events import HTTP_CALL, HTTP_REQUEST, SPAN_EVENTS


@dataclass(frozen=True)
class Span:
    service: str
    event: str
    label: str
    started_at: float  # epoch seconds
    duration_ms: float
    span_id: str | None
    parent_span_id: str | None
    result: str

    @property
    def ended_at(self) -> float:
        return self.started_at + self.duration_ms / 1000


def _span(record: dict[str, Any]) -> Span:
    if record["event"] == HTTP_REQUEST:
        label = f"{record['method']} {record['path']}"
        result = str(record.get("status"))
    else:
        call = f"{record['target']} {record['method']} {record['path']}"
        label = f"→ {call} (intento {record['attempt']})"
        result = str(record.get("status") or record.get("outcome"))
    return Span(
        service=record["service"],
        event=record["event"],
        label=label,
        started_at=record["started_at"],
        duration_ms=record["duration_ms"],
        span_id=record.get("span_id"),
        parent_span_id=record.get("parent_span_id"),
        result=result,
    )


@dataclass(frozen=True)
class Trace:
    """The spans of one request, ordered by start time."""

    trace_id: str | None
    spans: list[Span]

    @property
    def complete(self) -> bool:
        """Every call has the request it led to, and the first request has ended too."""
        served = [span for span in self.spans if span.event == HTTP_REQUEST]
        calls = [span for span in self.spans if span.event == HTTP_CALL]
        answered_calls = {span.parent_span_id for span in served}
        call_ids = {span.span_id for span in calls}
        has_root = any(span.parent_span_id not in call_ids for span in served)
        return has_root and all(
            call.span_id in answered_calls or call.result not in _ANSWERED for call in calls
        )

    def rows(self) -> list[dict[str, Any]]:
        """One dict per span: service, event, label, start offset and duration in ms."""
        origin = self.spans[0].started_at if self.spans else 0.0
        return [
            {
                "service": span.service,
                "event": span.event,
                "label": span.label,
                "start_ms": round((span.started_at - origin) * 1000, 2),
                "duration_ms": round(span.duration_ms, 2),
                "result": span.result,
            }
            for span in self.spans
        ]

    def __repr__(self) -> str:
        lines = [f"Traza {self.trace_id} ({len(self.spans)} tramos)"]
        for row in self.rows():
            lines.append(
                f"  +{row['start_ms']:>8.2f} ms {row['duration_ms']:>8.2f} ms  "
                f"{row['service']:<8} {row['label']} [{row['result']}]"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self.spans:
            return "<p>No hay registros para esa traza.</p>"
        total = max(span.ended_at for span in self.spans) - self.spans[0].started_at
        total_ms = max(total * 1000, 0.001)
        body = []
        for row in self.rows():
            left = 100 * row["start_ms"] / total_ms
            width = max(0.5, 100 * row["duration_ms"] / total_ms)
            bar = (
                f"<div style='position:relative;height:14px;background:#eee;width:320px'>"
                f"<div style='position:absolute;left:{left:.1f}%;width:{width:.1f}%;"
                f"height:14px;background:{_COLORS.get(row['service'], '#888')}'></div></div>"
            )
            body.append(
                f"<tr><td {LEFT}>{html.escape(row['service'])}</td>"
                f"<td {LEFT}>{html.escape(row['label'])}</td>"
                f"<td {LEFT}>{row['result']}</td>"
                f"<td style='text-align:right'>{row['start_ms']:.1f}</td>"
                f"<td style='text-align:right'>{row['duration_ms']:.1f}</td><td>{bar}</td></tr>"
            )
        return (
            f"<p>Traza <code>{self.trace_id}</code></p><table><thead><tr><th {LEFT}>Servicio</th>"
            f"<th {LEFT}>Qué</th><th {LEFT}>Resultado</th><th>Inicio (ms)</th>"
            f"<th>Duración (ms)</th><th>Cascada</th></tr></thead><tbody>{''.join(body)}</tbody>"
            "</table>"
        )


# Jupyter right-aligns table cells; text reads better from the left.
LEFT = "style='text-align:left'"
_ANSWERED = frozenset(str(code) for code in range(100, 600))

_COLORS = MappingProxyType(
    {"gateway": "#4c72b0", "orders": "#dd8452", "users": "#55a868", "items": "#c44e52"}
)


def build_trace(records: list[dict[str, Any]], request_or_trace_id: str) -> Trace:
    """The spans whose trace id or request id is the given one."""
    matching = [
        record
        for record in records
        if record.get("event") in SPAN_EVENTS
        and request_or_trace_id in (record.get("trace_id"), record.get("request_id"))
        and "started_at" in record
    ]
    trace_ids = {record.get("trace_id") for record in matching}
    trace_id = next(iter(trace_ids)) if len(trace_ids) == 1 else request_or_trace_id
    spans = sorted((_span(record) for record in matching), key=lambda span: span.started_at)
    return Trace(trace_id=trace_id, spans=spans)
