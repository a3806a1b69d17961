"""The labs CLI around the checks: what `--file` records, and output into a closed pipe."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_LABS = Path(__file__).resolve().parents[2] / "labs"


@pytest.fixture
def labs_dir(tmp_path: Path) -> Path:
    """A copy of labs/, so a test can change the student's files and progress."""
    copy = tmp_path / "labs"
    shutil.copytree(REPO_LABS, copy, ignore=shutil.ignore_patterns(".progreso.json"))
    return copy


def labs(labs_dir: Path, *args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "microservicios.labs", "--labs-dir", str(labs_dir), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def state_of(labs_dir: Path, number: int) -> str:
    """The lab's state as `list` prints it: 'hecho' or 'pendiente'."""
    line = next(line for line in labs(labs_dir).stdout.splitlines() if f" {number}. [" in line)
    return line.split("[")[1].split("]")[0].strip()


def test_check_file_leaves_the_students_progress_alone(labs_dir: Path) -> None:
    """`check N --file OTHER` records nothing: a passing OTHER does not finish a pending lab,
    and a failing OTHER keeps a finished lab done."""
    solution = labs_dir / "solutions/lab02_reintentos/reintentos.py"
    passing = labs(labs_dir, "check", "2", "--file", str(solution))
    assert passing.returncode == 0, passing.stdout
    assert state_of(labs_dir, 2) == "pendiente"

    shutil.copyfile(solution, labs_dir / "lab02_reintentos/reintentos.py")
    assert labs(labs_dir, "check", "2").returncode == 0
    assert state_of(labs_dir, 2) == "hecho"

    other = labs_dir.parent / "otro.py"
    shutil.copyfile(REPO_LABS / "lab02_reintentos/reintentos.py", other)  # the starter
    failing = labs(labs_dir, "check", "2", "--file", str(other))
    assert failing.returncode == 1 and "✘" in failing.stdout, failing.stdout
    assert "no cambia tu progreso" in failing.stdout
    assert state_of(labs_dir, 2) == "hecho"


def test_check_help_says_file_records_no_progress(labs_dir: Path) -> None:
    """`check --help` tells the student that --file does not change the progress."""
    help_text = labs(labs_dir, "check", "--help").stdout
    assert "--file" in help_text and "progreso" in help_text.split("--file")[-1]


def test_lab1_first_hint_warns_the_session_is_synchronous(labs_dir: Path) -> None:
    """Hint 1 sends the student to users/routes.py (all await) and says: here, no await."""
    hint = labs(labs_dir, "hint", "1").stdout
    assert "users/routes.py" in hint and "sin await" in hint


# (--help needs no test: argparse already ignores a failed write.)
@pytest.mark.parametrize("command", [["list"], ["hint", "1"], ["check", "2"]], ids=" ".join)
def test_output_into_a_closed_pipe_is_no_traceback(labs_dir: Path, command: list[str]) -> None:
    """`python -m microservicios.labs … | head -1`: when the reader has gone, exit quietly."""
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first write: every write finds no one
    try:
        result = labs(labs_dir, *command, stdout=writer)
    finally:
        os.close(writer)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, (
        result.stderr
    )
    assert result.stderr == ""
