"""Table of the orders service."""

from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from microservicios.orders.db import Base

CREATED = "CREATED"
CANCELLED = "CANCELLED"


def _now() -> datetime:
    return datetime.now(UTC)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    item_sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=CREATED)
    # The id under which the items service holds this order's stock.
    reservation_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
