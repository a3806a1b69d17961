"""The lesson notebooks: each runs top to bottom twice in one kernel, and is committed clean.

Every notebook is executed with nbclient in its own kernel, with `MICROSERVICIOS_PORTS=auto`
(free ports, as in CI) and a temporary working directory, so its `data/` goes there. Its cells
run twice in the same kernel (a student's second "Run All"), then the exercises' first cell
brings the stopped cluster back. A cell that raises fails the test; then the outputs of each
run are checked for what the lesson is about, and against the numbers its text gives.
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
        for cell in cells:
            if cell.cell_type != "code":
                continue
            stream = None  # one stream's text stays whole: the kernel may flush a line in pieces
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == stream:
                    parts[-1] += output.text
                    continue
                stream = output.get("name") if output.output_type == "stream" else None
                if stream is not None:
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


def lesson_markdown(name: str) -> str:
    """All the markdown a student reads in a lesson, lines joined (sentences wrap)."""
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    text = "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text)


def printed_number(pattern: str, text: str) -> int:
    """The number a cell printed on the line `pattern` (one group) describes."""
    found = re.findall(pattern, text, re.MULTILINE)
    assert len(found) == 1, (pattern, found, text)
    return int(found[0])


def said_number(pattern: str, markdown: str) -> int:
    """The number a lesson's text gives in the phrase `pattern` (one group)."""
    found = re.search(pattern, markdown)
    assert found, f"el texto no dice {pattern!r}"
    return int(found[1])


# The gateway retries no call that got an answer, with or without an Idempotency-Key
# (README «Reintentos en una sola capa»): a lesson must not say it retried, or tie its not
# retrying to the key. A hypothetical («si el gateway reintentara») is no claim.
GATEWAY_RETRIES = re.compile(r"\bgateway\b[^.;:()]*?\breintent(a|á|ó|ar|aba|e|en|an)\b")
NEGATION = re.compile(r"\b(no|nunca|ni|sólo|solo)\b")
TWO_LAYERS = re.compile(r"reintentos en (dos|varios) (niveles|capas)")


def gateway_retry_claims(markdown: str) -> list[str]:
    """Clauses of a lesson that say the gateway retries, or retries for want of a key."""
    wrong = []
    for clause in re.split(r"[.;:()]", markdown):
        if TWO_LAYERS.search(clause):
            wrong.append(clause.strip())
        elif GATEWAY_RETRIES.search(clause):
            if not NEGATION.search(clause) or re.search(r"sin `?(Idempotency-Key|clave)", clause):
                wrong.append(clause.strip())
    return wrong


@pytest.mark.parametrize("name", LESSONS)
def test_no_lesson_says_the_gateway_retries_an_answered_call(name):
    """No lesson says the gateway retried, or that it skips a POST because it has no key."""
    assert gateway_retry_claims(lesson_markdown(name)) == []


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
        assert_stale_put_refused(executed.text)
    first, second = (USER_LINE.findall(executed.text) for executed in runs)
    assert len(first) == 1 and first == second, (first, second)
    assert (tmp_path / "data" / "notebook02").is_dir()


def assert_stale_put_refused(text: str) -> None:
    """Lesson 2's «Dos que editan el mismo ítem»: a PUT with the ETag read before an order
    is 412 and leaves the order's stock; with a fresh ETag it is 200 and answers another;
    without If-Match one unit appears from nothing, as the text says («Subió en 1»)."""
    after_order = printed_number(r"^orden: 201 → stock: (\d+)$", text)
    assert "PUT con el ETag viejo: 412 El ítem cambió desde que lo leíste" in text, text
    assert printed_number(r"^stock: (\d+)$", text.split("PUT con el ETag viejo")[1]) == after_order
    assert printed_number(r"^PUT con el ETag nuevo: 200 → stock: (\d+)$", text) == after_order + 5
    assert "¿otro ETag? True" in text, text
    before = printed_number(r"^stock \+ reservado: antes (\d+)", text)
    after = printed_number(r"^stock \+ reservado: antes \d+ → después (\d+)$", text)
    assert after == before + 1, text


FAILURE_LINE = re.compile(r"^  (pedido \d+|compensación): (\d+) intentos?$", re.MULTILINE)


def test_03_circuit_breaker_opens_then_closes(run_notebook, tmp_path):
    """Lesson 3 runs, twice alike: the 5 failures that open the breaker are those the text
    counts (order 1's 3 attempts, then the compensation and order 2); it closes again, is
    drawn; load(3) works."""
    lab_file = REPO / "labs" / "lab03_circuit_breaker" / "breaker.py"
    markdown = lesson_markdown("03_circuit_breaker.ipynb")
    # What the text says about the failures that open the breaker, checked against the log.
    said_attempts = said_number(r"[Ss]ólo el \*\*pedido 1\*\* hizo los (\d) intentos", markdown)
    said_threshold = said_number(r"[Cc]on el (\d)º fallo seguido", markdown)
    for executed in run_notebook("03_circuit_breaker.ipynb"):
        failures = {caller: int(n) for caller, n in FAILURE_LINE.findall(executed.text)}
        assert list(failures)[:1] == ["pedido 1"], executed.text
        assert failures.pop("pedido 1") == said_attempts == 3, executed.text
        # The rest up to the threshold: the compensation and the next order, fewer each.
        assert set(failures) <= {"compensación", "pedido 2"}, executed.text
        assert all(n < said_attempts for n in failures.values()), executed.text
        total = printed_number(r"^  total: [\d +]+ = (\d+)$", executed.text)
        assert total == said_attempts + sum(failures.values()) == said_threshold == 5
        states = re.findall(r"estado del breaker orders→items: (\w+)", executed.text)
        assert "open" in states, states
        assert "closed" in states[states.index("open") :], states
        assert executed.has_image(), "breaker_timeline no dibujó nada"
        assert f"tu breaker: {lab_file}" in executed.text, executed.text
    assert (tmp_path / "data" / "notebook03").is_dir()


def test_04_caos_stock_adds_up(run_notebook, tmp_path):
    """Lesson 4 runs, twice alike: under chaos the stock adds up and a key replays; as the
    text says, the gateway retried nothing and most 503s are the retry budget refusing."""
    markdown = lesson_markdown("04_caos_y_reintentos.ipynb")
    assert "el gateway no reintentó ninguna" in markdown
    assert "`retry.budget_exhausted`" in markdown
    for executed in run_notebook("04_caos_y_reintentos.ipynb"):
        assert re.search(r"^diferencia total: 0$", executed.text, re.MULTILINE), executed.text
        assert "Idempotent-Replayed: true" in executed.text
        assert printed_number(r"^reintentos del gateway: (\d+)$", executed.text) == 0
        # The burst's 503s: as many as the client counted, and (the text says) most of them
        # are the retry budget refusing a retry.
        answers = re.search(r"^Counter\(\{(.*)\}\)$", executed.text, re.MULTILINE)[1]
        client_503 = dict(re.findall(r"(\w+): (\d+)", answers)).get("503", "0")
        seen_503 = printed_number(r"^503 que vio el cliente: (\d+)$", executed.text)
        budget = printed_number(r"^  con retry\.budget_exhausted: (\d+)$", executed.text)
        three = printed_number(r"^  fallaron los \d intentos: (\d+)$", executed.text)
        other = printed_number(r"^  otro motivo: (\d+)$", executed.text)
        assert seen_503 == int(client_503) == budget + three + other, executed.text
        assert budget > seen_503 / 2, executed.text  # «la mayoría»
        denied = printed_number(r"^reintentos que el presupuesto negó: (\d+)", executed.text)
        assert denied >= budget, executed.text
    assert (tmp_path / "data" / "notebook04").is_dir()


def test_05_metricas(run_notebook, tmp_path):
    """Lesson 5 runs, twice alike: error rate and p99 both ways, and the latency drawn; as
    the text says, the gateway retried none of the answered calls."""
    markdown = lesson_markdown("05_metricas.ipynb")
    assert "el gateway no reintenta una llamada que recibió respuesta" in markdown
    for executed in run_notebook("05_metricas.ipynb"):
        assert printed_number(r"^reintentos del gateway en la corrida: (\d+)$", executed.text) == 0
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
