"""Operations on items and their stock. Domain errors are mapped to HTTP in the routes."""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microservicios.items.models import Item
from microservicios.items.schemas import ItemCreate, ItemUpdate


class ItemNotFoundError(Exception):
    pass


class SkuTakenError(Exception):
    pass


def list_items(session: Session, *, limit: int, offset: int) -> list[Item]:
    return list(session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)))


def get_item(session: Session, *, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


def find_item_id(session: Session, *, sku: str) -> int | None:
    return session.scalar(select(Item.id).where(Item.sku == sku))


def create_item(session: Session, *, data: ItemCreate) -> Item:
    item = Item(name=data.name, sku=data.sku, stock=data.stock)
    session.add(item)
    _commit_or_sku_taken(session)
    return item


def update_item(session: Session, *, item_id: int, data: ItemUpdate) -> Item:
    item = get_item(session, item_id=item_id)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(item, field, value)
    _commit_or_sku_taken(session)
    return item


def delete_item(session: Session, *, item_id: int) -> None:
    session.delete(get_item(session, item_id=item_id))
    session.commit()


def _commit_or_sku_taken(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise SkuTakenError from exc


def take_stock(session: Session, *, sku: str, qty: int) -> int | None:
    """Subtract `qty` if that much is left, in one conditional UPDATE; the item's id or None.

    The database checks and subtracts in the same statement, so concurrent orders can never
    sell more than exists: no read-then-write gap for two requests to slip through.
    """
    taken = session.execute(
        update(Item).where(Item.sku == sku, Item.stock >= qty).values(stock=Item.stock - qty)
    )
    if taken.rowcount != 1:
        return None
    return session.scalar(select(Item.id).where(Item.sku == sku))


def return_stock(session: Session, *, item_id: int, qty: int) -> None:
    session.execute(update(Item).where(Item.id == item_id).values(stock=Item.stock + qty))
