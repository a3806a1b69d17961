"""SQLite engines for the services: WAL mode and a busy timeout on every connection."""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from microservicios.common.context import context_of
from microservicios.common.database_url import UnsupportedDatabaseError

BUSY_TIMEOUT_MS = 10_000
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")  # files SQLite keeps next to a database


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
        pool = {"pool_size": 40, "max_overflow": 0}
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


def _configure_sqlite_connection(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A plain SQLite session per request, for code written synchronously (lab 6).
    (An async generator, so FastAPI opens it on the event loop, not in a thread.)

    The routes that use it are `async def` and call the database directly on the event
    loop: a local SQLite query takes microseconds. The project's services use the async
    interface instead (`common/database.py`), which also speaks PostgreSQL.
    """
    database = context_of(request.app).database
    if database is None or database.sync_sessions is None:
        raise RuntimeError("SessionDep sólo sirve con una base SQLite.")
    with database.sync_sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
