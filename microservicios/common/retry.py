"""Retry policy: what may be retried, and how long to wait before the next attempt.

Retrying is only safe when repeating the request cannot do the work twice:
- the request never left (connection refused, connect timeout): always safe;
- it left but no answer came (timeout, connection cut), or the answer was 502/503/504/429:
  safe only for idempotent requests (GET, PUT, DELETE, or a POST with an idempotency key).

Waits grow exponentially with "full jitter" (a random wait between 0 and the exponential
cap), so clients that failed together do not retry together (AWS Architecture Blog,
"Exponential Backoff and Jitter").
"""

import random
from dataclasses import dataclass, field
from enum import StrEnum

from microservicios.common.headers import IDEMPOTENCY_KEY_HEADER
from microservicios.common.settings import Settings

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
NO_STATUSES: frozenset[int] = frozenset()  # for a client that retries only unanswered calls
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_IDEMPOTENCY_KEY = IDEMPOTENCY_KEY_HEADER.lower()


class Outcome(StrEnum):
    """What happened to one attempt, judged by what really happened on the wire."""

    NOT_SENT = "not_sent"  # the connection could not be made: the server saw nothing
    TIMEOUT = "timeout"  # sent, but no answer in time: the server may have done the work
    DISCONNECTED = "disconnected"  # sent, then the connection broke: same doubt
    ANSWERED = "answered"  # an HTTP answer arrived (any status)


@dataclass
class RetryPolicy:
    """How many attempts, and how long to wait between them; built from `Settings`."""

    max_attempts: int
    base_delay: float
    max_delay: float
    retry_after_cap: float
    rng: random.Random = field(default_factory=random.Random)
    # Answers worth another attempt. The gateway passes NO_STATUSES: a service that
    # answered 503 is reporting on its own dependencies, and has retried them already.
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        rng: random.Random | None = None,
        retryable_statuses: frozenset[int] = RETRYABLE_STATUSES,
    ) -> "RetryPolicy":
        return cls(
            max_attempts=settings.retry_max_attempts,
            base_delay=settings.retry_base_delay,
            max_delay=settings.retry_max_delay,
            retry_after_cap=settings.retry_after_cap,
            rng=rng or random.Random(),
            retryable_statuses=retryable_statuses,
        )

    def should_retry(
        self, outcome: Outcome, *, idempotent: bool, status: int | None = None
    ) -> bool:
        """May this attempt be repeated? (Whether another attempt fits is checked apart.)"""
        if outcome is Outcome.NOT_SENT:
            return True
        if outcome in (Outcome.TIMEOUT, Outcome.DISCONNECTED):
            return idempotent
        return idempotent and status in self.retryable_statuses

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        Full jitter: uniform between 0 and min(max_delay, base_delay * 2**(attempt-1)).
        A server's Retry-After, capped, is honoured as a minimum.
        """
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        delay = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_cap))
        return delay


def is_idempotent(method: str, headers: dict[str, str] | None = None) -> bool:
    """GET/HEAD/OPTIONS/PUT/DELETE are idempotent by definition; a POST only with a key."""
    if method.upper() in IDEMPOTENT_METHODS:
        return True
    return any(name.lower() == _IDEMPOTENCY_KEY for name in (headers or {}))


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not used between our services)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
