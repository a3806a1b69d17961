"""The items service's own database."""

from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase

from microservicios.database.sessions import Database
from microservicios.database.sessions import open_database as open_service_database


class Base(DeclarativeBase):
    """Declarative base of this service only: its tables live in its own database."""

    __table__: ClassVar[Table]  # each model's table, for plain (Core) statements


def open_database(url: str) -> Database:
    return open_service_database(url, Base.metadata)
