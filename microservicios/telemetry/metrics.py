"""Prometheus metrics, one registry per app instance (several apps share one process)."""

from types import MappingProxyType
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BREAKER_STATE_VALUES = MappingProxyType({"closed": 0, "half_open": 1, "open": 2})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Label children kept at hand, at most this many: a client chooses the method of a request,
# and past this they are looked up each time (as prometheus_client keeps them anyway).
MAX_KEPT_CHILDREN = 1_000


class Metrics:
    """The metrics of one service; `render()` is what GET /metrics answers."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "Peticiones atendidas, por ruta, método y código",
            ["service", "route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Duración de las peticiones atendidas",
            ["service", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.calls = Counter(
            "http_client_calls_total",
            "Intentos de llamada a otros servicios, por destino y resultado",
            ["service", "target", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "http_client_retries_total",
            "Reintentos hacia otros servicios",
            ["service", "target"],
            registry=self.registry,
        )
        self.retries_denied = Counter(
            "http_client_retries_denied_total",
            "Reintentos no hechos porque se agotó el presupuesto de reintentos",
            ["service", "target"],
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "circuit_breaker_state",
            "Estado del circuit breaker: 0 cerrado, 1 semiabierto, 2 abierto",
            ["service", "target"],
            registry=self.registry,
        )
        self.breaker_transitions = Counter(
            "circuit_breaker_transitions_total",
            "Cambios de estado del circuit breaker",
            ["service", "target", "to_state"],
            registry=self.registry,
        )
        self.service = service
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(service, *labels)`, looked up once: prometheus_client's `labels()`
        checks and joins its arguments on every call, and this runs on every request."""
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = metric.labels(self.service, *labels)
            if len(self._children) < MAX_KEPT_CHILDREN:
                self._children[key] = child
        return child

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._child(self.requests, route, method, str(status)).inc()
        self._child(self.latency, route).observe(seconds)

    def observe_call(self, target: str, outcome: str) -> None:
        self._child(self.calls, target, outcome).inc()

    def observe_retry_denied(self, target: str) -> None:
        self._child(self.retries_denied, target).inc()

    def observe_retry(self, target: str) -> None:
        self._child(self.retries, target).inc()

    def observe_breaker(self, target: str, state: str, transitioned: bool) -> None:
        self.breaker_state.labels(self.service, target).set(BREAKER_STATE_VALUES[state])
        if transitioned:
            self.breaker_transitions.labels(self.service, target, state).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
