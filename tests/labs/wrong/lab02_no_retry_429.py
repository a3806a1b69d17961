"""Laboratorio 2, mal: un 429 no se reintenta."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

RETRYABLE_STATUSES = {502, 503, 504}


@dataclass(frozen=True)
class Attempt:
    outcome: str  # "not_sent" | "timeout" | "disconnected" | "answered"
    status: int | None = None


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter: al azar entre 0 y min(cap, base * 2 ** (attempt - 1))."""
    return rng.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def should_retry(attempt: Attempt, idempotent: bool) -> bool:
    if attempt.outcome == "not_sent":
        return True
    if attempt.outcome in ("timeout", "disconnected"):
        return idempotent
    return idempotent and attempt.status in RETRYABLE_STATUSES


def _succeeded(attempt: Attempt) -> bool:
    return attempt.outcome == "answered" and attempt.status is not None and attempt.status < 500


async def call_with_retries(
    send: Callable[[], Awaitable[Attempt]],
    *,
    idempotent: bool,
    max_attempts: int = 3,
    base: float = 0.05,
    cap: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> Attempt:
    rng = rng or random.Random()
    for number in range(1, max_attempts + 1):
        attempt = await send()
        if number == max_attempts or not should_retry(attempt, idempotent):
            return attempt
        await sleep(backoff(number, base, cap, rng))
    raise AssertionError("unreachable")
