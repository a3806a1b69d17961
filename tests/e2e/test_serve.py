"""`python -m microservicios.serve`: one service in the foreground, as a container runs it."""

import signal
import socket
import subprocess
import sys

import httpx
import pytest

from tests.helpers import eventually, free_port, subprocess_env

SERVE = [sys.executable, "-m", "microservicios.serve"]


def start(tmp_path, *args: str, **env: str) -> subprocess.Popen:  # noqa: ANN001
    environment = subprocess_env(DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.Popen(
        SERVE + list(args), cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True
    )


def answers_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready").status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("how", ["argument", "variable"])
def test_it_serves_the_service_chosen_and_stops_on_sigterm(tmp_path, how):
    """By argument or by SERVICE: that service answers /health/ready; SIGTERM stops it
    gracefully (its lifespan ends: `service.stopped`), as a container's stop does."""
    port = free_port()
    if how == "argument":
        process = start(tmp_path, "items", "--port", str(port))
    else:
        process = start(tmp_path, "--port", str(port), SERVICE="items")
    try:
        assert eventually(lambda: answers_ready(port), seconds=30)
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["service"] == "items"
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    # uvicorn re-raises the SIGTERM it handled, once it has shut down: -15 or 0 both mean
    # "stopped when asked"; the lifespan's last log line says it was graceful.
    assert process.returncode in (0, -signal.SIGTERM)
    assert '"event": "service.stopped"' in errors
    assert (tmp_path / "data" / "items.db").exists()


def test_an_unknown_service_is_refused_in_spanish(tmp_path):
    """A name that is not in the registry: exit 2 and a Spanish line naming the valid ones."""
    process = start(tmp_path, "pagos")
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "servicio desconocido: 'pagos'" in errors and "users" in errors


def test_a_public_host_with_the_known_secret_is_one_explanation(tmp_path):
    """--host 0.0.0.0 with the well-known secret: the Spanish explanation, exit 1, no
    traceback after it."""
    process = start(tmp_path, "users", "--host", "0.0.0.0", "--port", str(free_port()))
    output, errors = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "SERVICE_SECRET tiene un valor conocido por todos" in errors, errors
    assert "Traceback" not in errors and "Application startup failed" not in errors, errors
    assert len(errors.strip().splitlines()) == 1, errors


def test_no_service_named_says_one_is_needed_and_lists_them(tmp_path, monkeypatch):
    """No argument and no SERVICE variable: exit 2, «falta el servicio», the valid names;
    never «servicio desconocido: None»."""
    monkeypatch.delenv("SERVICE", raising=False)
    process = start(tmp_path)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "falta el servicio" in errors and "users, items, orders, gateway" in errors, errors
    assert "None" not in errors and "Traceback" not in errors, errors


@pytest.mark.parametrize("port", ["0", "99999", "65536"])
def test_a_port_outside_1_to_65535_is_refused(tmp_path, port):
    """--port 99999 does not start on 99999 - 65536: exit 2, a Spanish line with the range."""
    process = start(tmp_path, "users", "--port", port)
    try:
        _, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # the old behaviour: it started, on another port
            process.kill()
            process.communicate()
    assert process.returncode == 2, errors
    assert f"'{port}' no es un puerto: van de 1 a 65535" in errors, errors
    assert "Traceback" not in errors


def test_a_port_in_use_is_one_spanish_line(tmp_path):
    """--port that another program holds: exit 1 and one Spanish line naming the port, that
    it is taken and what to do; not uvicorn's English line, and the service never starts."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = start(tmp_path, "users", "--port", str(port))
        try:
            _, errors = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 1, errors
    assert len(errors.strip().splitlines()) == 1, errors
    assert f"No se pudo abrir el puerto {port}" in errors, errors
    assert "ya lo está usando otro" in errors and "--port" in errors, errors
    assert "address already in use" not in errors and "service.started" not in errors, errors
