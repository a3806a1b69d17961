"""The lesson notebooks: each runs top to bottom in a fresh kernel, and is committed clean.

Every notebook is executed with nbclient in its own kernel, with `MICROSERVICIOS_PORTS=auto`
(free ports, as in CI) and a temporary working directory, so its `data/` goes there. A cell
that raises fails the test; then the outputs are checked for what the lesson is about.
"""

import json
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = (
    "01_primeros_pasos.ipynb",
    "02_ordenes.ipynb",
    "03_circuit_breaker.ipynb",
    "04_caos_y_reintentos.ipynb",
    "05_metricas.ipynb",
)
CELL_TIMEOUT_S = 60


class Executed:
    """An executed notebook: all its text output in one string, and its outputs."""

    def __init__(self, notebook) -> None:
        self.outputs = [
            output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
        ]
        parts = []
        for output in self.outputs:
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.data.get("text/plain", ""))
                parts.append(output.data.get("text/html", ""))
        self.text = "\n".join(parts)

    def has_image(self) -> bool:
        return any("image/png" in output.get("data", {}) for output in self.outputs)


@pytest.fixture
def run_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Execute a notebook in a fresh kernel (free ports, cwd = tmp_path); raises if a cell does."""
    # The kernel inherits this process's environment when it starts.
    monkeypatch.setenv("MICROSERVICIOS_PORTS", "auto")

    def run(name: str) -> Executed:
        notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        )
        client.execute()
        return Executed(notebook)

    return run


def test_01_primeros_pasos(run_notebook, tmp_path):
    """Lesson 1 runs: the gateway is ok and answers the same as the service it routes to."""
    executed = run_notebook("01_primeros_pasos.ipynb")
    assert re.search(r"^gateway: ok$", executed.text, re.MULTILINE), executed.text
    assert "¿la misma respuesta? True" in executed.text
    assert (tmp_path / "data" / "notebook01").is_dir()


def test_02_ordenes(run_notebook, tmp_path):
    """Lesson 2 runs: internal routes need the token, and 404/409 leave the breaker closed."""
    executed = run_notebook("02_ordenes.ipynb")
    assert "sin token: 401" in executed.text, executed.text
    assert "con token: 200" in executed.text, executed.text
    assert "por el gateway: 404" in executed.text, executed.text
    assert "orders→items: closed (0 fallos seguidos)" in executed.text  # 404/409 are answers
    assert (tmp_path / "data" / "notebook02").is_dir()


def test_03_circuit_breaker_opens_then_closes(run_notebook, tmp_path):
    """Lesson 3 runs: the orders→items breaker opens, closes again, and is drawn."""
    executed = run_notebook("03_circuit_breaker.ipynb")
    states = re.findall(r"estado del breaker orders→items: (\w+)", executed.text)
    assert "open" in states, states
    assert "closed" in states[states.index("open") :], states
    assert executed.has_image(), "breaker_timeline no dibujó nada"
    assert (tmp_path / "data" / "notebook03").is_dir()


def test_04_caos_stock_adds_up(run_notebook, tmp_path):
    """Lesson 4 runs: under chaos the stock adds up (difference 0) and a key replays."""
    executed = run_notebook("04_caos_y_reintentos.ipynb")
    assert re.search(r"^diferencia total: 0$", executed.text, re.MULTILINE), executed.text
    assert "Idempotent-Replayed: true" in executed.text
    assert (tmp_path / "data" / "notebook04").is_dir()


def test_05_metricas(run_notebook, tmp_path):
    """Lesson 5 runs: error rate and p99 are computed both ways and the latency is drawn."""
    executed = run_notebook("05_metricas.ipynb")
    for computed in (
        r"tasa de error \(métricas del gateway\): \d+\.\d %",
        r"tasa de error \(medida en el cliente\): \d+\.\d %",
        r"p99 \(métricas del gateway, .*\): +\d+\.\d ms",
        r"p99 \(medido en el cliente\): +\d+\.\d ms",
    ):
        assert re.search(computed, executed.text), (computed, executed.text)
    assert executed.has_image(), "latency_timeline no dibujó nada"
    assert (tmp_path / "data" / "notebook05").is_dir()


def test_every_lesson_is_there():
    """Every lesson notebook the tests expect is in notebooks/."""
    present = sorted(path.name for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert set(LESSONS) <= set(present), present


@pytest.mark.parametrize("path", sorted(NOTEBOOKS_DIR.glob("*.ipynb")), ids=lambda path: path.name)
def test_committed_without_outputs(path: Path):
    """Notebooks are committed clean: no outputs and no execution counts."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}, celda {number}: tiene salidas"
        assert cell.get("execution_count") is None, f"{path.name}, celda {number}: tiene número"
