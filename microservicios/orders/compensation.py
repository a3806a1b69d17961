"""The compensation task: returns the stock of FAILED and CANCELLED orders, until it sticks.

Runs in the background of each orders app, from the moment it starts: each round first
recovers the orders a dead process left PENDING (`OrderSaga.recover_stale`), then asks the
items service to release each pending reservation. It wakes when an order needs it, or
every `INTERVAL` seconds. Releasing is idempotent, so trying again is always safe.
"""

import asyncio
import contextlib

from microservicios.database.sessions import DatabaseUnavailableError
from microservicios.orders.saga import OrderSaga

INTERVAL = 0.5


async def keep_releasing(saga: OrderSaga, interval: float = INTERVAL) -> None:
    """Forever: recover stale orders and try every pending release once, then wait for a
    wake-up (or `interval`).

    A failed round does not wake the task again: it waits for the next interval, so a dead
    items service (or its own database) costs one refused call per interval, not a busy
    loop; and the task outlives a database that is down, to release once it is back.
    """
    while True:
        saga.compensation_needed.clear()
        with contextlib.suppress(DatabaseUnavailableError):  # /health/ready says so
            await saga.recover_stale()
            await saga.release_pending()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await saga.compensation_needed.wait()
