"""Database URLs as people write them, turned into the one the services use, or refused.

psql, hosting services and most tools print PostgreSQL URLs as `postgresql://…` or
`postgres://…`, some with a driver (`postgresql+psycopg://…`). The services speak
PostgreSQL through asyncpg only, so every one of those spellings means
`postgresql+asyncpg://…` here. Hosted URLs also carry libpq's options: `sslmode` becomes
asyncpg's `ssl` (same values), and `channel_binding` is dropped (asyncpg has no such
option; its SCRAM login and `ssl` still apply). Anything that is neither SQLite nor
PostgreSQL is refused with one line that says what to write.
"""

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

POSTGRESQL_SCHEMES = ("postgresql", "postgres")
ASYNC_POSTGRESQL = "postgresql+asyncpg"
WHAT_TO_WRITE = "escribí sqlite:///archivo.db o postgresql://usuario:contraseña@host:5432/base"
LIBPQ_OPTIONS = {"sslmode": "ssl"}  # libpq's name: asyncpg's name
DROPPED_OPTIONS = ("channel_binding",)


class UnsupportedDatabaseError(Exception):
    """A database URL the services cannot use; the message, one Spanish line, says why.

    Not a ValueError on purpose: raised from a settings validator, a ValueError would come
    out wrapped in pydantic's ValidationError, several lines long; any other exception
    reaches whoever built the settings (a command, a Cluster) as it is.
    """


def service_database_url(url: str, name: str) -> str:
    """`url` as the services use it: SQLite as is, PostgreSQL on asyncpg; `name` (the
    variable it came from) starts the refusal of anything else."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        message = f"{name} no es una URL de base de datos: {WHAT_TO_WRITE}."
        raise UnsupportedDatabaseError(message) from None
    backend = parsed.drivername.partition("+")[0]
    if backend == "sqlite":
        return url
    if backend in POSTGRESQL_SCHEMES:
        return _on_asyncpg(parsed).render_as_string(hide_password=False)
    raise UnsupportedDatabaseError(
        f"{name} empieza con '{parsed.drivername}://', una base que los servicios no usan "
        f"(usan SQLite o PostgreSQL): {WHAT_TO_WRITE}."
    )


def _on_asyncpg(parsed: URL) -> URL:
    query = {
        LIBPQ_OPTIONS.get(option, option): value
        for option, value in parsed.query.items()
        if option not in DROPPED_OPTIONS
    }
    return parsed.set(drivername=ASYNC_POSTGRESQL, query=query)


def shown_database(url: str) -> str:
    """How a person is told where a database is: a SQLite file's absolute path, or a
    PostgreSQL URL with its password hidden."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return f"PostgreSQL {parsed.render_as_string(hide_password=True)}"
    if parsed.database in (None, "", ":memory:"):
        return "SQLite en memoria"
    return f"SQLite {Path(parsed.database).resolve()}"
