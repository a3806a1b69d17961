"""The circuit breaker's state machine, driven by a fake clock (no sleeping)."""

import threading

import pytest

from microservicios.common.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerConfig,
    BreakerTransition,
    CircuitBreaker,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def transitions() -> list[BreakerTransition]:
    return []


@pytest.fixture
def breaker(clock: FakeClock, transitions: list[BreakerTransition]) -> CircuitBreaker:
    config = BreakerConfig(failure_threshold=3, reset_timeout=5.0, half_open_max_calls=1)
    return CircuitBreaker(
        "orders", "items", config, clock=clock, wall_clock=clock, on_transition=transitions.append
    )


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow_request()
        breaker.record_failure()


def test_starts_closed_and_lets_calls_through(breaker: CircuitBreaker) -> None:
    """A new breaker is closed and allows calls."""
    assert breaker.state == CLOSED
    assert breaker.allow_request()


def test_opens_after_threshold_consecutive_failures(breaker: CircuitBreaker) -> None:
    """Exactly N consecutive failures open the circuit; N-1 do not."""
    fail(breaker, 2)
    assert breaker.state == CLOSED
    fail(breaker, 1)
    assert breaker.state == OPEN


def test_a_success_resets_the_failure_count(breaker: CircuitBreaker) -> None:
    """Failures must be consecutive: a success in between starts the count again."""
    fail(breaker, 2)
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state == CLOSED
    assert breaker.snapshot()["consecutive_failures"] == 2


def test_open_refuses_calls_until_cool_down_ends(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """While open, calls are refused; retry_after counts down the cool-down."""
    fail(breaker, 3)
    assert not breaker.allow_request()
    clock.advance(4.0)
    assert not breaker.allow_request()
    assert breaker.retry_after() == pytest.approx(1.0)
    assert breaker.snapshot()["retry_after"] == pytest.approx(1.0)


def test_half_open_after_cool_down_allows_one_probe(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    """After the cool-down one probe goes through; a second concurrent one is refused."""
    fail(breaker, 3)
    clock.advance(5.0)
    assert breaker.state == HALF_OPEN
    assert breaker.allow_request()
    assert not breaker.allow_request()


def test_successful_probe_closes(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """A successful probe in half_open closes the circuit and clears the failures."""
    fail(breaker, 3)
    clock.advance(5.0)
    assert breaker.allow_request()
    breaker.record_success()
    assert breaker.state == CLOSED
    assert breaker.snapshot()["consecutive_failures"] == 0
    assert breaker.allow_request()


def test_failed_probe_reopens_for_a_full_cool_down(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    """A failed probe opens the circuit again, for another whole cool-down."""
    fail(breaker, 3)
    clock.advance(5.0)
    assert breaker.allow_request()
    breaker.record_failure()
    assert breaker.state == OPEN
    clock.advance(4.9)
    assert not breaker.allow_request()
    clock.advance(0.1)
    assert breaker.state == HALF_OPEN


def test_abandoned_probe_frees_its_slot(breaker: CircuitBreaker, clock: FakeClock) -> None:
    """A cancelled probe gives no verdict but lets the next probe through."""
    fail(breaker, 3)
    clock.advance(5.0)
    assert breaker.allow_request()
    breaker.record_abandoned()
    assert breaker.state == HALF_OPEN
    assert breaker.allow_request()


def test_half_open_max_calls_limits_concurrent_probes(clock: FakeClock) -> None:
    """With half_open_max_calls=2, two probes may be in flight at once, not three."""
    config = BreakerConfig(failure_threshold=1, reset_timeout=1.0, half_open_max_calls=2)
    breaker = CircuitBreaker("gateway", "users", config, clock=clock, wall_clock=clock)
    fail(breaker, 1)
    clock.advance(1.0)
    assert [breaker.allow_request() for _ in range(3)] == [True, True, False]


def test_every_transition_is_reported_in_order(
    breaker: CircuitBreaker, clock: FakeClock, transitions: list[BreakerTransition]
) -> None:
    """closed→open→half_open→closed, each with caller, target and time, in hook and history."""
    fail(breaker, 3)
    clock.advance(6.0)
    assert breaker.allow_request()
    breaker.record_success()
    moves = [(t.from_state, t.to_state) for t in transitions]
    assert moves == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]
    assert list(breaker.history) == transitions
    assert all((t.caller, t.target) == ("orders", "items") for t in transitions)
    # half_open is stamped when the cool-down ended (5 s after opening), not when noticed.
    assert transitions[1].at - transitions[0].at == pytest.approx(5.0)
    assert transitions[0].as_dict()["timestamp"].endswith("+00:00")


def test_history_is_bounded(clock: FakeClock) -> None:
    """The in-memory history keeps only the newest transitions."""
    config = BreakerConfig(failure_threshold=1, reset_timeout=1.0)
    breaker = CircuitBreaker("a", "b", config, clock=clock, wall_clock=clock)
    for _ in range(300):
        fail(breaker, 1)
        clock.advance(1.0)
        assert breaker.allow_request()
        breaker.record_success()
    assert len(breaker.history) == breaker.history.maxlen


def test_concurrent_failures_open_exactly_once(clock: FakeClock) -> None:
    """Many threads failing at once produce a single open transition."""
    seen: list[BreakerTransition] = []
    config = BreakerConfig(failure_threshold=5, reset_timeout=60.0)
    breaker = CircuitBreaker("a", "b", config, clock=clock, on_transition=seen.append)

    def hammer() -> None:
        for _ in range(200):
            if breaker.allow_request():
                breaker.record_failure()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [t.to_state for t in seen] == [OPEN]
