"""Laboratorio 3, mal: los fallos "seguidos" sólo cuentan si llegan a menos de 1 s del anterior."""

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from microservicios.common.breaker import BreakerConfig, BreakerTransition

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(
        self,
        caller: str,
        target: str,
        config: BreakerConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        on_transition: Callable[[BreakerTransition], None] | None = None,
    ) -> None:
        self.caller, self.target = caller, target
        self.config = config or BreakerConfig()
        self._clock, self._wall_clock = clock, wall_clock
        self._on_transition = on_transition
        self.history: deque[BreakerTransition] = deque(maxlen=200)
        self._state = CLOSED
        self._consecutive_failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._last_failure_at = 0.0

    @property
    def state(self) -> str:
        if self._state == OPEN and self._clock() >= self._opened_at + self.config.reset_timeout:
            self._probes_in_flight = 0
            self._move_to(HALF_OPEN, "terminó la espera")
        return self._state

    def allow_request(self) -> bool:
        state = self.state
        if state == CLOSED:
            return True
        if state == HALF_OPEN and self._probes_in_flight < self.config.half_open_max_calls:
            self._probes_in_flight += 1
            return True
        return False

    def record_success(self) -> None:
        self._consecutive_failures = 0
        if self._state == HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            self._move_to(CLOSED, "la prueba salió bien")

    def record_failure(self) -> None:
        if self._state == HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            self._open("la prueba falló")
            return
        now = self._clock()
        if now - self._last_failure_at > 1.0:
            self._consecutive_failures = 0
        self._last_failure_at = now
        self._consecutive_failures += 1
        if self._state == CLOSED and self._consecutive_failures >= self.config.failure_threshold:
            self._open(f"{self._consecutive_failures} fallos seguidos")

    def _open(self, reason: str) -> None:
        self._opened_at = self._clock()
        self._move_to(OPEN, reason)

    # --- ya hecho: no hace falta tocar lo que sigue ------------------------------------

    def record_abandoned(self) -> None:
        """La llamada se canceló sin veredicto: libera su lugar de prueba."""
        self._probes_in_flight = max(0, self._probes_in_flight - 1)

    def retry_after(self) -> float:
        if self.state != OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.config.reset_timeout - self._clock())

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "consecutive_failures": self._consecutive_failures}

    def _move_to(self, state: str, reason: str) -> None:
        transition = BreakerTransition(
            self.caller, self.target, self._state, state, self._wall_clock(), reason
        )
        self._state = state
        self.history.append(transition)
        if self._on_transition is not None:
            self._on_transition(transition)
