"""Stock reservations requested by other services, each applied at most once.

A caller names every reservation with its own id, so a retried request cannot take stock
twice, and a release is recorded (never deleted), so a late duplicate cannot take it again.
"""

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from microservicios.database.sessions import DbSession
from microservicios.items import crud
from microservicios.items.models import RELEASED, RESERVED, Reservation


class OutOfStockError(Exception):
    pass


class ReservationMismatchError(Exception):
    """The id was already used for a different SKU or quantity."""


class ReservationReleasedError(Exception):
    """The id was already released (or released before it arrived): it cannot take stock."""


async def reserve(session: DbSession, *, reservation_id: str, sku: str, qty: int) -> Reservation:
    """Take the stock and record the reservation in one transaction, or explain why not.

    The common case goes first (a new id): a repeated id is noticed by the primary key,
    which rolls the whole transaction back, stock included.
    """
    item_id = await crud.take_stock(session, sku=sku, qty=qty)
    if item_id is None:
        await session.rollback()
        existing = await session.get(Reservation, reservation_id)
        if existing is not None:  # a retry of a reservation that already took its stock
            return await _check_repeat(session, existing, sku=sku, qty=qty)
        if await crud.find_item_id(session, sku=sku) is None:
            raise crud.ItemNotFoundError(sku)
        raise OutOfStockError(sku)
    row = {"id": reservation_id, "item_id": item_id, "qty": qty, "status": RESERVED}
    try:
        # A plain INSERT of the row into the table: nothing changes the reservation after
        # this, so the session need not track an object for it (its unit of work would cost
        # about 200 Python calls more per reservation, tests/calls_per_order.py).
        await session.execute(insert(Reservation.__table__), row)
        await session.commit()
    except IntegrityError:
        # This id was applied before (a retry, or a racing duplicate): undo ours, answer
        # with the first one.
        await session.rollback()
        return await _check_repeat(
            session, await session.get(Reservation, reservation_id), sku=sku, qty=qty
        )
    return Reservation(**row)


async def release(session: DbSession, *, reservation_id: str) -> Reservation:
    """Give the stock back once; releasing again changes nothing, and an unknown id leaves
    a tombstone so that the reservation, if it arrives late, cannot take the stock.

    On PostgreSQL a reserve of the same id may commit while this runs (the reserve call
    timed out in orders, and its release overtook it): each statement sees what was
    committed before it started. So every look ends in a decision, or in another look:
    an id goes only from unknown to reserved to released, so a second pass sees a state
    that cannot move again but to "released", and the loop ends.
    """
    while True:
        released = await session.execute(
            update(Reservation)
            .where(Reservation.id == reservation_id, Reservation.status == RESERVED)
            .values(status=RELEASED)
            .returning(Reservation)  # the row as released: no second statement to read it
        )
        reservation = released.scalar()
        if reservation is not None:
            # Back to the item it was taken from, and to no other: its id is never handed
            # out again, and deleting it set item_id to None (then the units go nowhere).
            await crud.return_stock(session, item_id=reservation.item_id, qty=reservation.qty)
            await session.commit()
            return reservation
        existing = await session.get(Reservation, reservation_id)
        if existing is None:
            # Released before it arrived (the reserve call timed out): leave a tombstone.
            tombstone = Reservation(id=reservation_id, item_id=None, qty=0, status=RELEASED)
            session.add(tombstone)
            try:
                await session.commit()
                return tombstone
            except IntegrityError:
                pass  # the reservation itself landed a moment ago: release it
        elif existing.status == RELEASED:
            return existing
        # Reserved after our UPDATE looked: look again, in a new transaction.
        await session.rollback()


async def _check_repeat(
    session: DbSession, existing: Reservation, *, sku: str, qty: int
) -> Reservation:
    if existing.status == RELEASED:
        raise ReservationReleasedError(existing.id)
    if existing.item_id is None:  # it took its stock from an item deleted since
        raise crud.ItemNotFoundError(sku)
    if existing.qty != qty or await crud.find_item_id(session, sku=sku) != existing.item_id:
        raise ReservationMismatchError(existing.id)
    return existing
