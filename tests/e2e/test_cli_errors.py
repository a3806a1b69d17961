"""`python -m microservicios.cluster` refuses what it cannot do with one Spanish line."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import CLI, free_port, subprocess_env


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + list(args), capture_output=True, text=True, timeout=60, cwd=cwd, env=subprocess_env()
    )


def ports_arg(gateway: int) -> str:
    return f"gateway={gateway},users={free_port()},items={free_port()},orders={free_port()}"


def assert_one_spanish_error(finished: subprocess.CompletedProcess, expected: str) -> None:
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert expected in output, output
    assert "Traceback" not in output and "Address already in use" not in output, output


@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_a_taken_port_suggests_ports_auto(tmp_path, mode):
    """A port in use: Spanish reason and the command-line fix, not Cluster(ports='auto')."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        finished = run_cli(*mode, "--ports", ports_arg(port), "--data-dir", "d", cwd=tmp_path)
    assert_one_spanish_error(finished, f"No se pudo abrir el puerto {port}")
    assert "usá --ports auto" in finished.stderr
    assert "Cluster(" not in finished.stderr


@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_two_services_on_one_port_are_named(tmp_path, mode):
    """Two services given the same port: the error names both, not another program."""
    port = free_port()
    finished = run_cli(*mode, "--ports", f"gateway={port},users={port}", cwd=tmp_path)
    assert_one_spanish_error(finished, f"tienen el mismo puerto, {port}")
    assert "'gateway'" in finished.stderr and "'users'" in finished.stderr
    assert "otro programa" not in finished.stderr


def test_a_port_out_of_range_is_a_usage_error(tmp_path):
    """--ports gateway=70000 exits 2 with a Spanish line, no OverflowError."""
    finished = run_cli("--ports", "gateway=70000", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_spanish_error(finished, "los puertos van de 1 a 65535")
    assert "OverflowError" not in finished.stderr


def loading_the_web_stack(pid: int) -> bool:
    """Linux: pydantic's compiled core is mapped, so the CLI is loading FastAPI (the Python
    start-up, which only Python itself can handle a Ctrl-C in, is over)."""
    return "pydantic_core" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_ctrl_c_during_start_up_says_so_in_spanish(tmp_path, mode):
    """Ctrl-C while loading or starting: a Spanish line, a non-zero exit, no traceback."""
    process = subprocess.Popen(
        CLI + [*mode, "--ports", "auto", "--data-dir", "d"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=subprocess_env(PYTHONUNBUFFERED="1"),
    )
    try:
        deadline = time.monotonic() + 30
        while not loading_the_web_stack(process.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)  # loading FastAPI, or already starting
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, output
    assert "interrumpido" in output, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "Servicio" not in output  # no table: the cluster never was up


# Code being loaded when Ctrl-C arrives, which must not see an exception: raised inside a
# compiled module's own start (pydantic_core's), it became a Rust crash report, exit 1.
LOADING_WHEN_INTERRUPTED = """
import os, signal, sys
from microservicios.cluster.__main__ import interrupted_while_loading
signal.signal(signal.SIGINT, interrupted_while_loading)
try:
    os.kill(os.getpid(), signal.SIGINT)
    signal.pause() if hasattr(signal, "pause") else None
except BaseException as exc:
    print(f"the loading code saw {type(exc).__name__}")
    sys.exit(1)
"""


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to oneself is POSIX-only here")
def test_ctrl_c_while_loading_exits_without_raising_into_the_loading_code(tmp_path):
    """The early Ctrl-C handler ends the process (130, its Spanish line) instead of raising
    into whatever was being imported."""
    finished = subprocess.run(
        [*CLI[:1], "-c", LOADING_WHEN_INTERRUPTED],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=subprocess_env(),
    )
    assert finished.returncode == 130, finished.stdout + finished.stderr
    assert "Arranque interrumpido (Ctrl-C)" in finished.stderr
    assert "saw" not in finished.stdout


@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
@pytest.mark.parametrize(
    ("data_dir", "expected"),
    [
        ("/etc/passwd", "/etc/passwd es un archivo, no una carpeta"),
        ("/etc/passwd/datos", "/etc/passwd es un archivo, no una carpeta"),
    ],
    ids=["a-file", "inside-a-file"],
)
def test_a_data_dir_that_is_a_file_is_one_spanish_line(tmp_path, mode, data_dir, expected):
    """--data-dir naming a file (or a folder inside one): one Spanish line, exit 1."""
    finished = run_cli(*mode, "--ports", "auto", "--no-panel", "--data-dir", data_dir, cwd=tmp_path)
    assert finished.returncode == 1
    assert_one_spanish_error(finished, expected)
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's /sys")
@pytest.mark.parametrize("data_dir", ["/sys", "/sys/datos-del-cluster"], ids=["folder", "new"])
def test_a_data_dir_nobody_can_write_in_is_one_spanish_line(tmp_path, data_dir):
    """A folder where no file can be created (not even by root: /sys), or a new folder
    that cannot be made there: one Spanish line saying so, exit 1."""
    finished = run_cli("--ports", "auto", "--no-panel", "--data-dir", data_dir, cwd=tmp_path)
    assert finished.returncode == 1
    assert_one_spanish_error(finished, "no se pueden guardar archivos en /sys")
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr


SERVICE_MODULE = """\
def create_app(settings, **options):
    raise AssertionError("never called: the launcher refuses first")

not_callable = 42
"""


@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("pagos=no.existe:create_app", "no se encontró el módulo 'no.existe'"),
        ("pagos=mis_servicios:crear", "el módulo 'mis_servicios' no tiene 'crear'"),
        ("pagos=mis_servicios:not_callable", "'mis_servicios:not_callable' no es una función"),
        ("pagos=roto:create_app", "el módulo 'roto' tiene un error de sintaxis"),
        ("pagos=importa:create_app", "el módulo 'importa' no pudo importar 'nada_de_esto'"),
    ],
    ids=["no-module", "no-attribute", "not-callable", "syntax-error", "missing-import"],
)
def test_a_service_that_cannot_be_loaded_is_one_spanish_line(tmp_path, mode, option, expected):
    """--service naming a module or function that is not there (or not a function, or a
    module that does not compile): one Spanish line naming it, exit 1, nothing started."""
    (tmp_path / "mis_servicios.py").write_text(SERVICE_MODULE)
    (tmp_path / "roto.py").write_text("def create_app(settings:\n")
    (tmp_path / "importa.py").write_text("import nada_de_esto\n")
    finished = run_cli(*mode, "--ports", "auto", "--no-panel", "--service", option, cwd=tmp_path)
    assert finished.returncode == 1
    assert_one_spanish_error(finished, f"--service {option}: {expected}")
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr
    assert "Servicio" not in finished.stdout  # no table: nothing started


@pytest.mark.parametrize("option", ["pagos", "pagos=modulo", "pagos=:create_app", "1x=m:f"])
def test_a_malformed_service_option_is_a_usage_error(tmp_path, option):
    """--service without nombre=modulo:funcion's shape exits 2 with the shape to use."""
    finished = run_cli("--service", option, cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_spanish_error(finished, "usá nombre=modulo:funcion")


@pytest.mark.parametrize("ports", ["gateway=0", "gateway=99999"])
def test_ports_outside_1_to_65535_are_refused(tmp_path, ports):
    """--ports with port 0 (use 'auto' for free ports) or above 65535 exits 2, one line."""
    finished = run_cli("--ports", ports, "--no-panel", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_spanish_error(finished, "los puertos van de 1 a 65535")


def test_a_service_named_twice_in_ports_is_refused(tmp_path):
    """--ports gateway=9080,gateway=9081 exits 2 naming the service and both ports, instead
    of starting on the last one."""
    first, second = free_port(), free_port()
    ports = f"gateway={first},{ports_arg(second)}"  # free ports, should it start anyway
    finished = run_cli("--ports", ports, "--no-panel", cwd=tmp_path)
    assert finished.returncode == 2
    assert_one_spanish_error(finished, f"'gateway' aparece dos veces ({first} y {second})")
    assert "Cluster en marcha" not in finished.stdout


@pytest.mark.parametrize("mode", [[], ["--processes"]], ids=["threads", "processes"])
def test_an_unknown_service_in_ports_names_the_valid_ones(tmp_path, mode):
    """--ports gatewya=9080: one line naming --ports, the services (not a Python list) and
    the closest name; exit 1, nothing started."""
    finished = run_cli(*mode, "--ports", "gatewya=9080", "--no-panel", cwd=tmp_path)
    assert finished.returncode == 1
    assert_one_spanish_error(
        finished,
        "--ports: servicio desconocido 'gatewya' (los servicios son: users, items, orders, "
        "gateway); ¿quisiste decir 'gateway'?",
    )
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr
    assert "[" not in finished.stderr
    assert "Servicio" not in finished.stdout


def test_an_unknown_service_in_ports_counts_the_added_ones(tmp_path):
    """A name far from every service gets no guess; one added with --service is valid."""
    (tmp_path / "mis_servicios.py").write_text(SERVICE_MODULE)
    finished = run_cli(
        *["--ports", "zzz=9080", "--no-panel", "--service", "avisos=mis_servicios:create_app"],
        cwd=tmp_path,
    )
    assert_one_spanish_error(
        finished,
        "--ports: servicio desconocido 'zzz' (los servicios son: users, items, orders, "
        "avisos, gateway).\n",
    )
    assert "quisiste" not in finished.stderr
