"""`python -m microservicios.migrate` on a database its code cannot migrate: one Spanish
line that says what it found and what to do, never Alembic's traceback."""

import asyncio
import sqlite3
import subprocess
import sys

import pytest

from microservicios.migrations import upgrade, version_table
from microservicios.migrations.schema import head_revision
from tests.helpers import subprocess_env

MIGRATE = [sys.executable, "-m", "microservicios.migrate"]
UNKNOWN = "zzzz"  # a revision no version of this project has


def set_postgres_revision(url: str, service: str, revision: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute(
                f"UPDATE {version_table(service)} SET version_num = $1", revision
            )
        finally:
            await connection.close()

    asyncio.run(run())


def assert_one_spanish_line(done: subprocess.CompletedProcess, service: str) -> None:
    assert done.returncode == 1, done
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    [line] = lines
    assert line.startswith(f"Error: la base de datos de '{service}' está en la revisión "), line
    assert f"'{UNKNOWN}'" in line
    assert "que este código no conoce" in line
    assert f"llega hasta la {head_revision(service)}" in line
    assert "versión más nueva del proyecto" in line
    assert "Can't locate" not in line


@pytest.mark.parametrize("service", ["users", "orders"])
def test_an_unknown_revision_on_sqlite_is_one_spanish_line(tmp_path, service):
    """A SQLite file migrated by a newer version (revision 'zzzz'): exit 1, one line."""
    upgrade(service, f"sqlite:///{(tmp_path / f'{service}.db').as_posix()}")
    with sqlite3.connect(tmp_path / f"{service}.db") as connection:
        connection.execute(f"UPDATE {version_table(service)} SET version_num = ?", (UNKNOWN,))
    done = subprocess.run(
        [*MIGRATE, service], env=subprocess_env(DATA_DIR=str(tmp_path)), capture_output=True,
        text=True, cwd=tmp_path,
    )  # fmt: skip
    assert_one_spanish_line(done, service)


def test_an_unknown_revision_on_postgres_is_one_spanish_line(postgres_url):
    """The same on PostgreSQL."""
    upgrade("items", postgres_url)
    set_postgres_revision(postgres_url, "items", UNKNOWN)
    env = subprocess_env(ITEMS_DATABASE_URL=postgres_url)
    done = subprocess.run([*MIGRATE, "items"], env=env, capture_output=True, text=True)
    assert_one_spanish_line(done, "items")
