"""Versioned schema migrations (Alembic), one history per service.

A deployment runs them as its own step, before the service starts:
`python -m microservicios.migrate orders`. The in-process cluster of a class keeps creating
its SQLite tables at start (`create_all`), which is instant; a test checks that both give
the same schema.
"""

from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

HISTORIES = Path(__file__).parent
SERVICES_WITH_DATABASE = ("users", "items", "orders")


def metadata_of(service: str) -> MetaData:
    """The tables the service's models declare (importing the models registers them)."""
    import_module(f"microservicios.{service}.models")
    return import_module(f"microservicios.{service}.db").Base.metadata


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HISTORIES / service))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring `service`'s database at `url` to `revision` (the newest by default)."""
    command.upgrade(alembic_config(service, url), revision)
