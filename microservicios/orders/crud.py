"""Operations on the orders table (local data only; remote calls live in `remote`)."""

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microservicios.orders.models import Order
from microservicios.orders.schemas import OrderCreate


class OrderNotFoundError(Exception):
    pass


def list_orders(session: Session, *, limit: int, offset: int) -> list[Order]:
    return list(session.scalars(select(Order).order_by(Order.id).limit(limit).offset(offset)))


def get_order(session: Session, *, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFoundError(order_id)
    return order


def store_order(factory: sessionmaker[Session], *, data: OrderCreate, reservation_id: str) -> Order:
    """Insert the order in its own short transaction."""
    with factory() as session:
        order = Order(
            user_id=data.user_id,
            item_sku=data.item_sku,
            qty=data.qty,
            reservation_id=reservation_id,
        )
        session.add(order)
        session.commit()
        return order
