"""The retry policy: what is safe to repeat, and how long to wait (full jitter)."""

import random

import pytest

from microservicios.common.retry import (
    Outcome,
    RetryPolicy,
    is_idempotent,
    parse_retry_after,
)


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=3, base_delay=0.1, max_delay=0.5, retry_after_cap=1.0, rng=random.Random(7)
    )


@pytest.mark.parametrize("idempotent", [True, False])
def test_not_sent_is_always_retried(policy: RetryPolicy, idempotent: bool) -> None:
    """A request that never left (connection refused) is safe to send again, even a POST."""
    assert policy.should_retry(Outcome.NOT_SENT, idempotent=idempotent)


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.DISCONNECTED])
def test_sent_without_answer_is_retried_only_if_idempotent(
    policy: RetryPolicy, outcome: Outcome
) -> None:
    """A timeout may mean the work was done: repeat it only when repeating is harmless."""
    assert policy.should_retry(outcome, idempotent=True)
    assert not policy.should_retry(outcome, idempotent=False)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_only_for_idempotent(policy: RetryPolicy, status: int) -> None:
    """429/502/503/504 are retried for idempotent requests only."""
    assert policy.should_retry(Outcome.ANSWERED, idempotent=True, status=status)
    assert not policy.should_retry(Outcome.ANSWERED, idempotent=False, status=status)


@pytest.mark.parametrize("status", [200, 201, 400, 401, 404, 409, 422, 500, 501])
def test_other_answers_are_never_retried(policy: RetryPolicy, status: int) -> None:
    """A business answer (4xx) or a plain 500 is final, even for a GET."""
    assert not policy.should_retry(Outcome.ANSWERED, idempotent=True, status=status)


def test_full_jitter_stays_within_the_exponential_cap(policy: RetryPolicy) -> None:
    """Each wait is between 0 and min(max_delay, base*2^(n-1)), and really varies."""
    for attempt, cap in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (10, 0.5)]:
        waits = [policy.backoff(attempt) for _ in range(500)]
        assert all(0 <= wait <= cap for wait in waits)
        assert max(waits) > cap * 0.8  # uses the whole range...
        assert min(waits) < cap * 0.2  # ...from near zero: full jitter, not equal jitter


def test_retry_after_is_honoured_but_capped(policy: RetryPolicy) -> None:
    """A server's Retry-After sets a minimum wait, never above the cap."""
    assert all(policy.backoff(1, retry_after=0.7) >= 0.7 for _ in range(50))
    assert all(policy.backoff(1, retry_after=30) == 1.0 for _ in range(50))


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", None, True),
        ("put", None, True),
        ("DELETE", None, True),
        ("POST", None, False),
        ("PATCH", None, False),
        ("POST", {"Idempotency-Key": "abc"}, True),
        ("POST", {"idempotency-key": "abc"}, True),
    ],
)
def test_idempotent_methods_and_keys(method: str, headers: dict | None, expected: bool) -> None:
    """GET/PUT/DELETE are idempotent; a POST only when it carries an Idempotency-Key."""
    assert is_idempotent(method, headers) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [("2", 2.0), ("0.5", 0.5), (None, None), ("soon", None), ("-1", None)]
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After in seconds is read; anything else is ignored."""
    assert parse_retry_after(value) == expected
