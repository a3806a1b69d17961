"""Tables of the items service."""

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from microservicios.items.db import Base


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    stock: Mapped[int]


class Reservation(Base):
    """Each reservation id is applied at most once; releasing it is recorded, not deleted."""

    __tablename__ = "reservations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[int | None]  # None for a release that arrived before its reservation
    qty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # "reserved" or "released"
