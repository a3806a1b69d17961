"""The items service's own database."""

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from microservicios.common.db import create_sqlite_engine


class Base(DeclarativeBase):
    """Declarative base of this service only: its tables live in its own file."""


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = create_sqlite_engine(url)
    Base.metadata.create_all(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
