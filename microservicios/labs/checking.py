"""Running one lab's checks against one file and reporting, in Spanish, what is still wrong."""

import importlib.util
import sys
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


class CheckFailedError(AssertionError):
    """A check's verdict: `explanation` tells the student what is wrong and where to look."""

    def __init__(self, explanation: str) -> None:
        super().__init__(explanation)
        self.explanation = explanation


def expect(condition: Any, explanation: str) -> None:
    """The checks' assert: fail with a Spanish explanation."""
    if not condition:
        raise CheckFailedError(explanation)


@dataclass(frozen=True)
class Check:
    description: str  # Spanish, shown to the student
    run: Callable[[ModuleType], None]


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    failed: str | None = None
    explanation: str = ""
    total: int = 0

    @property
    def ok(self) -> bool:
        return self.failed is None and len(self.passed) == self.total


def load_module(path: Path) -> ModuleType:
    """Import a student's file under a fresh name (so a re-check sees the new code)."""
    name = f"lab_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CheckFailedError(f"No se pudo leer {path}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise CheckFailedError(
            f"Tu archivo {path.name} no se puede importar: {type(exc).__name__}: {exc}\n"
            + "".join(traceback.format_exception_only(exc)).strip()
        ) from exc
    return module


def run_checks(checks: list[Check], path: Path) -> Report:
    """Run the checks in order; stop at the first failure (one thing to fix at a time)."""
    report = Report(total=len(checks))
    try:
        module = load_module(path)
    except CheckFailedError as exc:
        report.failed, report.explanation = "importar el archivo", exc.explanation
        return report
    for check in checks:
        try:
            check.run(module)
        except CheckFailedError as exc:
            report.failed, report.explanation = check.description, exc.explanation
            return report
        except Exception as exc:  # the student's code raised: show it plainly
            report.failed = check.description
            report.explanation = (
                f"Tu código lanzó una excepción: {type(exc).__name__}: {exc}\n"
                + "".join(traceback.format_exception(exc)[-3:])
            )
            return report
        report.passed.append(check.description)
    return report
