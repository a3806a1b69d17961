"""`python -m microservicios.migrate` on a PostgreSQL it cannot use, and what it prints when
it works: Spanish lines that say what to do, never the driver's English."""

import subprocess
import sys

from microservicios.migrations import upgrade
from tests.helpers import POSTGRES, port_of, subprocess_env

MIGRATE = [sys.executable, "-m", "microservicios.migrate"]
DRIVER_WORDS = ("does not exist", "DBAPIError", "asyncpg", "Errno", "Connect call failed")


def migrate_users(url: str, cwd) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run(
        [*MIGRATE, "users"], env=subprocess_env(USERS_DATABASE_URL=url), capture_output=True,
        text=True, timeout=120, cwd=cwd,
    )  # fmt: skip


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: no se pudo conectar con la base de 'users': "), line
    assert not [word for word in DRIVER_WORDS if word in line], line
    return line


def test_a_database_that_does_not_exist_says_to_create_it(tmp_path):
    """The server answers but has no such database: say so, and how to create it."""
    url = f"postgresql://postgres@{POSTGRES['host']}:{POSTGRES['port']}/no_existe_xyz"
    line = one_error_line(migrate_users(url, tmp_path))
    assert "la base 'no_existe_xyz' no existe en el PostgreSQL de 127.0.0.1:5432" in line
    assert "createdb" in line
    assert "CREATE DATABASE" in line


def test_a_port_nobody_answers_asks_whether_postgres_is_running(tmp_path, nowhere):
    """Nothing listens at that port: name host:port and ask whether PostgreSQL runs."""
    port = port_of(nowhere)
    line = one_error_line(migrate_users(f"postgresql://postgres@127.0.0.1:{port}/x", tmp_path))
    assert f"nadie contesta en 127.0.0.1:{port}" in line
    assert "¿está corriendo PostgreSQL?" in line


def test_a_user_the_server_does_not_know_is_named(tmp_path):
    """A login PostgreSQL refuses: name the user, say to check the URL's user and password."""
    url = f"postgresql://nadie_xyz@{POSTGRES['host']}:{POSTGRES['port']}/postgres"
    line = one_error_line(migrate_users(url, tmp_path))
    assert "no deja entrar al usuario 'nadie_xyz'" in line
    assert "usuario y la contraseña" in line


def test_the_migrations_applied_are_told_in_spanish(tmp_path, postgres_url):
    """What it applied, one Spanish line with the revision ids (not Alembic's English
    docstrings); from an older revision, only what was missing."""
    done = migrate_users(postgres_url, tmp_path)
    assert (done.returncode, done.stderr) == (0, ""), done
    assert done.stdout.strip().splitlines() == [
        "Base de datos de 'users': apliqué las migraciones 0001 y 0002 (estaba vacía; ahora "
        "está en la revisión 0002)."
    ]


def test_one_missing_migration_is_told_with_where_it_was(tmp_path, postgres_url):
    """From revision 0001: only 0002, and from where to where."""
    upgrade("users", postgres_url, "0001")
    done = migrate_users(postgres_url, tmp_path)
    assert done.returncode == 0, done
    assert done.stdout.strip().splitlines() == [
        "Base de datos de 'users': apliqué la migración 0002 (estaba en la revisión 0001; "
        "ahora está en la 0002)."
    ]


def test_a_sqlite_file_that_is_not_a_database_is_named(tmp_path):
    """USERS_DATABASE_URL names a file that is not SQLite: the file and what to do with it."""
    file = tmp_path / "notas.db"
    file.write_text("no soy una base de datos\n" * 100)
    done = migrate_users(f"sqlite:///{file.as_posix()}", tmp_path)
    assert done.returncode == 1, done
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: no se pudo abrir la base de 'users': {file}: "), line
    assert "no es una base de datos SQLite" in line
    assert "file is not a database" not in line
