"""Every check has a time limit: a check that never ends fails with what it waited for."""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from microservicios.labs import checking
from microservicios.labs.catalog import get_lab
from microservicios.labs.checking import Check, Report, run_checks

REPO = Path(__file__).resolve().parents[2]
RETRIES_FOREVER = Path(__file__).parent / "wrong" / "lab05_retries_release_forever.py"
GENEROUS_S = 300  # far above any limit: only a checker that hangs gets here


def run_in_background(checks: list[Check], path: Path) -> Report:
    """run_checks on a thread, so that a checker that hangs fails this test instead of hanging it."""
    reports: list[Report] = []
    runner = threading.Thread(target=lambda: reports.append(run_checks(checks, path)), daemon=True)
    runner.start()
    runner.join(GENEROUS_S)
    assert reports, "run_checks no terminó: la comprobación colgada colgó al que comprueba"
    return reports[0]


def labs_cli(labs_dir: Path, *args: str, **options) -> subprocess.Popen:  # noqa: ANN003
    return subprocess.Popen(
        [sys.executable, "-m", "microservicios.labs", "--labs-dir", str(labs_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        **options,
    )


def test_a_check_that_never_ends_fails_at_its_limit_and_is_unwound(tmp_path: Path) -> None:
    """The hung check fails with «no terminó en 1 s: esperaba …», and its `finally` runs."""
    cleaned_up = threading.Event()

    def never_ends(_module: object) -> None:
        try:
            while True:
                time.sleep(0.05)
        finally:
            cleaned_up.set()  # where a real check stops its servers

    student = tmp_path / "alumno.py"
    student.write_text("")
    check = Check(
        "espera para siempre", never_ends, waits_for="que contestara algo", time_limit_s=1
    )
    report = run_in_background([check], student)
    assert report.failed == "espera para siempre"
    assert "no terminó en 1 s: esperaba que contestara algo." in report.explanation
    assert cleaned_up.is_set()


def test_a_check_stuck_inside_c_is_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check blocked for good in C (here Event.wait) still fails; it names the check itself."""
    monkeypatch.setattr(checking, "STOP_GRACE_S", 0.5)
    release = threading.Event()
    student = tmp_path / "alumno.py"
    student.write_text("")
    check = Check("bloqueada", lambda _module: release.wait(), time_limit_s=1)
    try:
        report = run_in_background([check], student)
    finally:
        release.set()
    assert report.failed == "bloqueada"
    assert "esperaba que terminara «bloqueada»" in report.explanation


def test_lab5_release_retried_forever_fails_instead_of_hanging(tmp_path: Path) -> None:
    """`check 5` on a saga that retries the release until it works ends, and says why."""
    cli = labs_cli(tmp_path, "check", "5", "--file", str(RETRIES_FOREVER))
    try:
        out, err = cli.communicate(timeout=GENEROUS_S)
    finally:
        cli.kill()
    assert cli.returncode == 1, out + err
    assert "✘ si la compensación también falla, quien llama ve el error original" in out
    assert "no terminó en 10 s" in out and "¿Reintentás para siempre?" in out


def test_lab5_a_few_retries_of_the_release_are_accepted(tmp_path: Path) -> None:
    """What the README allows: retry the release a few times, then raise the original error."""
    solution = (REPO / "labs/solutions/lab05_saga/saga.py").read_text()
    bounded = solution.replace(
        """    with contextlib.suppress(UnavailableError):
        await release()
""",
        """    for attempt in range(3):
        with contextlib.suppress(UnavailableError):
            await release()
            return
        await asyncio.sleep(0.1 * 2**attempt)
""",
    ).replace("import contextlib\n", "import asyncio\nimport contextlib\n")
    assert bounded != solution
    student = tmp_path / "saga.py"
    student.write_text(bounded)
    checks = list(get_lab(5).checks)
    report = run_in_background(checks, student)
    assert report.ok, (report.failed, report.explanation)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX signals")
def test_ctrl_c_during_a_check_prints_one_spanish_line(tmp_path: Path) -> None:
    """Ctrl-C while a check waits: one line saying what it waited for, no traceback, exit 130."""
    started = tmp_path / "empezó"
    student = tmp_path / "saga.py"
    student.write_text(
        "import asyncio\nfrom pathlib import Path\n\n\n"
        "async def place_order(*, reserve, release, store):\n"
        f"    Path({str(started)!r}).write_text('sí')\n"
        "    while True:\n"
        "        await asyncio.sleep(0.05)\n"
    )
    cli = labs_cli(tmp_path, "check", "5", "--file", str(student))
    try:
        deadline = time.monotonic() + GENEROUS_S
        while not started.exists() and time.monotonic() < deadline and cli.poll() is None:
            time.sleep(0.1)
        assert started.exists(), "el check nunca llegó a llamar a place_order"
        cli.send_signal(signal.SIGINT)
        out, err = cli.communicate(timeout=GENEROUS_S)
    finally:
        cli.kill()
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(
        "Comprobación interrumpida (Ctrl-C) mientras esperaba que place_order terminara"
    )
    assert cli.returncode == 130
