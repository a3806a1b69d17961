"""Operations on items and their stock. Domain errors are mapped to HTTP in the routes."""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from microservicios.common.database import DbSession
from microservicios.items.models import Item
from microservicios.items.schemas import ItemCreate, ItemUpdate


class ItemNotFoundError(Exception):
    pass


class SkuTakenError(Exception):
    pass


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


async def update_item(session: DbSession, *, item_id: int, data: ItemUpdate) -> Item:
    item = await get_item(session, item_id=item_id)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(item, field, value)
    await _commit_or_sku_taken(session)
    return item


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
