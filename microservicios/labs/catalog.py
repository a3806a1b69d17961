"""The labs, in order: where each one's files live and which checks and hints it has."""

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import microservicios
from microservicios.labs.checking import Check

STARTERS_DIR = Path(__file__).parent / "starters"


@dataclass(frozen=True)
class Lab:
    number: int
    slug: str  # folder name, e.g. "lab03_circuit_breaker"
    title: str
    filename: str  # the one file the student edits

    @property
    def _checks_module(self):  # noqa: ANN202
        return importlib.import_module(f"microservicios.labs.checks.lab{self.number:02d}")

    @property
    def checks(self) -> list[Check]:
        return self._checks_module.CHECKS

    @property
    def hints(self) -> list[str]:
        return self._checks_module.HINTS

    def student_file(self, labs_dir: Path) -> Path:
        return labs_dir / self.slug / self.filename

    def starter_file(self) -> Path:
        return STARTERS_DIR / self.slug / self.filename

    def solution_file(self, labs_dir: Path) -> Path:
        return labs_dir / "solutions" / self.slug / self.filename


LABS = (
    Lab(1, "lab01_endpoint", "Un endpoint nuevo, visto a través del gateway", "busqueda.py"),
    Lab(2, "lab02_reintentos", "Reintentos con backoff y jitter", "reintentos.py"),
    Lab(3, "lab03_circuit_breaker", "Tu propio circuit breaker", "breaker.py"),
    Lab(4, "lab04_idempotencia", "Un endpoint idempotente", "pagos.py"),
    Lab(5, "lab05_saga", "La compensación de una saga", "saga.py"),
    Lab(6, "lab06_nuevo_servicio", "Un quinto servicio en el cluster", "notifications.py"),
)


def get_lab(number: int) -> Lab:
    for lab in LABS:
        if lab.number == number:
            return lab
    raise KeyError(number)


def find_labs_dir() -> Path:
    """$MICROSERVICIOS_LABS_DIR, else ./labs, else the labs/ folder beside the package."""
    if env := os.environ.get("MICROSERVICIOS_LABS_DIR"):
        return Path(env)
    here = Path.cwd() / "labs"
    if here.is_dir():
        return here
    return Path(microservicios.__file__).resolve().parent.parent / "labs"
