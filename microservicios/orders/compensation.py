"""The compensation task: returns the stock of FAILED and CANCELLED orders, until it sticks.

Runs in the background of each orders app. It wakes when an order needs it (or every
`INTERVAL` seconds) and asks the items service to release each pending reservation.
Releasing is idempotent, so trying again after an unclear answer is always safe.
"""

import asyncio
import contextlib

from fastapi import FastAPI

from microservicios.orders import crud
from microservicios.orders.service import release_now

INTERVAL = 0.5


async def run_compensation(app: FastAPI) -> None:
    """Forever: wait for a wake-up (or INTERVAL), then try every pending release once.

    A failed round does not wake the task again: it waits for the next interval, so a dead
    items service costs one refused call per INTERVAL, not a busy loop.
    """
    wakeup: asyncio.Event = app.state.compensation_wakeup
    while True:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(INTERVAL):
                await wakeup.wait()
        wakeup.clear()
        await release_pending_orders(app)


async def release_pending_orders(app: FastAPI) -> None:
    with app.state.sessionmaker() as session:
        pending = crud.orders_to_release(session)
    for order in pending:
        if not await release_now(app, order):
            return  # items is not answering: try again on the next round


def compensation_health(app: FastAPI) -> dict[str, int]:
    """How many orders still wait for their stock to go back (0 when the system is quiet)."""
    with app.state.sessionmaker() as session:
        return {"pending_releases": crud.count_pending_releases(session)}
