"""Table of the orders service.

An order is written before anything else happens (PENDING), so every reservation made for
it is on record here: if the order fails, `release_pending` says its stock must go back,
and the compensation task keeps trying until the items service confirms it.
"""

from datetime import UTC, datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from microservicios.common.fields import ID_COLUMN
from microservicios.orders.database import Base

PENDING = "PENDING"  # being placed right now
CREATED = "CREATED"  # user checked, stock reserved, order confirmed
FAILED = "FAILED"  # could not be placed; its reservation (if any) is released
CANCELLED = "CANCELLED"  # cancelled by the client; its stock is returned


def utc_now() -> datetime:
    """Now in UTC, without a zone: the column is a plain TIMESTAMP that always holds UTC
    (PostgreSQL refuses to mix zoned and plain values; SQLite keeps no zone at all)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # Only the orders that still owe stock back (what compensation and /health look
        # for): an order placed without trouble adds no entry, and the index stays as small
        # as the work left to do, however many orders the table holds.
        Index(
            "ix_orders_release_pending",
            "release_pending",
            sqlite_where=text("release_pending IS 1"),
            postgresql_where=text("release_pending IS true"),
        ),
        {"sqlite_autoincrement": True},  # no id is ever handed out twice
    )

    id: Mapped[int] = mapped_column(ID_COLUMN, primary_key=True)
    user_id: Mapped[int] = mapped_column(ID_COLUMN)
    item_sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    # The id under which the items service holds this order's stock.
    reservation_id: Mapped[str] = mapped_column(String(64), unique=True)
    # True while stock reserved for this order still has to be given back.
    release_pending: Mapped[bool] = mapped_column(default=False)
    # The client's Idempotency-Key (freed if the order fails, so a retry can try again).
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
