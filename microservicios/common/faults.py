"""Fault injection: make a service slow, flaky or unresponsive on purpose, for the lessons.

Each app has a `FaultInjector` (`context.faults`). The cluster calls it directly
(`cluster.inject("items", latency=0.3)`); with services in separate processes the same is
done through the token-protected route `PUT /internal/faults`. Either way the injector
logs the change itself. Faults act before routing (`common/web/faults.py`), so an injected
error means the request was never processed.

Network faults are emulated here, in the application, so they work on every OS and need no
`netem`: `jitter` is latency that varies at random, and `drop_rate` is requests that never
get an answer, as if their packets were lost (the client only finds out through its own
timeout). A real cut link, on Linux, is in tests/e2e/test_multihost.py.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from microservicios.common.validation import spanish_validation_errors
from microservicios.telemetry.events import FAULTS_HEALED, FAULTS_INJECTED
from microservicios.telemetry.logs import EventLogger

FAULTS_PATH = "/internal/faults"
MAX_HANG_SECONDS = 30.0  # a hung request gives up by itself, so nothing hangs forever
HANG_POLL_SECONDS = 0.05


class Faults(BaseModel):
    """What to inject into every request of one service. All off by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency: Annotated[float, Field(ge=0, le=30, description="segundos extra por petición")] = 0.0
    error_rate: Annotated[float, Field(ge=0, le=1, description="fracción que falla")] = 0.0
    status: Annotated[int, Field(ge=400, le=599, description="código de las fallas")] = 503
    hang: Annotated[bool, Field(description="no responder (hasta que se cure)")] = False
    jitter: Annotated[
        float, Field(ge=0, le=30, description="segundos extra al azar, de 0 a jitter")
    ] = 0.0
    drop_rate: Annotated[
        float, Field(ge=0, le=1, description="fracción que nunca recibe respuesta")
    ] = 0.0

    @property
    def active(self) -> bool:
        return (
            self.latency > 0
            or self.error_rate > 0
            or self.hang
            or self.jitter > 0
            or self.drop_rate > 0
        )


class InvalidFaultsError(ValueError):
    """Faults out of range; the message names each field, in Spanish."""


def checked_faults(fields: Mapping[str, Any]) -> Faults:
    """`Faults` from plain fields (a call, a JSON body), or a Spanish InvalidFaultsError."""
    try:
        return Faults.model_validate(dict(fields))
    except ValidationError as exc:
        details = "; ".join(e["mensaje"] for e in spanish_validation_errors(exc.errors()))
        raise InvalidFaultsError(f"Fallas no válidas: {details}.") from None


class FaultInjector:
    """The faults of one app; replaced whole, so readers on other threads see one or the other.

    `rng` decides who fails, who is dropped and how much jitter; `sleep` waits out the delay.
    Tests pass a seeded `random.Random` and a fake sleep.
    """

    def __init__(
        self,
        logger: EventLogger,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.current = Faults()
        self._logger = logger
        self._rng = rng or random.Random()
        self.sleep = sleep

    def inject(self, faults: Faults) -> Faults:
        self.current = faults
        self._logger.warning(FAULTS_INJECTED, **faults.model_dump())
        return faults

    def heal(self) -> Faults:
        self.current = Faults()
        self._logger.info(FAULTS_HEALED)
        return self.current

    def should_fail(self, faults: Faults) -> bool:
        return faults.error_rate > 0 and self._rng.random() < faults.error_rate

    def should_drop(self, faults: Faults) -> bool:
        return faults.drop_rate > 0 and self._rng.random() < faults.drop_rate

    def delay(self, faults: Faults) -> float:
        """Seconds to wait: `latency` plus, with jitter, a uniform draw from 0 to `jitter`."""
        extra = self._rng.uniform(0, faults.jitter) if faults.jitter > 0 else 0.0
        return faults.latency + extra

    async def wait_while_hung(self) -> None:
        await self._wait_while(lambda: self.current.hang)

    async def wait_while_dropping(self) -> None:
        """A dropped request: no answer while the loss lasts (healed, or MAX_HANG_SECONDS)."""
        await self._wait_while(lambda: self.current.drop_rate > 0)

    async def _wait_while(self, condition: Callable[[], bool]) -> None:
        give_up_at = time.monotonic() + MAX_HANG_SECONDS
        while condition() and time.monotonic() < give_up_at:
            await asyncio.sleep(HANG_POLL_SECONDS)
