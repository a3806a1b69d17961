"""`python -m microservicios.cluster`: help text and a foreground run stopped with Ctrl-C.

The CLI reads settings from the environment and a `.env` in its working directory, as it
should: each run here starts in a temporary directory, so a developer's `.env` stays out.
"""

import os
import re
import signal
import subprocess

import httpx
import pytest

from tests.helpers import CLI, LineReader, start_cli, subprocess_env

SPANISH_WORDS = re.compile(r"\b(puertos?|servicios?|carpeta|datos|proceso|detiene|ayuda)\b")


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run(
        CLI + list(args), capture_output=True, text=True, timeout=30, cwd=cwd, env=subprocess_env()
    )


def test_help_exits_0_and_is_in_spanish(tmp_path):
    """--help exits 0 and documents the options in Spanish."""
    finished = run_cli("--help", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    text = finished.stdout
    for option in ("--ports", "--data-dir", "--processes", "--quiet"):
        assert option in text
    assert len(set(SPANISH_WORDS.findall(text.lower()))) >= 3, text


def test_bad_ports_value_is_refused(tmp_path):
    """A malformed --ports value exits 2 with a Spanish usage error and no traceback."""
    finished = run_cli("--ports", "gateway=abc", cwd=tmp_path)
    assert finished.returncode == 2
    assert "'gateway=abc' no es válido" in finished.stderr
    assert "Traceback" not in finished.stderr


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
def test_foreground_run_serves_and_stops_on_ctrl_c(tmp_path):
    """The CLI prints a table with the gateway URL, serves it, and exits 0 on Ctrl-C."""
    process = start_cli(tmp_path, "--ports", "auto", "--data-dir", str(tmp_path / "data"))
    try:
        reader = LineReader(process.stdout)
        gateway_row = re.compile(r"^\s*gateway\s+(http://127\.0\.0\.1:\d+)")
        match = reader.wait_for(gateway_row, seconds=30)
        assert match, f"no gateway row in output:\n{''.join(reader.seen)}"
        header = "".join(reader.seen)
        for column in ("Servicio", "URL", "Documentación"):
            assert column in header
        health = httpx.get(f"{match.group(1)}/health", timeout=10)
        assert health.status_code == 200
        assert health.json()["service"] == "gateway"

        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=10)
        output = reader.rest(5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert returncode == 0
    assert "Cluster detenido." in output


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_the_table_comes_before_any_log_line(tmp_path, mode):
    """In both modes the table is printed first; the start's logs follow it, one readable
    line per record (time, level, service, event, details), not JSON."""
    process = start_cli(
        tmp_path,
        *["--ports", "auto", "--data-dir", str(tmp_path / "data"), *mode],
        stderr=subprocess.STDOUT,  # one stream: the order a terminal would show
    )
    try:
        reader = LineReader(process.stdout)
        assert reader.wait_for(re.compile(r"Ctrl-C para detener"), seconds=60), reader.seen
        started = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} INFO +users +service\.started")
        assert reader.wait_for(started, seconds=30), reader.seen  # a readable line, no JSON
        header = next(i for i, line in enumerate(reader.seen) if line.startswith("Servicio"))
        before_table = reader.seen[:header]
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log_line = re.compile(r"^\s*\{|^\d\d:\d\d:\d\d\.\d{3} ")
    assert not [line for line in before_table if log_line.match(line)], before_table


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
def test_the_table_shows_the_absolute_data_folder(tmp_path):
    """Started with a relative --data-dir, the table says the absolute folder the data is
    in, and the databases are there."""
    process = start_cli(tmp_path, "--ports", "auto", "--quiet", "--data-dir", "datos-de-prueba")
    try:
        reader = LineReader(process.stdout)
        line = reader.wait_for(re.compile(r"^Datos en: (.+)$"), seconds=60)
        assert line, "".join(reader.seen)
        shown = line.group(1).strip()
        assert shown == str((tmp_path / "datos-de-prueba").resolve())
        assert sorted(p.name for p in (tmp_path / "datos-de-prueba").glob("*.db")) == [
            "items.db", "orders.db", "users.db",
        ]  # fmt: skip
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
