"""A PostgreSQL database whose schema is behind the code: the cluster migrates its own at
start (a class pointed at an empty database just works), `python -m microservicios.serve`
refuses to start with one line naming the migrate command, and /health/ready is 503 while
the schema is behind."""

import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from microservicios.migrations import SERVICES_WITH_DATABASE, downgrade, upgrade
from microservicios.users.main import create_app as create_users
from tests.helpers import (
    CLI,
    LineReader,
    create_postgres_database,
    drop_postgres_database,
    eventually,
    free_port,
    make_cluster,
    make_settings,
    post_order,
    subprocess_env,
    unique_email,
    unique_sku,
)

SERVE = [sys.executable, "-m", "microservicios.serve"]
PASSWORD = "clave-de-prueba"  # trust auth ignores it: it is here to be hidden from the table


@pytest.fixture
def empty_databases() -> Iterator[dict[str, str]]:
    """One new, empty (never migrated) PostgreSQL database per service."""
    urls = {}
    try:
        for service in SERVICES_WITH_DATABASE:
            urls[service] = create_postgres_database()
        yield urls
    finally:
        for url in urls.values():
            drop_postgres_database(url)


def with_password(url: str) -> str:
    """`url` as a hosting service prints it: postgresql://, with a password."""
    rest = url.split("://", 1)[1]
    user, _, place = rest.partition("@")
    return f"postgresql://{user}:{PASSWORD}@{place}"


def place_an_order(http: httpx.Client, gateway: str) -> None:
    """A user, an item and an order through the gateway: every database takes a write."""
    user = http.post(f"{gateway}/users/", json={"name": "Ana", "email": unique_email()})
    assert user.status_code == 201, user.text
    sku = unique_sku()
    item = http.post(f"{gateway}/items/", json={"name": "Lápiz", "sku": sku, "stock": 3})
    assert item.status_code == 201, item.text
    order = post_order(http, gateway, user.json()["id"], sku)
    assert order.status_code == 201, order.text


def test_a_cluster_on_empty_postgresql_databases_migrates_them_at_start(tmp_path, empty_databases):
    """Cluster pointed at three empty databases: it starts, every service is ready and
    an order goes through (before: 500 «relation "users" does not exist»)."""
    databases = {f"{service}_database_url": url for service, url in empty_databases.items()}
    cluster = make_cluster(tmp_path, **databases)
    cluster.start()
    try:
        with httpx.Client(timeout=30) as http:
            for service in SERVICES_WITH_DATABASE:
                assert http.get(f"{cluster.url(service)}/health/ready").status_code == 200
            place_an_order(http, cluster.url("gateway"))
    finally:
        cluster.stop()


def read_table(reader: LineReader) -> list[str]:
    """The start table's lines, from the header to «Ctrl-C para detener.»."""
    assert reader.wait_for(re.compile(r"Ctrl-C para detener"), seconds=120), reader.seen
    header = next(i for i, line in enumerate(reader.seen) if line.startswith("Servicio"))
    return [line.rstrip("\n") for line in reader.seen[header:]]


def start_cli(cwd, *args: str, **env: str) -> subprocess.Popen:  # noqa: ANN001
    """`python -m microservicios.cluster ARGS` in `cwd`, with `env` added to its environment."""
    return subprocess.Popen(
        CLI + list(args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=subprocess_env(PYTHONUNBUFFERED="1", **env),
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_start_table_says_where_each_database_really_is(tmp_path, empty_databases):
    """users on PostgreSQL, items and orders on SQLite files: the table names each one,
    the PostgreSQL URL without its password (before: «Datos en: …/data» only)."""
    users_url = with_password(empty_databases["users"])
    process = start_cli(
        tmp_path, "--ports", "auto", "--quiet", "--no-panel", "--data-dir", "datos",
        USERS_DATABASE_URL=users_url,
    )  # fmt: skip
    try:
        table = read_table(LineReader(process.stdout))
    finally:
        stop(process)
    text = "\n".join(table)
    assert PASSWORD not in text, text
    database_name = users_url.rsplit("/", 1)[1]
    users_line = next(
        line for line in table if line.strip().startswith("users") and "PostgreSQL" in line
    )
    assert f"postgresql+asyncpg://postgres:***@127.0.0.1:5432/{database_name}" in users_line
    data = (tmp_path / "datos").resolve()
    for service in ("items", "orders"):
        assert any(
            line.split()[:2] == [service, "SQLite"] and str(data / f"{service}.db") in line
            for line in table
        ), text
    assert f"Datos en: {data}" not in text  # users' data is not there


def test_processes_mode_migrates_empty_databases_and_says_so(tmp_path, empty_databases):
    """--processes with every service on an empty PostgreSQL database: an order goes
    through the gateway, and the table names the three databases, not a data folder."""
    env = {
        f"{service.upper()}_DATABASE_URL": with_password(url)
        for service, url in empty_databases.items()
    }
    process = start_cli(tmp_path, "--ports", "auto", "--quiet", "--no-panel", "--processes", **env)
    try:
        table = read_table(LineReader(process.stdout))
        gateway = next(line.split()[1] for line in table if line.startswith("gateway"))
        with httpx.Client(timeout=30) as http:
            place_an_order(http, gateway)
    finally:
        stop(process)
    text = "\n".join(table)
    assert PASSWORD not in text and "Datos en: /" not in text, text
    for service in SERVICES_WITH_DATABASE:
        assert any(line.split()[:2] == [service, "PostgreSQL"] for line in table), text


def test_serve_refuses_a_database_behind_the_code_in_one_line(tmp_path, postgres_url):
    """`serve users` on an empty database exits 1 with one Spanish line naming
    `python -m microservicios.migrate users`; once migrated, the same command serves."""
    port = free_port()
    env = subprocess_env(DATA_DIR=str(tmp_path), USERS_DATABASE_URL=with_password(postgres_url))
    try:
        refused = subprocess.run(
            SERVE + ["users", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve arrancó sobre una base sin migrar (no se negó)")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith("Error: ") and "python -m microservicios.migrate users" in lines[0]

    upgrade("users", postgres_url)
    process = subprocess.Popen(
        SERVE + ["users", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
    )
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health/ready").status_code == 200
            except httpx.TransportError:
                return False

        assert eventually(ready, seconds=60)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_ready_is_503_while_the_schema_is_behind(tmp_path, postgres_url):
    """A running users whose database goes back to an older revision: /health/ready is
    503 and says which command brings it up to date; migrated again, 200."""
    settings = make_settings(tmp_path, users_database_url=postgres_url)
    with TestClient(create_users(settings)) as users:
        assert users.get("/health/ready").status_code == 200
        downgrade("users", postgres_url, "base")
        behind = users.get("/health/ready")
        assert behind.status_code == 503
        assert "python -m microservicios.migrate users" in behind.json()["detail"]
        assert users.get("/health/live").status_code == 200
        upgrade("users", postgres_url)
        assert users.get("/health/ready").status_code == 200


def test_a_service_whose_database_is_unreachable_still_starts(tmp_path, nowhere):
    """No PostgreSQL at that address: the service starts (as before) and is not ready."""
    port = nowhere.rsplit(":", 1)[1]
    url = f"postgresql+asyncpg://nadie@127.0.0.1:{port}/nada"
    with TestClient(create_users(make_settings(tmp_path, users_database_url=url))) as users:
        answer = users.get("/health/ready")
        assert answer.status_code == 503
        assert answer.json()["detail"] == "La base de datos del servicio no responde."
