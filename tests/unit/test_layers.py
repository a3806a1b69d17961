"""The map of the code: imports run one way, down the layers of pyproject.toml's
[tool.importlinter], and no modules import each other in a circle (README, «Estructura»)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the package in `tree`, with that tree's contracts."""
    if not LINT_IMPORTS.exists():
        pytest.fail("Falta lint-imports: instalá el extra de pruebas (pip install -e '.[test]').")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PATH": "", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_the_code(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "microservicios", tmp_path / "microservicios")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(tree: Path, module: str, statement: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{statement}  # added by the test\n")


def test_the_code_keeps_every_contract() -> None:
    """The layers and the no-circles contract hold for the code as it is."""
    checked = lint_imports(ROOT)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "0 broken" in checked.stdout


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        # a part of common reading an app's context, as auth.py did before the split
        (
            "microservicios.common.auth",
            "from microservicios.common.context import context_of",
            "common: the app builder",
        ),
        # the panel taking something from the cluster that runs it, as it did before serve/
        (
            "microservicios.panel.activity",
            "import microservicios.cluster.cli",
            "Packages:",
        ),
        # one service importing another: they talk over HTTP only
        ("microservicios.orders.saga", "import microservicios.items.crud", "Packages:"),
        # the lowest layer reaching up
        ("microservicios.telemetry.logs", "import microservicios.database.sqlite", "Packages:"),
    ],
)
def test_an_import_up_the_layers_is_refused(
    copy_of_the_code: Path, module: str, statement: str, broken: str
) -> None:
    """One import that runs up the layers breaks the check, naming the contract."""
    add_import(copy_of_the_code, module, statement)
    checked = lint_imports(copy_of_the_code)
    assert checked.returncode != 0
    assert f"{broken}" in checked.stdout.split("Broken contracts")[-1]
    assert module in checked.stdout


def test_a_circle_between_two_modules_of_one_layer_is_refused(copy_of_the_code: Path) -> None:
    """Two parts of common that may import each other (same layer) still may not do it both
    ways: the circle is reported."""
    add_import(
        copy_of_the_code, "microservicios.common.headers", "import microservicios.common.retry"
    )
    add_import(
        copy_of_the_code, "microservicios.common.retry", "import microservicios.common.headers"
    )
    checked = lint_imports(copy_of_the_code)
    assert checked.returncode != 0
    assert "No cycles are allowed in microservicios.common" in checked.stdout


def test_the_names_labs_import_still_work() -> None:
    """Students' lab files import these paths; each is the same object as its new home."""
    from microservicios.common import breaker, db, pagination, retry, service_app, settings
    from microservicios.common.web import deps
    from microservicios.database import sqlite

    assert db.SessionDep is deps.SessionDep
    assert db.create_sqlite_engine is sqlite.create_sqlite_engine
    assert pagination.PageDep is deps.PageDep
    assert callable(service_app.build_app)
    assert settings.Settings().service_secret
    assert breaker.BreakerConfig and breaker.BreakerTransition and breaker.CircuitBreaker
    assert retry.Outcome and retry.RetryPolicy
