"""A SQLite database a service cannot open — a corrupt file, a folder where the file goes, a
folder that takes no new files — stops the start with one Spanish line naming the file and
the cause, never English tracebacks: in the cluster (threads and --processes), in `serve`,
and in the message of `Cluster(...)`'s exception."""

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from microservicios.serve.errors import ClusterError
from tests.helpers import free_port, make_cluster, subprocess_env

DEADLINE_S = 120  # a generous bound for a start that must fail: this machine is shared


def corrupt_file(tmp: Path) -> Path:
    database = tmp / "bases" / "users.db"
    database.parent.mkdir()
    database.write_bytes(bytes(range(256)) * 16)  # not SQLite's header: garbage
    return database


def folder_instead_of_file(tmp: Path) -> Path:
    database = tmp / "bases" / "users.db"
    database.mkdir(parents=True)
    return database


def folder_through_a_file(tmp: Path) -> Path:
    (tmp / "bases").write_text("un archivo, no una carpeta\n")
    return tmp / "bases" / "users.db"


def folder_that_takes_no_files(tmp: Path) -> Path:
    """A folder no one may create files in. Root ignores permission bits, so as root the
    folder is made immutable instead (chattr +i), which stops root too."""
    folder = tmp / "bases"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
    elif (
        shutil.which("chattr") is None
        or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0
    ):
        reason = "corre como root y no se puede hacer inmutable una carpeta (chattr +i)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return folder / "users.db"


# (how to break it, what the line must say about it)
CASES = {
    "corrupt": (corrupt_file, "no es una base de datos SQLite"),
    "folder": (folder_instead_of_file, "es una carpeta, no un archivo"),
    "through_a_file": (folder_through_a_file, "es un archivo, no una carpeta"),
    "no_new_files": (folder_that_takes_no_files, "no hay permiso"),
}


@pytest.fixture(params=CASES)
def broken(request, tmp_path) -> Iterator[tuple[Path, str]]:  # noqa: ANN001
    """(the users database's path, broken as the case says; the cause the line must name)."""
    make, cause = CASES[request.param]
    database = make(tmp_path)
    try:
        yield database, cause
    finally:
        with contextlib.suppress(OSError, FileNotFoundError):
            subprocess.run(["chattr", "-i", str(database.parent)], capture_output=True)
        with contextlib.suppress(OSError):
            database.parent.chmod(0o700)


def sqlite_url(database: Path) -> str:
    return f"sqlite:///{database.as_posix()}"


def assert_one_explained_line(output: str, database: Path, cause: str) -> None:
    assert "Traceback" not in output, output
    assert "Application startup failed" not in output, output
    lines = [line for line in output.splitlines() if str(database) in line]
    assert lines, output
    assert any(cause in line for line in lines), output
    assert any("no puede abrir su base de datos" in line for line in lines), output


def run(command: list[str], cwd: Path, database: Path) -> subprocess.CompletedProcess:
    env = subprocess_env(USERS_DATABASE_URL=sqlite_url(database), PYTHONUNBUFFERED="1")
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=DEADLINE_S
    )


CLI = [sys.executable, "-m", "microservicios.cluster", "--ports", "auto", "--no-panel"]
COMMANDS: dict[str, Callable[[], list[str]]] = {
    "threads": lambda: CLI,
    "processes": lambda: [*CLI, "--processes"],
    "serve": lambda: [
        *[sys.executable, "-m", "microservicios.serve", "users"],
        "--port",
        str(free_port()),
    ],
}


@pytest.mark.parametrize("mode", COMMANDS)
def test_the_command_stops_with_one_spanish_line(broken, tmp_path, mode):
    """The cluster (both modes) and serve: exit non-zero, the file and the cause in Spanish
    in what they print, no traceback."""
    database, cause = broken
    done = run(COMMANDS[mode](), tmp_path, database)
    assert done.returncode != 0, done
    assert_one_explained_line(done.stdout + done.stderr, database, cause)


def test_the_cluster_exception_says_why(broken, tmp_path, capfd, caplog):
    """`Cluster(...).start()`: a ClusterError whose message names the file and the cause,
    and nothing printed or logged besides (uvicorn logged a traceback)."""
    database, cause = broken
    cluster = make_cluster(tmp_path / "datos", users_database_url=sqlite_url(database))
    with pytest.raises(ClusterError) as refused:
        cluster.start()
    message = str(refused.value)
    assert str(database) in message
    assert cause in message
    printed = capfd.readouterr()
    assert "Traceback" not in printed.out + printed.err
    assert "Application startup failed" not in printed.out + printed.err
    assert [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")] == []
