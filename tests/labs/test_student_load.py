"""`microservicios.labs.load(N)`: a student's lab file, importable from any folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from microservicios.labs import load

REPO = Path(__file__).resolve().parents[2]
SNIPPET = (
    "from microservicios.labs import load\n"
    "breaker = load(3)\n"
    "print(breaker.__file__)\n"
    "print(breaker.CircuitBreaker.__name__)\n"
)


def run_snippet(cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "MICROSERVICIOS_LABS_DIR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", SNIPPET],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("where", ["notebooks", "elsewhere"])
def test_load_finds_the_student_file_from_any_folder(where: str, tmp_path: Path) -> None:
    """From notebooks/ (where Jupyter opens) or any other folder, load(3) is labs/lab03/breaker.py."""
    cwd = REPO / "notebooks" if where == "notebooks" else tmp_path
    result = run_snippet(cwd)
    assert result.returncode == 0, result.stderr
    path, name = result.stdout.split()
    assert Path(path) == REPO / "labs" / "lab03_circuit_breaker" / "breaker.py"
    assert name == "CircuitBreaker"


def test_load_reads_the_file_again_each_time(tmp_path: Path, monkeypatch) -> None:
    """An edit to the student's file shows up on the next load(), without restarting."""
    lab_dir = tmp_path / "labs" / "lab02_reintentos"
    lab_dir.mkdir(parents=True)
    monkeypatch.setenv("MICROSERVICIOS_LABS_DIR", str(tmp_path / "labs"))
    (lab_dir / "reintentos.py").write_text("VERSION = 1\n")
    assert load(2).VERSION == 1
    (lab_dir / "reintentos.py").write_text("VERSION = 2\n")
    assert load(2).VERSION == 2


def test_load_explains_in_spanish_what_is_missing(tmp_path: Path, monkeypatch) -> None:
    """An unknown lab number or a missing file is one Spanish sentence saying what to do."""
    monkeypatch.setenv("MICROSERVICIOS_LABS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="No hay laboratorio 9: los laboratorios son 1, 2"):
        load(9)
    with pytest.raises(FileNotFoundError, match="microservicios.labs reset 4"):
        load(4)
