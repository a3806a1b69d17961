"""A retry budget: retries may add at most a fixed fraction to a client's recent traffic.

Each layer's retries are safe on their own, but a storm multiplies them: when a service is
failing, every client retrying 3 times triples the load on it exactly when it can least
take it. Finagle and Envoy bound this with a budget: over a sliding window, retries may be
at most `ratio` of the requests made (plus a small reserve, `min_retries`, so a quiet
client can still retry). A retry that does not fit is not sent: the caller gets the
failure it already has.
"""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from microservicios.common.settings import Settings


@dataclass
class RetryBudget:
    """One client's budget; built from `Settings`, the one source of defaults."""

    ratio: float  # retries allowed per request sent, over the window
    min_retries: int  # retries always allowed per window, however quiet the client
    window: float  # seconds
    clock: Callable[[], float] = time.monotonic
    _requests: deque[float] = field(default_factory=deque, repr=False)
    _retries: deque[float] = field(default_factory=deque, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "RetryBudget":
        return cls(
            ratio=settings.retry_budget_ratio,
            min_retries=settings.retry_budget_min,
            window=settings.retry_budget_window,
        )

    def record_request(self) -> None:
        """A first attempt was made (retries are counted by `try_spend`)."""
        self._requests.append(self.clock())

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) if it is spent."""
        now = self.clock()
        for times in (self._requests, self._retries):
            while times and times[0] <= now - self.window:
                times.popleft()
        if len(self._retries) >= self.min_retries + self.ratio * len(self._requests):
            return False
        self._retries.append(now)
        return True
