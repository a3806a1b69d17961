"""The lesson notebooks: each runs top to bottom twice in one kernel, and is committed clean.

Every notebook is executed with nbclient in its own kernel, with `MICROSERVICIOS_PORTS=auto`
(free ports, as in CI) and a temporary working directory, so its `data/` goes there. Its cells
run twice in the same kernel (a student's second "Run All"), then the exercises' first cell
brings the stopped cluster back. A cell that raises fails the test; then the outputs of each
run are checked for what the lesson is about.
"""

import copy
import json
import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO / "notebooks"
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

    def __init__(self, cells) -> None:  # noqa: ANN001
        self.outputs = [
            output for cell in cells if cell.cell_type == "code" for output in cell.outputs
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


# After the second run's shutdown, the exercises' first cell must bring everything back.
AFTER_SHUTDOWN = 'print("después de apagar:", http.get("/health").json()["status"])'
AFTER_SHUTDOWN_OUTPUT = "después de apagar: ok"


class Runs:
    """The two runs of a notebook in one kernel, and what the exercises' cell did after them."""

    def __init__(self, notebook, cells_per_run: int) -> None:
        cells = notebook.cells
        first, second = cells[:cells_per_run], cells[cells_per_run : 2 * cells_per_run]
        self.runs = [Executed(first), Executed(second)]
        self.after_shutdown = Executed(cells[2 * cells_per_run :])

    def __iter__(self):  # noqa: ANN204
        return iter(self.runs)


def twice_then_revived(notebook):  # noqa: ANN001, ANN201
    """The notebook's cells twice (fresh ids), then its exercises' first cell and a request."""
    cells = notebook.cells
    again = copy.deepcopy(cells)
    for cell in again:
        cell.id = f"{cell.id}-again"
    revive = next(cell for cell in cells if cell.get("id") == "revivir")
    probe = nbformat.v4.new_code_cell(AFTER_SHUTDOWN, id="probe")
    stop = copy.deepcopy(cells[-1])
    for number, cell in enumerate((revive, probe, stop)):
        cell = copy.deepcopy(cell)
        cell.id = f"after-{number}"
        again.append(cell)
    notebook.cells = cells + again
    return notebook


@pytest.fixture
def run_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Execute a notebook twice in one fresh kernel (free ports, cwd = tmp_path)."""
    # The kernel inherits this process's environment when it starts: free ports, and this
    # checkout's package first (the venv may point at another one).
    monkeypatch.setenv("MICROSERVICIOS_PORTS", "auto")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )

    def run(name: str) -> Runs:
        notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        cells_per_run = len(notebook.cells)
        notebook = twice_then_revived(notebook)
        client = nbclient.NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        )
        client.execute()
        runs = Runs(notebook, cells_per_run)
        assert AFTER_SHUTDOWN_OUTPUT in runs.after_shutdown.text, runs.after_shutdown.text
        return runs

    return run


USER_LINE = re.compile(r"^\{'id': \d+, 'name': '\w+', 'email': .*\}$", re.MULTILINE)


def test_01_primeros_pasos(run_notebook, tmp_path):
    """Lesson 1 runs, twice alike: the gateway is ok and answers the same as users."""
    runs = run_notebook("01_primeros_pasos.ipynb")
    for executed in runs:
        assert re.search(r"^gateway: ok$", executed.text, re.MULTILINE), executed.text
        assert "¿la misma respuesta? True" in executed.text
    first, second = (USER_LINE.findall(executed.text) for executed in runs)
    assert len(first) == 2 and first == second, (first, second)  # the same users, from empty
    assert (tmp_path / "data" / "notebook01").is_dir()


def test_02_ordenes(run_notebook, tmp_path):
    """Lesson 2 runs, twice alike: internal routes need the token; 404/409 leave it closed."""
    runs = run_notebook("02_ordenes.ipynb")
    for executed in runs:
        assert "sin token: 401" in executed.text, executed.text
        assert "con token: 200" in executed.text, executed.text
        assert "por el gateway: 404" in executed.text, executed.text
        assert "orders→items: closed (0 fallos seguidos)" in executed.text  # 404/409: answers
    first, second = (USER_LINE.findall(executed.text) for executed in runs)
    assert len(first) == 1 and first == second, (first, second)
    assert (tmp_path / "data" / "notebook02").is_dir()


def test_03_circuit_breaker_opens_then_closes(run_notebook, tmp_path):
    """Lesson 3 runs, twice alike: the breaker opens, closes again, is drawn; load(3) works."""
    lab_file = REPO / "labs" / "lab03_circuit_breaker" / "breaker.py"
    for executed in run_notebook("03_circuit_breaker.ipynb"):
        states = re.findall(r"estado del breaker orders→items: (\w+)", executed.text)
        assert "open" in states, states
        assert "closed" in states[states.index("open") :], states
        assert executed.has_image(), "breaker_timeline no dibujó nada"
        assert f"tu breaker: {lab_file}" in executed.text, executed.text
    assert (tmp_path / "data" / "notebook03").is_dir()


def test_04_caos_stock_adds_up(run_notebook, tmp_path):
    """Lesson 4 runs, twice alike: under chaos the stock adds up and a key replays."""
    for executed in run_notebook("04_caos_y_reintentos.ipynb"):
        assert re.search(r"^diferencia total: 0$", executed.text, re.MULTILINE), executed.text
        assert "Idempotent-Replayed: true" in executed.text
    assert (tmp_path / "data" / "notebook04").is_dir()


def test_05_metricas(run_notebook, tmp_path):
    """Lesson 5 runs, twice alike: error rate and p99 both ways, and the latency drawn."""
    for executed in run_notebook("05_metricas.ipynb"):
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
