"""The labs checker: list, check (failing and passing), hint, reset, verify."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microservicios.labs import __main__ as labs_cli
from microservicios.labs.catalog import LABS, STARTERS_DIR

REPO_LABS = Path(__file__).resolve().parents[2] / "labs"


@pytest.fixture
def labs_dir(tmp_path: Path) -> Path:
    """A copy of labs/ (starters and solutions), so the tests can edit and reset files."""
    copy = tmp_path / "labs"
    shutil.copytree(REPO_LABS, copy, ignore=shutil.ignore_patterns(".progreso.json"))
    return copy


def run(labs_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "microservicios.labs", "--labs-dir", str(labs_dir), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_student_copies_match_the_pristine_starters() -> None:
    """labs/labNN/<file> is exactly the starter that `reset` restores."""
    for lab in LABS:
        assert (REPO_LABS / lab.slug / lab.filename).read_text() == lab.starter_file().read_text()
        assert (REPO_LABS / lab.slug / "README.md").exists()
    assert STARTERS_DIR.is_dir()


def test_list_shows_every_lab_pending_at_first(labs_dir: Path) -> None:
    """A fresh labs folder lists the six labs as pending and says where to start."""
    result = run(labs_dir, "list")
    assert result.returncode == 0
    for lab in LABS:
        assert f"{lab.number}. [pendiente] {lab.title}" in result.stdout
    assert "check 1" in result.stdout


def test_check_failing_lab_explains_the_first_problem(labs_dir: Path) -> None:
    """Checking an untouched starter fails with exit 1, a ✘ line and a Spanish explanation."""
    result = run(labs_dir, "check", "2")
    assert result.returncode == 1
    assert "✘" in result.stdout and "full jitter" in result.stdout
    assert "hint 2" in result.stdout
    assert "[pendiente]" in run(labs_dir, "list").stdout.split("2.")[1].splitlines()[0]


def test_check_passing_lab_is_marked_done(labs_dir: Path) -> None:
    """Once the student's file is right, check exits 0 and list shows the lab as done."""
    shutil.copyfile(
        labs_dir / "solutions/lab02_reintentos/reintentos.py",
        labs_dir / "lab02_reintentos/reintentos.py",
    )
    result = run(labs_dir, "check", "2")
    assert result.returncode == 0, result.stdout
    assert "¡Listo!" in result.stdout and "✘" not in result.stdout
    assert "2. [hecho    ]" in run(labs_dir, "list").stdout


def test_check_reports_a_file_that_does_not_import(labs_dir: Path) -> None:
    """A syntax error is reported in Spanish instead of a bare traceback."""
    (labs_dir / "lab02_reintentos/reintentos.py").write_text("def roto(:\n")
    result = run(labs_dir, "check", "2")
    assert result.returncode == 1
    assert "no se puede importar" in result.stdout


def test_hint_gives_the_next_hint_each_time(labs_dir: Path) -> None:
    """Each `hint N` shows the next hint; asked again after the last, it says there are no
    more, shows the last one again and where the reference solution is."""
    lab = LABS[2]
    shown = [run(labs_dir, "hint", "3").stdout for _ in range(len(lab.hints) + 1)]
    for index, text in enumerate(shown[:-1]):
        assert f"Pista {index + 1} de {len(lab.hints)}" in text
        assert lab.hints[index][:40] in text
        assert "Ya viste todas" not in text
    last = len(lab.hints)
    assert f"Ya viste todas las pistas del laboratorio 3 ({last} de {last})" in shown[-1]
    assert lab.hints[-1][:40] in shown[-1]
    assert str(Path("solutions", lab.slug, lab.filename)) in shown[-1]


def test_reset_asks_and_restores_the_starter(labs_dir: Path) -> None:
    """reset N asks first; 'n' keeps the file, 's' restores the pristine starter."""
    target = labs_dir / "lab05_saga/saga.py"
    target.write_text("# mis cambios\n")
    kept = run(labs_dir, "reset", "5", stdin="n\n")
    assert kept.returncode == 1 and target.read_text() == "# mis cambios\n"
    restored = run(labs_dir, "reset", "5", stdin="s\n")
    assert restored.returncode == 0
    assert target.read_text() == LABS[4].starter_file().read_text()


def test_unknown_lab_number_is_explained(labs_dir: Path) -> None:
    """Asking for lab 9 says which labs exist."""
    result = run(labs_dir, "check", "9")
    assert result.returncode == 2 and "del 1 al 6" in result.stdout


def test_watch_checks_once_and_again_after_a_save(labs_dir: Path, capsys) -> None:
    """watch runs the check at start and again when the file changes."""
    import threading
    import time

    target = labs_dir / "lab02_reintentos/reintentos.py"

    def save_later() -> None:
        time.sleep(1.0)
        shutil.copyfile(labs_dir / "solutions/lab02_reintentos/reintentos.py", target)

    threading.Thread(target=save_later).start()
    labs_cli.command_watch(labs_dir, LABS[1], max_checks=2)
    output = capsys.readouterr().out
    assert output.count("Laboratorio 2 —") == 2
    assert "✘" in output.split("esperando cambios")[0]
    assert "¡Listo!" in output.split("esperando cambios")[1]


def test_verify_starters_fail_and_solutions_pass() -> None:
    """The authors' check: every starter fails its checks, every solution passes them."""
    result = run(REPO_LABS, "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify: todo en orden." in result.stdout
    assert result.stdout.count("inicial falla") == len(LABS)


def test_verify_fails_when_a_solution_is_broken(labs_dir: Path) -> None:
    """verify is not a rubber stamp: a broken solution makes it exit 1."""
    (labs_dir / "solutions/lab02_reintentos/reintentos.py").write_text(
        (labs_dir / "lab02_reintentos/reintentos.py").read_text()
    )
    result = run(labs_dir, "verify")
    assert result.returncode == 1
    assert "lab 2: la solución falla" in result.stdout
