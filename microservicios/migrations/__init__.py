"""Versioned schema migrations (Alembic), one history per service.

A deployment runs them as its own step, before the service starts:
`python -m microservicios.migrate orders`. A service started any other way (the cluster of a
class, uvicorn by hand) applies what its PostgreSQL database lacks as it starts, and creates
its SQLite tables (`create_all`, instant; a test checks that both give the same schema):
see `schema.py`. `migrate` on such a file records the newest revision (`unversioned.py`).

Alembic is imported only when a command runs: every service imports this package as it
starts, and one on SQLite never needs Alembic (nor Mako, which Alembic brings along).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script

HISTORIES = Path(__file__).parent
SERVICES_WITH_DATABASE = ("users", "items", "orders")
# Alembic runs a command through module-level proxies (`alembic.context`, `alembic.op`):
# two commands at once in one process (a cluster's services start on threads) would mix up
# each other's. One at a time.
_ONE_COMMAND_AT_A_TIME = threading.Lock()


def version_table(service: str) -> str:
    """Where Alembic records `service`'s revision: one table per service, so three services
    pointed at one database (a hosted PostgreSQL gives one) keep three histories."""
    return f"alembic_version_{service}"


def metadata_of(service: str) -> MetaData:
    """The tables the service's models declare (importing the models registers them)."""
    import_module(f"microservicios.{service}.models")
    return import_module(f"microservicios.{service}.database").Base.metadata


def alembic_config(service: str, url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HISTORIES / service))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


@dataclass(frozen=True)
class Upgrade:
    """What `migrate()` did to a database: the migrations it applied, oldest first; and
    whether it only recorded the newest revision, on tables that already had the code's
    schema but no revision (see unversioned.py)."""

    applied: list[Script]
    marked: bool


def migrate(service: str, url: str, revision: str = "head") -> Upgrade:
    """Bring `service`'s database at `url` to `revision` (the newest by default)."""
    from alembic import command

    config = alembic_config(service, url)
    applied: list[Script] = []
    config.attributes["applied"] = applied  # environment.py appends each step to it
    config.attributes["mark_unversioned"] = revision == "head"
    with _ONE_COMMAND_AT_A_TIME:
        command.upgrade(config, revision)
    return Upgrade(applied, marked=bool(config.attributes.get("marked")))


def upgrade(service: str, url: str, revision: str = "head") -> list[Script]:
    """`migrate()`'s migrations applied, oldest first (none: it was already there)."""
    return migrate(service, url, revision).applied


def downgrade(service: str, url: str, revision: str) -> None:
    """Take `service`'s database back to `revision` ("base": no tables at all)."""
    from alembic import command

    with _ONE_COMMAND_AT_A_TIME:
        command.downgrade(alembic_config(service, url), revision)
