"""The compensation task: returns the stock of FAILED and CANCELLED orders, until it sticks.

Runs in the background of each orders app. It wakes when an order needs it (or every
`INTERVAL` seconds) and asks the items service to release each pending reservation.
Releasing is idempotent, so trying again after an unclear answer is always safe.
"""

import asyncio
import contextlib

from microservicios.orders.saga import OrderSaga

INTERVAL = 0.5


async def keep_releasing(saga: OrderSaga, interval: float = INTERVAL) -> None:
    """Forever: wait for a wake-up (or `interval`), then try every pending release once.

    A failed round does not wake the task again: it waits for the next interval, so a dead
    items service costs one refused call per interval, not a busy loop.
    """
    while True:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await saga.compensation_needed.wait()
        saga.compensation_needed.clear()
        await saga.release_pending()
