"""A reserve and its release racing on PostgreSQL, where both run at the same time.

When orders gives up on a hung items, it asks items to release the reservation; once items
answers again, the late reserve and the release run concurrently. Whatever the order in
which their statements interleave, the stock must end where it started. The interleavings
are forced: one side stops after its first statement until the other side has finished.

PostgreSQL only: SQLite runs one writer at a time, so these interleavings cannot happen
there (and a paused writer would block the other).
"""

import asyncio
from typing import Any

import pytest

from microservicios.database.sessions import DbSession, open_database
from microservicios.items import reservations
from microservicios.items.database import Base
from microservicios.items.models import Item, Reservation
from tests.helpers import empty_postgres_tables


class PausedAfterFirstStatement:
    """A session that stops after its first statement until `go_on` is set."""

    def __init__(self, session: DbSession) -> None:
        self._session = session
        self.paused = asyncio.Event()
        self.go_on = asyncio.Event()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._session.execute(*args, **kwargs)
        if not self.paused.is_set():
            self.paused.set()
            await self.go_on.wait()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


@pytest.fixture
def items_url(postgres_databases: dict[str, str]) -> str:
    empty_postgres_tables(postgres_databases)
    return postgres_databases["items"]


async def run_interleaved(items_url: str, paused_side: str) -> tuple[int, str, str]:
    """Reserve 3 of 7 and release that reservation, with `paused_side` stopped after its
    first statement while the other runs to the end. Returns (stock, reserve's outcome,
    the reservation's status)."""
    database = open_database(items_url, Base.metadata)
    try:
        async with database.session() as session:
            session.add(Item(name="Lápiz", sku="LAPIZ-1", stock=7))
            await session.commit()

        async def reserve(session: DbSession) -> str:
            try:
                await reservations.reserve(session, reservation_id="r1", sku="LAPIZ-1", qty=3)
            except reservations.ReservationReleasedError:
                return "refused"
            return "reserved"

        async def release(session: DbSession) -> str:
            await reservations.release(session, reservation_id="r1")
            return "released"

        sides = {"reserve": reserve, "release": release}
        other_side = next(name for name in sides if name != paused_side)
        async with database.session() as first, database.session() as second:
            paused = PausedAfterFirstStatement(first)
            stopped = asyncio.create_task(sides[paused_side](paused))
            await asyncio.wait_for(paused.paused.wait(), 5)
            outcomes = {other_side: await asyncio.wait_for(sides[other_side](second), 5)}
            paused.go_on.set()
            outcomes[paused_side] = await asyncio.wait_for(stopped, 5)

        async with database.session() as session:
            item = await session.get(Item, 1)
            reservation = await session.get(Reservation, "r1")
            return item.stock, outcomes["reserve"], reservation.status
    finally:
        await database.dispose()


def test_release_that_looked_before_the_reserve_committed_still_returns_the_stock(items_url):
    """The release finds nothing to release, the reserve commits, then the release looks
    again: it must release the reservation it now sees (it used to answer 'done' and the
    3 units stayed taken for ever)."""
    stock, reserve_outcome, status = asyncio.run(run_interleaved(items_url, "release"))
    assert reserve_outcome == "reserved"
    assert (stock, status) == (7, "released")


def test_reserve_that_arrives_after_the_release_cannot_take_the_stock(items_url):
    """The reserve takes the stock, the release leaves its tombstone, then the reserve tries
    to record itself: it is refused and its stock goes back."""
    stock, reserve_outcome, status = asyncio.run(run_interleaved(items_url, "reserve"))
    assert reserve_outcome == "refused"
    assert (stock, status) == (7, "released")
