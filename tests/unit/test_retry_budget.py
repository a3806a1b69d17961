"""The retry budget: retries add at most a fraction of recent requests, plus a reserve."""

from microservicios.common.retry_budget import RetryBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def spend_all(budget: RetryBudget) -> int:
    spent = 0
    while budget.try_spend():
        spent += 1
    return spent


def test_a_quiet_client_still_has_its_reserve():
    """With no requests yet, `min_retries` retries are allowed, and no more."""
    budget = RetryBudget(ratio=0.2, min_retries=3, window=10, clock=FakeClock())
    assert spend_all(budget) == 3


def test_retries_grow_with_requests_at_the_ratio():
    """100 requests in the window allow 20% of them on top of the reserve."""
    budget = RetryBudget(ratio=0.2, min_retries=3, window=10, clock=FakeClock())
    for _ in range(100):
        budget.record_request()
    assert spend_all(budget) == 23


def test_the_budget_refills_as_the_window_slides():
    """Requests and retries older than the window no longer count."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, min_retries=2, window=10, clock=clock)
    assert spend_all(budget) == 2
    clock.now += 10.5
    assert spend_all(budget) == 2
