"""Tables of the items service."""

from sqlalchemy import BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from microservicios.common.fields import ID_COLUMN
from microservicios.items.database import Base

RESERVED = "reserved"
RELEASED = "released"


class Item(Base):
    __tablename__ = "items"
    # A reservation names its item by id: an id handed out twice (SQLite gives a deleted
    # last row's id to the next one, unless AUTOINCREMENT) would send a release's units to
    # another item.
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(ID_COLUMN, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # The API keeps stock and what may come back within MAX_STOCK (crud.update_item); 64 bits
    # are for stock left past 2**31 - 1 by the first schema, whose releases must still land.
    stock: Mapped[int] = mapped_column(BigInteger)


class Reservation(Base):
    """Each reservation id is applied at most once; releasing it is recorded, not deleted."""

    __tablename__ = "reservations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # None for a release that arrived before its reservation, and once its item is deleted
    # (crud.delete_item): then no item is owed its units.
    item_id: Mapped[int | None] = mapped_column(ID_COLUMN, index=True)
    qty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # RESERVED or RELEASED
