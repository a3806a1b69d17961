"""Laboratorio 3: tu propio circuit breaker.

Estados:
- "closed":    las llamadas pasan; `failure_threshold` fallos SEGUIDOS lo abren.
- "open":      rechaza todo sin tocar la red durante `reset_timeout` segundos.
- "half_open": pasada la espera, deja pasar hasta `half_open_max_calls` llamadas de prueba
               a la vez: si una sale bien, "closed"; si falla, "open" de nuevo.

Usá siempre `self._clock()` para la hora (en las comprobaciones es un reloj falso) y
`self._move_to(estado, motivo)` para cambiar de estado (avisa al log y a las métricas).

Completá los TODO y comprobá con:  python -m microservicios.labs check 3
Al final, la comprobación enchufa tu clase en un cluster real (Cluster(breaker_factory=...)).
"""

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

    @property
    def state(self) -> str:
        # TODO 1: si está "open" y ya pasaron reset_timeout segundos desde _opened_at,
        #         pasá a "half_open" (y poné _probes_in_flight en 0).
        return self._state

    def allow_request(self) -> bool:
        # TODO 2: "closed" → True. "half_open" → True sólo si quedan lugares de prueba
        #         (y contá el que usás). "open" → False.
        return True

    def record_success(self) -> None:
        # TODO 3: reiniciá los fallos; si era una prueba (half_open), cerrá el circuito.
        pass

    def record_failure(self) -> None:
        # TODO 4: una prueba fallida reabre; en "closed", contá el fallo y abrí al llegar
        #         a failure_threshold (anotá _opened_at = self._clock()).
        pass

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
