"""Operations on items and their stock. Domain errors are mapped to HTTP in the routes."""

import hashlib
import json
from types import MappingProxyType

from sqlalchemy import ScalarSelect, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from microservicios.common.headers import if_match_allows
from microservicios.database.sessions import DbSession
from microservicios.items.models import RESERVED, Item, Reservation
from microservicios.items.schemas import MAX_STOCK, ItemCreate, ItemUpdate

# The UPDATEs whose rows the code does not read back as objects: SQLAlchemy need not look
# for them in the session.
NO_SESSION_SYNC = MappingProxyType({"synchronize_session": False})

# Every order runs this statement: it is built once, and each call sends only its values
# (bindparam). Building a statement object costs more Python than running it (about 130
# calls against 180, tests/calls_per_order.py), and it would be the same every time.
TAKE_STOCK = (
    update(Item)
    .where(Item.sku == bindparam("wanted_sku"), Item.stock >= bindparam("wanted_qty"))
    .values(stock=Item.stock - bindparam("wanted_qty"))
    .returning(Item.id)
)


class ItemNotFoundError(Exception):
    pass


class SkuTakenError(Exception):
    pass


class StaleItemError(Exception):
    """The item is no longer the one the client read: If-Match does not name its ETag."""


class NoRoomForReservedError(Exception):
    """The stock asked for, plus what orders hold reserved, would pass MAX_STOCK."""

    def __init__(self, reserved: int) -> None:
        super().__init__(reserved)
        self.reserved = reserved


def item_etag(item: Item) -> str:
    """A strong ETag made of everything GET shows of the item, so that any change (a PUT, a
    reservation, a release) changes it, and no column is needed to keep a version.

    The same content gives the same tag again (stock 10, 7, then 10 after a release): a
    client whose read is the current state once more loses nothing by writing on it.
    """
    content = json.dumps([item.id, item.name, item.sku, item.stock], ensure_ascii=False)
    return f'"{hashlib.sha256(content.encode()).hexdigest()[:32]}"'


async def list_items(session: DbSession, *, limit: int, offset: int) -> list[Item]:
    return list(await session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)))


async def get_item(session: DbSession, *, item_id: int) -> Item:
    item = await session.get(Item, item_id)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


async def find_item_id(session: DbSession, *, sku: str) -> int | None:
    return await session.scalar(select(Item.id).where(Item.sku == sku))


async def create_item(session: DbSession, *, data: ItemCreate) -> Item:
    item = Item(name=data.name, sku=data.sku, stock=data.stock)
    session.add(item)
    await _commit_or_sku_taken(session)
    return item


async def update_item(
    session: DbSession, *, item_id: int, data: ItemUpdate, if_match: str | None = None
) -> Item:
    """Change the fields sent; with `if_match`, only if the item is still the one read.

    Checking the ETag and then writing would leave a gap for a reservation to commit in
    between, and the PUT would then write back the stock it read: units from nothing. So
    the UPDATE repeats in its WHERE the values the ETag was computed from, and the database
    checks and writes in one statement (as `take_stock` does): if the item moved, nothing
    is written and the client is told (StaleItemError).

    A new stock must leave room for every reserved unit that may still come back (a cancel
    gives it back whenever it comes): stock + reserved <= MAX_STOCK, in the same WHERE. So
    no release can ever take the stock past MAX_STOCK, and none can fail on the column's
    size. Taking and returning stock move units between the two and keep their sum.
    """
    item = await get_item(session, item_id=item_id)
    conditions = [Item.id == item_id]
    if if_match is not None:
        if not if_match_allows(if_match, item_etag(item)):
            raise StaleItemError(item_id)
        conditions += [Item.name == item.name, Item.sku == item.sku, Item.stock == item.stock]
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return item
    if "stock" in changes:
        # On PostgreSQL the UPDATE's sum is taken before it waits for a reservation that
        # holds the row, and would miss it: lock the row first, so the reservations the sum
        # sees are all there will be until we commit (reserving and releasing wait for the
        # lock). SQLite has one writer at a time: its UPDATE alone is enough.
        await session.execute(select(Item.id).where(Item.id == item_id).with_for_update())
        conditions.append(_reserved_units(item_id) <= MAX_STOCK - changes["stock"])
    statement = update(Item).where(*conditions).values(**changes).returning(Item)
    try:
        updated = await session.scalar(statement)
        if updated is None:  # changed since it was read, deleted, or no room left
            await _explain_no_update(session, item_id=item_id, if_match=if_match)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise SkuTakenError from exc
    return updated


async def _explain_no_update(session: DbSession, *, item_id: int, if_match: str | None) -> None:
    """Raise why the conditional UPDATE wrote nothing. Still in its transaction, this looks
    at what the UPDATE saw (the row lock, or SQLite's write lock, keeps it so)."""
    current = await session.scalar(
        select(Item).where(Item.id == item_id).execution_options(populate_existing=True)
    )
    stale = (
        current is not None
        and if_match is not None
        and not if_match_allows(if_match, item_etag(current))
    )
    reserved = await session.scalar(select(_reserved_units(item_id)))
    await session.rollback()
    if current is None:
        raise ItemNotFoundError(item_id)
    if stale:
        raise StaleItemError(item_id)
    raise NoRoomForReservedError(reserved)


def _reserved_units(item_id: int) -> ScalarSelect[int]:
    """The units of the item's reservations not released yet: what cancels may give back."""
    return (
        select(func.coalesce(func.sum(Reservation.qty), 0))
        .where(Reservation.item_id == item_id, Reservation.status == RESERVED)
        .scalar_subquery()
    )


async def delete_item(session: DbSession, *, item_id: int) -> None:
    """Delete the item and let go of its reservations (item_id None): a cancel then gives
    their units to no item. Their item_id can never name another item (ids are never handed
    out again), but SQLite files made by the first schema do reuse ids: this covers them.

    The reservations go first, then the item, the order a release takes its locks in
    (reservation, then item): the other way round, the two could wait for each other.
    """
    await session.execute(
        update(Reservation)
        .where(Reservation.item_id == item_id, Reservation.status == RESERVED)
        .values(item_id=None)
    )
    deleted = await session.execute(delete(Item).where(Item.id == item_id))
    if deleted.rowcount != 1:
        await session.rollback()
        raise ItemNotFoundError(item_id)
    await session.commit()


async def _commit_or_sku_taken(session: DbSession) -> None:
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise SkuTakenError from exc


async def take_stock(session: DbSession, *, sku: str, qty: int) -> int | None:
    """Subtract `qty` if that much is left, in one conditional UPDATE; the item's id or None.

    The database checks and subtracts in the same statement, so concurrent orders can never
    sell more than exists: no read-then-write gap for two requests to slip through. The
    same statement hands back the item's id (RETURNING: SQLite 3.35+, PostgreSQL).
    """
    taken = await session.execute(
        TAKE_STOCK, {"wanted_sku": sku, "wanted_qty": qty}, execution_options=NO_SESSION_SYNC
    )
    return taken.scalar()


async def return_stock(session: DbSession, *, item_id: int | None, qty: int) -> None:
    """Give `qty` back to item `item_id`; None (its item was deleted): to nobody.

    No condition here: a release must never be refused. update_item keeps stock plus every
    reserved unit within MAX_STOCK, so the sum always fits.
    """
    if item_id is not None:
        await session.execute(update(Item).where(Item.id == item_id).values(stock=Item.stock + qty))
