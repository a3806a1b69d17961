"""SQLite engines for the services: WAL mode and a busy timeout on every connection."""

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from microservicios.database.urls import UnsupportedDatabaseError

BUSY_TIMEOUT_MS = 10_000
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")  # files SQLite keeps next to a database

# The operating system's and SQLite's texts are in English: say them here.
REFUSALS = {
    errno.EACCES: "no hay permiso para crear o escribir archivos en esa carpeta",
    errno.EPERM: "no hay permiso para crear o escribir archivos en esa carpeta",
    errno.EROFS: "el disco es de sólo lectura",
    errno.ENOSPC: "el disco está lleno",
}
START_ANEW = "Movelo o borralo: el servicio crea uno nuevo, vacío"
SQLITE_REFUSALS = {
    "file is not a database": f"no es una base de datos SQLite (está dañado, o es otro "
    f"archivo). {START_ANEW}",
    "database disk image is malformed": f"no es una base de datos SQLite (está dañado). "
    f"{START_ANEW}",
    "unable to open database file": "SQLite no lo puede abrir ni crear (¿la carpeta no deja?)",
    "attempt to write a readonly database": "es de sólo lectura",
    "database or disk is full": "el disco está lleno",
    "disk i/o error": "el disco dio un error al leerlo",
    "database is locked": "otro programa lo tiene bloqueado",
}
Opened = TypeVar("Opened")


class DatabaseFileError(Exception):
    """A service cannot open its SQLite file; the message says which and why, in one
    Spanish line, for whoever started it."""


def create_sqlite_engine(url: str) -> Engine:
    """Engine whose connections use WAL (readers never block the writer) and wait when busy.

    The folder of a file database is created if missing, and the files are private (see
    `make_private_database_file`). An in-memory database
    ("sqlite://", for unit tests) lives in one connection that every session shares.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise UnsupportedDatabaseError(
            f"Se esperaba una URL de SQLite (sqlite:///archivo.db), no "
            f"'{parsed.get_backend_name()}'."
        )
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    if parsed.database in (None, "", ":memory:"):
        pool: dict = {"poolclass": StaticPool}
    else:
        make_private_database_file(Path(parsed.database))
        # Last in, first out: each connection has its own page cache, which SQLite empties
        # when another connection wrote since it last read. The connection used last is the
        # one that wrote last, so its cache is still good (measured: 2 read syscalls per
        # reservation instead of 12 when four connections take turns, at 100,000 rows).
        pool = {"pool_size": 40, "max_overflow": 0, "pool_use_lifo": True}
    engine = create_engine(url, connect_args=connect_args, **pool)
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def make_private_database_file(path: Path) -> None:
    """Create `path`'s folder (0700) and the database file (0600) before SQLite does, since
    users.db holds e-mail addresses; files left by an earlier run are tightened too."""
    # SQLite would create the file 0644, and gives -wal and -shm the database file's mode.
    # A folder that already exists is left alone: it may be one the user chose, like ".".
    path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    if os.name != "posix":
        return  # no permission bits on Windows: files inherit the folder's access rules
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        if file.exists():
            file.chmod(PRIVATE_FILE)


def opening_sqlite(service: str, url: str, opener: Callable[[str], Opened]) -> Opened:
    """`opener(url)`, with the errors of a SQLite file that cannot be opened (or created)
    raised again as a `DatabaseFileError` that names the file and the cause."""
    try:
        return opener(url)
    except (OSError, DBAPIError) as exc:
        database = make_url(url).database
        if make_url(url).get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
            raise
        path = Path(database).absolute()
        raise DatabaseFileError(
            f"El servicio '{service}' no puede abrir su base de datos, {path}: "
            f"{why_not(path, exc)}."
        ) from exc


def why_not(path: Path, exc: OSError | DBAPIError) -> str:
    """Why the SQLite file at `path` cannot be opened, in Spanish; what to do, if it helps."""
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).strip().lower()
        known = next((said for english, said in SQLITE_REFUSALS.items() if english in text), None)
        return known or f"SQLite dice «{text}»"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):  # a folder on the way is a file
        blocking = next((part for part in reversed(path.parents) if part.is_file()), None)
        if blocking is not None:
            return f"{blocking} es un archivo, no una carpeta"
    if exc.errno == errno.EISDIR or path.is_dir():
        return "es una carpeta, no un archivo. Sacala de ahí o elegí otro archivo"
    return REFUSALS.get(exc.errno or 0, f"el sistema lo rechazó (error {exc.errno})")


def _configure_sqlite_connection(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
