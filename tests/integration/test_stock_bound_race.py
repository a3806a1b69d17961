"""A PUT of stock that races a reservation still leaves room for it, on PostgreSQL, where two
transactions really run at once (SQLite has one writer at a time)."""

import asyncio

import asyncpg

from microservicios.common.fields import MAX_QTY
from microservicios.items import crud
from microservicios.items.database import open_database
from microservicios.items.models import RESERVED, Item, Reservation
from microservicios.items.schemas import MAX_STOCK, ItemUpdate
from microservicios.migrations import upgrade

BLOCKED_DEADLINE_S = 60


async def wait_until_one_waits_for_a_lock(url: str) -> None:
    """Until some session of the database at `url` waits for a row lock (or fail)."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        async with asyncio.timeout(BLOCKED_DEADLINE_S):
            while not await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ):
                await asyncio.sleep(0.05)
    finally:
        await connection.close()


async def put_while_a_reservation_commits(url: str) -> tuple[BaseException | None, int]:
    """An order holds the item's row (its reservation not yet committed) when a PUT asks for
    MAX_STOCK; the order commits while the PUT waits. (What the PUT raised, the stock.)"""
    database = open_database(url)
    try:
        async with database.session() as setup:
            setup.add(Item(name="Lápiz", sku="L-1", stock=MAX_STOCK))
            await setup.commit()
        async with database.session() as order, database.session() as put:
            assert await crud.take_stock(order, sku="L-1", qty=MAX_QTY) == 1
            order.add(Reservation(id="r-1", item_id=1, qty=MAX_QTY, status=RESERVED))
            await order.flush()
            putting = asyncio.create_task(
                crud.update_item(put, item_id=1, data=ItemUpdate(stock=MAX_STOCK))
            )
            await wait_until_one_waits_for_a_lock(url)
            await order.commit()
            raised = (await asyncio.gather(putting, return_exceptions=True))[0]
        async with database.session() as check:
            stock = (await check.get(Item, 1)).stock
        return (raised if isinstance(raised, BaseException) else None), stock
    finally:
        await database.dispose()


def test_a_put_waits_for_a_reservation_in_flight_and_leaves_it_room(postgres_url):
    """The PUT is a 409 (no room for the MAX_QTY reserved) and the stock stays as the order
    left it; writing MAX_STOCK would let the cancel take it past the bound."""
    upgrade("items", postgres_url)
    raised, stock = asyncio.run(put_while_a_reservation_commits(postgres_url))
    assert isinstance(raised, crud.NoRoomForReservedError), raised
    assert (raised.reserved, stock) == (MAX_QTY, MAX_STOCK - MAX_QTY)
