"""What to tell whoever meets a database that cannot serve, in Spanish: a client or a
probe (`database_detail`), or someone who ran a command (`why_database_unusable`), with what
to do about the usual causes."""

import errno
import socket
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from microservicios.database.sessions import DatabaseUnavailableError, unavailable_database
from microservicios.database.sqlite import why_not

DATABASE_UNAVAILABLE = "La base de datos no está disponible en este momento; reintentá."
DATABASE_RETRY_AFTER = "1"


def migrate_command(service: str) -> str:
    return f"python -m microservicios.migrate {service}"


def database_detail(service: str, url: str, problem: DatabaseUnavailableError) -> str:
    """What a client (and /health) is told about `service`'s database at `url`, in Spanish."""
    if not problem.wrong_schema:
        return DATABASE_UNAVAILABLE
    if make_url(url).get_backend_name() == "sqlite":
        # Its tables are created when the file is new, never changed: the file is older.
        return (
            "La base de datos no tiene el esquema esperado: su archivo es de otra versión del "
            "proyecto; movelo (o borralo) y el servicio crea uno nuevo al arrancar."
        )
    return f"La base de datos no tiene el esquema esperado: corré {migrate_command(service)}."


def why_database_unusable(exc: BaseException, url: str) -> str | None:
    """Why the database at `url` cannot be used, in Spanish, for whoever ran a command
    (`migrate`): `unavailable_database`'s verdict, with what to do for the usual causes.
    None if `exc` is not about the database being unusable, or is about tables that are not
    the expected ones (the database's own words say which better than a guess)."""
    problem = unavailable_database(exc)
    if problem is None or problem.wrong_schema:
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "").absolute()
        cause = exc if isinstance(exc, OSError | DBAPIError) else None
        return f"{path}: {why_not(path, cause)}" if cause else f"{path}: {problem.reason}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    state = _sqlstate(exc)
    if state == "3D000":
        name = parsed.database
        return (
            f"la base '{name}' no existe en el PostgreSQL de {where}: creala (createdb {name}, "
            f"o CREATE DATABASE {name}; en psql) o corregí su nombre en la URL"
        )
    if state.startswith("28"):
        return (
            f"el PostgreSQL de {where} no deja entrar al usuario '{parsed.username}': revisá "
            "el usuario y la contraseña de la URL"
        )
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return f"nadie contesta en {where}: ¿está corriendo PostgreSQL? ¿Es ése su puerto?"
    if isinstance(exc, socket.gaierror):
        return f"no se encuentra la máquina '{parsed.host}': revisá el host de la URL"
    if isinstance(exc, TimeoutError):
        return f"{where} no contestó a tiempo: ¿es la dirección de un PostgreSQL?"
    if state.startswith("57"):
        return f"el PostgreSQL de {where} está arrancando o apagándose: probá en unos segundos"
    if state.startswith("53"):
        return f"el PostgreSQL de {where} no acepta más conexiones ahora (sin recursos)"
    if state == "25006":
        return f"el PostgreSQL de {where} es de sólo lectura (¿una réplica?)"
    return f"el PostgreSQL de {where} no está disponible ({problem.reason})"


def _sqlstate(exc: BaseException) -> str:
    """PostgreSQL's error code (SQLSTATE) that `exc` carries, or ""."""
    if not isinstance(exc, DBAPIError):
        return ""
    original = exc.orig or exc
    cause = original.__cause__ or original  # asyncpg's own exception, as in sessions.py
    return getattr(original, "sqlstate", None) or getattr(cause, "sqlstate", None) or ""
