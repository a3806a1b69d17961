"""Operations on items and their stock. Domain errors are mapped to HTTP in the routes."""

import hashlib
import json

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from microservicios.common.database import DbSession
from microservicios.common.headers import if_match_allows
from microservicios.items.models import Item
from microservicios.items.schemas import ItemCreate, ItemUpdate


class ItemNotFoundError(Exception):
    pass


class SkuTakenError(Exception):
    pass


class StaleItemError(Exception):
    """The item is no longer the one the client read: If-Match does not name its ETag."""


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
    statement = update(Item).where(*conditions).values(**changes).returning(Item)
    try:
        updated = await session.scalar(statement)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise SkuTakenError from exc
    if updated is None:  # changed since it was read, or deleted
        raise StaleItemError(item_id) if if_match is not None else ItemNotFoundError(item_id)
    return updated


async def delete_item(session: DbSession, *, item_id: int) -> None:
    await session.delete(await get_item(session, item_id=item_id))
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
    sell more than exists: no read-then-write gap for two requests to slip through.
    """
    taken = await session.execute(
        update(Item).where(Item.sku == sku, Item.stock >= qty).values(stock=Item.stock - qty)
    )
    if taken.rowcount != 1:
        return None
    return await session.scalar(select(Item.id).where(Item.sku == sku))


async def return_stock(session: DbSession, *, item_id: int, qty: int) -> None:
    await session.execute(update(Item).where(Item.id == item_id).values(stock=Item.stock + qty))
