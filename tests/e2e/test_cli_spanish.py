"""Every command-line tool speaks Spanish in its help and its errors, without tracebacks."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import subprocess_env

ENGLISH = (
    "usage:",
    "positional arguments",
    "options:",
    "the following arguments",
    "error: argument ",
)


def run_module(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m module args` from `cwd`, with nothing to read on stdin (as `< /dev/null`)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd=cwd,
        env=subprocess_env(),
    )


@pytest.mark.parametrize(
    "command",
    [
        ("microservicios.labs", "--help"),
        ("microservicios.labs", "reset", "--help"),
        ("microservicios.labs", "check", "--help"),
        ("microservicios.bench", "--help"),
        ("microservicios.cluster", "--help"),
    ],
)
def test_help_is_in_spanish(tmp_path, command):
    """--help says "uso:" with the real program name and Spanish section titles."""
    module, *args = command
    finished = run_module(module, *args, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    text = finished.stdout
    assert text.startswith(f"uso: python -m {module}"), text
    assert "uso: uso:" not in text and "__main__.py" not in text
    assert "opciones:" in text
    for english in ENGLISH:
        assert english not in text, text


@pytest.mark.parametrize(
    ("command", "spanish"),
    [
        (("microservicios.labs", "check"), "faltan argumentos obligatorios: N"),
        (("microservicios.labs", "check", "x"), "argumento N: 'x' no es un número entero"),
        (("microservicios.labs", "chek", "1"), "opción inválida: 'chek'"),
        (("microservicios.bench", "--seconds", "x"), "'x' no es un número"),
        (("microservicios.cluster", "--bogus"), "argumentos desconocidos: --bogus"),
    ],
)
def test_usage_errors_are_in_spanish(tmp_path, command, spanish):
    """A wrong command line exits 2 with Spanish usage and error lines, no traceback."""
    module, *args = command
    finished = run_module(module, *args, cwd=tmp_path)
    assert finished.returncode == 2
    assert spanish in finished.stderr, finished.stderr
    assert finished.stderr.startswith("uso: "), finished.stderr
    assert "Traceback" not in finished.stderr
    for english in ENGLISH:
        assert english not in finished.stderr, finished.stderr


def test_reset_without_a_terminal_says_to_use_yes(tmp_path):
    """reset N with nothing to read on stdin (< /dev/null) leaves the file and points to --yes."""
    labs_dir = tmp_path / "labs"
    (labs_dir / "lab03_circuit_breaker").mkdir(parents=True)
    student_file = labs_dir / "lab03_circuit_breaker" / "breaker.py"
    student_file.write_text("# mi trabajo\n")
    finished = run_module(
        "microservicios.labs", "--labs-dir", str(labs_dir), "reset", "3", cwd=tmp_path
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 1
    assert "reset 3 --yes" in output and "no se tocó nada" in output, output
    assert "Traceback" not in output and "EOFError" not in output
    assert student_file.read_text() == "# mi trabajo\n"
