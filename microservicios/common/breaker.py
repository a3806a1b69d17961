"""Circuit breaker: stop calling a dependency that keeps failing, then probe it carefully.

States (as in Resilience4j and Polly):
- closed: calls go through; `failure_threshold` consecutive failures open the circuit.
- open: calls are refused at once, without touching the network, for `reset_timeout` s.
- half_open: after the cool-down, up to `half_open_max_calls` probe calls go through at a
  time. A successful probe closes the circuit; a failed one opens it again.

Only the caller decides what a failure is (see `client.py`): connection errors, timeouts
and 5xx answers are failures; a 4xx is an answer, never a failure.

The breaker is driven by an injectable clock, so tests need no sleeping, and guarded by a
lock, so the cluster's thread can read it while the service's event loop updates it.
"""

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from microservicios.common.settings import Settings

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
HISTORY_SIZE = 200

Clock = Callable[[], float]


@dataclass(frozen=True)
class BreakerTransition:
    """One change of state, for logs, /health and the notebook's timeline plot."""

    caller: str
    target: str
    from_state: str
    to_state: str
    at: float  # wall-clock time (time.time()), so timelines of different breakers line up
    reason: str

    @property
    def timestamp(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "timestamp": self.timestamp}


@dataclass(frozen=True)
class BreakerConfig:
    """When a breaker opens and how it probes; the defaults are `Settings`' own."""

    failure_threshold: int = Settings.default_for("breaker_failure_threshold")
    reset_timeout: float = Settings.default_for("breaker_reset_timeout")
    half_open_max_calls: int = Settings.default_for("breaker_half_open_max_calls")

    @classmethod
    def from_settings(cls, settings: Settings) -> "BreakerConfig":
        return cls(
            failure_threshold=settings.breaker_failure_threshold,
            reset_timeout=settings.breaker_reset_timeout,
            half_open_max_calls=settings.breaker_half_open_max_calls,
        )


TransitionHook = Callable[[BreakerTransition], None]


class CircuitBreaker:
    """One breaker per (calling service, target service), living on the calling app."""

    def __init__(
        self,
        caller: str,
        target: str,
        config: BreakerConfig | None = None,
        *,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        on_transition: TransitionHook | None = None,
    ) -> None:
        self.caller = caller
        self.target = target
        self.config = config or BreakerConfig()
        self._clock = clock
        self._wall_clock = wall_clock
        self._on_transition = on_transition
        self._lock = threading.RLock()  # re-entrant: a hook may read the breaker
        self._state = CLOSED
        self._consecutive_failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self.history: deque[BreakerTransition] = deque(maxlen=HISTORY_SIZE)

    @property
    def state(self) -> str:
        """The current state; an open circuit whose cool-down is over reads as half_open."""
        with self._lock:
            self._expire_cool_down()
            return self._state

    def retry_after(self) -> float:
        """Seconds until an open circuit lets a probe through (0 if not open)."""
        with self._lock:
            if self._state != OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.config.reset_timeout - self._clock())

    def allow_request(self) -> bool:
        """May a call go out now? In half_open, a True reserves one probe slot."""
        with self._lock:
            self._expire_cool_down()
            if self._state == CLOSED:
                return True
            if (
                self._state == HALF_OPEN
                and self._probes_in_flight < self.config.half_open_max_calls
            ):
                self._probes_in_flight += 1
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._release_probe()
            self._consecutive_failures = 0
            if self._state == HALF_OPEN:
                self._move_to(CLOSED, "la llamada de prueba funcionó")

    def record_failure(self) -> None:
        with self._lock:
            self._release_probe()
            if self._state == HALF_OPEN:
                self._open("la llamada de prueba falló")
                return
            self._consecutive_failures += 1
            if (
                self._state == CLOSED
                and self._consecutive_failures >= self.config.failure_threshold
            ):
                self._open(f"{self._consecutive_failures} fallos seguidos")

    def record_abandoned(self) -> None:
        """The call ended with no verdict (cancelled): just free its probe slot."""
        with self._lock:
            self._release_probe()

    def snapshot(self) -> dict[str, Any]:
        """What /health shows about this breaker."""
        with self._lock:
            self._expire_cool_down()
            report: dict[str, Any] = {
                "state": self._state,
                "consecutive_failures": self._consecutive_failures,
            }
            if self._state == OPEN:
                remaining = self._opened_at + self.config.reset_timeout - self._clock()
                report["retry_after"] = round(max(0.0, remaining), 3)
            return report

    # --- internals (called with the lock held) --------------------------------------

    def _expire_cool_down(self) -> None:
        if self._state == OPEN and self._clock() >= self._opened_at + self.config.reset_timeout:
            self._probes_in_flight = 0
            # Noticed lazily, but stamped with the moment the cool-down really ended.
            overdue = self._clock() - (self._opened_at + self.config.reset_timeout)
            self._move_to(HALF_OPEN, "terminó la espera, se permite una prueba", overdue=overdue)

    def _open(self, reason: str) -> None:
        self._opened_at = self._clock()
        self._probes_in_flight = 0
        self._move_to(OPEN, reason)

    def _release_probe(self) -> None:
        if self._probes_in_flight > 0:
            self._probes_in_flight -= 1

    def _move_to(self, state: str, reason: str, overdue: float = 0.0) -> None:
        transition = BreakerTransition(
            caller=self.caller,
            target=self.target,
            from_state=self._state,
            to_state=state,
            at=self._wall_clock() - overdue,
            reason=reason,
        )
        self._state = state
        if state == CLOSED:
            self._consecutive_failures = 0
        self.history.append(transition)
        if self._on_transition is not None:
            self._on_transition(transition)
