"""64-bit ids, never reused

PostgreSQL: users.id and its sequence become BIGINT (INTEGER stopped at 2**31 - 1, below
the API's 2**53 - 1). SQLite, whose INTEGER ids are 64-bit already: the table is rebuilt
with AUTOINCREMENT, so a deleted user's id is never given to another.

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
        _rebuild(autoincrement=True)
        return
    _set_id_type(sa.BigInteger(), "bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=False)
        return
    _set_id_type(sa.Integer(), "integer")


def _rebuild(*, autoincrement: bool) -> None:
    kwargs = {"sqlite_autoincrement": autoincrement}
    with op.batch_alter_table("users", recreate="always", table_kwargs=kwargs):
        pass


def _set_id_type(column_type: sa.types.TypeEngine, sequence_type: str) -> None:
    op.alter_column("users", "id", type_=column_type, existing_nullable=False)
    sequence = op.get_bind().scalar(sa.text("SELECT pg_get_serial_sequence('users', 'id')"))
    op.execute(f"ALTER SEQUENCE {sequence} AS {sequence_type}")
