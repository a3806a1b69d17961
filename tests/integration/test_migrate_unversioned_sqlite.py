"""`python -m microservicios.migrate` on a SQLite file the cluster (or `serve`) created: its
tables come from `create_all`, with no revision on record. The current schema is marked at
the newest revision and kept as it is; an older version's file is refused in one line."""

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from microservicios.database.sessions import open_database
from microservicios.migrations import SERVICES_WITH_DATABASE, metadata_of, upgrade, version_table
from microservicios.migrations.schema import head_revision
from tests.helpers import create_user, make_cluster, settle_and_stop, subprocess_env

MIGRATE = [sys.executable, "-m", "microservicios.migrate"]


def migrate(service: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MIGRATE, service], env=subprocess_env(DATA_DIR=str(data_dir)), capture_output=True,
        text=True, timeout=120, cwd=data_dir,
    )  # fmt: skip


def revision_of(file: Path, service: str) -> list[tuple]:
    with sqlite3.connect(file) as connection:
        return connection.execute(f"SELECT version_num FROM {version_table(service)}").fetchall()


def tables_of(file: Path) -> set[str]:
    with sqlite3.connect(file) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def stamped_line(service: str) -> str:
    return (
        f"Base de datos de '{service}': ya tenía el esquema actual (la creó un servicio al "
        f"arrancar, como hace el cluster): la marqué en la revisión {head_revision(service)}, no hizo "
        "falta aplicar nada."
    )


def test_migrate_marks_the_files_of_a_cluster_and_keeps_their_rows(tmp_path):
    """A cluster's data folder: each service's file is marked at the newest revision (exit
    0, one Spanish line), its rows are still there, and a second run says it is up to date."""
    cluster = make_cluster(tmp_path)
    cluster.start()
    try:
        with httpx.Client(timeout=60) as http:
            ana = create_user(http, cluster.url("gateway"), name="Ana")
    finally:
        settle_and_stop(cluster)
    for service in SERVICES_WITH_DATABASE:
        done = migrate(service, tmp_path)
        assert (done.returncode, done.stderr) == (0, ""), done
        assert done.stdout.strip().splitlines() == [stamped_line(service)]
        assert revision_of(tmp_path / f"{service}.db", service) == [(head_revision(service),)]
        again = migrate(service, tmp_path)
        assert again.returncode == 0, again
        assert "ya estaba al día" in again.stdout
    with sqlite3.connect(tmp_path / "users.db") as connection:
        rows = connection.execute("SELECT id, name FROM users").fetchall()
    assert rows == [(ana["id"], "Ana")]


@pytest.mark.parametrize("service", SERVICES_WITH_DATABASE)
def test_migrate_marks_a_file_made_by_create_all(tmp_path, service):
    """A file whose tables a service created as it opened it (`serve`, uvicorn by hand)."""
    database = open_database(f"sqlite:///{(tmp_path / f'{service}.db').as_posix()}",
                             metadata_of(service))  # fmt: skip
    asyncio.run(database.dispose())
    done = migrate(service, tmp_path)
    assert (done.returncode, done.stderr) == (0, ""), done
    assert done.stdout.strip().splitlines() == [stamped_line(service)]
    assert revision_of(tmp_path / f"{service}.db", service) == [(head_revision(service),)]


@pytest.mark.parametrize("service", SERVICES_WITH_DATABASE)
def test_migrate_refuses_a_file_of_an_older_version_without_migrations(tmp_path, service):
    """Tables of the first schema (ids that SQLite may hand out twice) and no revision: an
    older version made it. Exit 1, one Spanish line that says to start a new data folder; the
    file is left as it was."""
    file = tmp_path / f"{service}.db"
    upgrade(service, f"sqlite:///{file.as_posix()}", "0001")
    with sqlite3.connect(file) as connection:
        connection.execute(f"DROP TABLE {version_table(service)}")
    before = tables_of(file)
    done = migrate(service, tmp_path)
    assert done.returncode == 1, done
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: la base de datos de '{service}' ({file}) la creó una "), line
    assert "versión anterior del proyecto, sin migraciones" in line
    assert "carpeta de datos nueva" in line
    assert "already exists" not in line
    assert tables_of(file) == before
