"""Table of the users service."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from microservicios.common.fields import ID_COLUMN
from microservicios.users.database import Base


class User(Base):
    __tablename__ = "users"
    # SQLite would give a deleted last user's id to the next one (and an order's user_id
    # would name someone else): AUTOINCREMENT never hands out an id twice, as PostgreSQL's
    # sequences do not.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(ID_COLUMN, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
