"""Running one lab's checks against one file and reporting, in Spanish, what is still wrong.

Each check runs on a thread of its own with a time limit: a student's retry loop that never
ends, or a route that never answers, fails that check with a sentence saying what it waited
for, instead of leaving `check` silent for ever. Ctrl-C during a check ends it with one line.
"""

import ctypes
import importlib.util
import sys
import threading
import time
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


DEFAULT_TIME_LIMIT_S = 120.0  # above a throwaway cluster's start and stop on a slow laptop
STOP_GRACE_S = 10.0  # how long a stopped check has to unwind (stop its servers) before we go on
POLL_S = 0.2  # the runner waits in short steps so Ctrl-C reaches it on every OS


class CheckStoppedError(BaseException):
    """Raised inside a check's thread to end it (time limit or Ctrl-C).

    A BaseException, like KeyboardInterrupt, so that a student's `except Exception` in a
    retry loop does not swallow it.
    """


@dataclass(frozen=True)
class Check:
    description: str  # Spanish, shown to the student
    run: Callable[[ModuleType], None]
    # Spanish, completes «esperaba …» when the check outlives its limit; "" names the check.
    waits_for: str = ""
    time_limit_s: float = DEFAULT_TIME_LIMIT_S

    def waited_for(self) -> str:
        return self.waits_for or f"que terminara «{self.description}»"


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


class _CheckThread(threading.Thread):
    """Runs one check and keeps what it raised, for the runner to report."""

    def __init__(self, check: Check, module: ModuleType) -> None:
        super().__init__(name=f"check: {check.description}", daemon=True)
        self.check, self.module = check, module
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.check.run(self.module)
        except BaseException as exc:  # noqa: BLE001  (reported by the runner's thread)
            self.error = exc

    def stop(self) -> None:
        """Raise CheckStoppedError in the thread, so its `finally`s stop the servers it started.

        Python has no public way to end a thread; this is the C API's own tool for it. It acts
        at the thread's next Python instruction: a loop or an event loop stops at once, a
        thread blocked inside C for good does not (it is a daemon, left behind after
        STOP_GRACE_S).
        """
        if self.ident is not None and self.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self.ident), ctypes.py_object(CheckStoppedError)
            )
        _join(self, STOP_GRACE_S)


def _join(thread: threading.Thread, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        thread.join(POLL_S)


def run_with_time_limit(check: Check, module: ModuleType) -> None:
    """`check.run(module)`, failing the check if it is still running after its time limit."""
    worker = _CheckThread(check, module)
    worker.start()
    try:
        _join(worker, check.time_limit_s)
    except KeyboardInterrupt:
        worker.stop()
        raise
    if worker.is_alive():
        worker.stop()
        raise CheckFailedError(
            f"La comprobación no terminó en {check.time_limit_s:g} s: esperaba "
            f"{check.waited_for()}."
        )
    if worker.error is not None:
        raise worker.error


def run_checks(checks: list[Check], path: Path) -> Report:
    """Run the checks in order; stop at the first failure (one thing to fix at a time).

    Ctrl-C during a check prints one line (not a traceback) and exits with status 130.
    """
    report = Report(total=len(checks))
    try:
        module = load_module(path)
    except CheckFailedError as exc:
        report.failed, report.explanation = "importar el archivo", exc.explanation
        return report
    for check in checks:
        try:
            run_with_time_limit(check, module)
        except KeyboardInterrupt:
            print(
                f"\nComprobación interrumpida (Ctrl-C) mientras esperaba {check.waited_for()}.",
                file=sys.stderr,
            )
            raise SystemExit(130) from None
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
