"""The users service's own database."""

from sqlalchemy.orm import DeclarativeBase

from microservicios.common.database import Database
from microservicios.common.database import open_database as open_service_database


class Base(DeclarativeBase):
    """Declarative base of this service only: its tables live in its own database."""


def open_database(url: str) -> Database:
    return open_service_database(url, Base.metadata)
