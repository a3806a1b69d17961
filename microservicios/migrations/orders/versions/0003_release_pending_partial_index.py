"""release_pending's index holds only the orders that still owe stock back

ix_orders_release_pending becomes a partial index (WHERE release_pending IS true): the
compensation task and /health count and list those orders, never the others; an order placed
without trouble no longer adds an entry, and the index does not grow with the table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX = "ix_orders_release_pending"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="orders")
    op.create_index(
        INDEX,
        "orders",
        ["release_pending"],
        unique=False,
        sqlite_where=sa.text("release_pending IS 1"),
        postgresql_where=sa.text("release_pending IS true"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="orders")
    op.create_index(INDEX, "orders", ["release_pending"], unique=False)
