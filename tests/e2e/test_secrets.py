"""A service started alone refuses a well-known secret where other machines could reach it."""

import subprocess
import sys

import httpx
import pytest

from microservicios.cluster.cluster import resolve_ports
from microservicios.cluster.processes import ProcessCluster
from microservicios.common.secrets import PLACEHOLDER_SECRETS
from tests.helpers import free_port, subprocess_env

UVICORN = [sys.executable, "-m", "uvicorn", "microservicios.users.main:create_app", "--factory"]


def start_alone(tmp_path, host: str, secret: str) -> subprocess.Popen:
    return subprocess.Popen(
        UVICORN + ["--host", host, "--port", str(free_port())],
        cwd=tmp_path,
        env=subprocess_env(SERVICE_SECRET=secret, DATA_DIR=str(tmp_path / "data")),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("secret", ["dev-secret", "cambiame-por-un-secreto-largo"])
def test_placeholder_secret_on_all_interfaces_refuses_to_start(tmp_path, secret):
    """`--host 0.0.0.0` with a well-known secret: the process exits, saying why in Spanish."""
    process = start_alone(tmp_path, "0.0.0.0", secret)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "SERVICE_SECRET tiene un valor conocido por todos" in output
    assert secret not in output.replace("SERVICE_SECRET", "")


def test_placeholder_secret_on_loopback_starts_with_a_warning(tmp_path):
    """On 127.0.0.1 the same secret is allowed, with an auth.default_secret warning."""
    process = start_alone(tmp_path, "127.0.0.1", "dev-secret")
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "service.started" in line:
                break
        assert any("auth.default_secret" in line for line in lines), lines
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_processes_mode_makes_a_secret_of_its_own(tmp_path, monkeypatch):
    """--processes without SERVICE_SECRET: the children share a random secret, so the
    well-known 'dev-secret' opens no fault route."""
    monkeypatch.chdir(tmp_path)  # no developer's .env
    cluster = ProcessCluster(resolve_ports("auto"), tmp_path / "data", quiet=True)
    cluster.start()
    try:
        secret = cluster.environment()["SERVICE_SECRET"]
        assert secret not in PLACEHOLDER_SECRETS and len(secret) >= 32
        faults = f"{cluster.url('items')}/internal/faults"
        assert httpx.get(faults, headers={"X-Service-Token": "dev-secret"}).status_code == 401
        assert httpx.get(faults, headers={"X-Service-Token": secret}).status_code == 200
    finally:
        cluster.stop()
