"""64-bit ids, never reused; 64-bit stock; reservations found by item

PostgreSQL: items.id (and its sequence), reservations.item_id and items.stock become BIGINT
(INTEGER stopped at 2**31 - 1: below the API's ids, and a release of stock left near it
failed for ever). SQLite, whose INTEGER ids are 64-bit already: the items table is rebuilt
with AUTOINCREMENT, so a deleted item's id is never given to another. Both: an index on
reservations.item_id, which deleting an item and bounding its stock look up.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 22:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=True, stock_type=sa.BigInteger())
    else:
        _set_types(sa.BigInteger(), "bigint")
    op.create_index(op.f("ix_reservations_item_id"), "reservations", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reservations_item_id"), table_name="reservations")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=False, stock_type=sa.Integer())
        return
    _set_types(sa.Integer(), "integer")


def _rebuild(*, autoincrement: bool, stock_type: sa.types.TypeEngine) -> None:
    kwargs = {"sqlite_autoincrement": autoincrement}
    with op.batch_alter_table("items", recreate="always", table_kwargs=kwargs) as batch:
        batch.alter_column("stock", type_=stock_type, existing_nullable=False)


def _set_types(column_type: sa.types.TypeEngine, sequence_type: str) -> None:
    op.alter_column("items", "id", type_=column_type, existing_nullable=False)
    op.alter_column("items", "stock", type_=column_type, existing_nullable=False)
    op.alter_column("reservations", "item_id", type_=column_type, existing_nullable=True)
    sequence = op.get_bind().scalar(sa.text("SELECT pg_get_serial_sequence('items', 'id')"))
    op.execute(f"ALTER SEQUENCE {sequence} AS {sequence_type}")
