"""The call counter of tests/calls_per_order.py still runs the database steps of an order
(a tool nobody runs in CI would break unnoticed when crud changes)."""

import asyncio

from tests.calls_per_order import measure_units


def test_the_call_counter_runs_every_services_database_steps():
    """Each service's steps run and are counted: some calls and some time per order."""
    measured = asyncio.run(measure_units(orders=3, rounds=1))
    assert {"users", "items", "orders"} <= set(measured)
    for calls, micros in measured.values():
        assert calls > 0
        assert micros > 0
