"""Table of the users service."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from microservicios.users.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
