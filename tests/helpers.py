"""Plain helper functions shared by the tests (fixtures live in conftest.py)."""

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from microservicios import Cluster
from microservicios.cluster.cluster import Ports
from microservicios.common.headers import SERVICE_TOKEN_HEADER
from microservicios.common.registry import SERVICES
from microservicios.common.settings import Settings


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def raw_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str | bytes] | None = None,
    host: str | None = None,
) -> RawResponse:
    """Send `method path` with the request target exactly as given (no normalisation);
    `host` replaces the Host header (by default the server's own address)."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(base_url), timeout=10)
    try:
        # skip_host/accept_encoding off: we add what we need ourselves.
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host or f"127.0.0.1:{port_of(base_url)}")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def connection_refused(port: int) -> bool:
    """True if nothing accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def eventually(condition: Callable[[], bool], seconds: float, poll: float = 0.05) -> bool:
    """Poll `condition` until it holds or `seconds` pass: a bounded wait, not a timing claim."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def port_is_free(port: int) -> bool:
    """True if this process can bind and listen on 127.0.0.1:port right now."""
    try:
        with socket.create_server(("127.0.0.1", port)):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A port the OS says is free now (it may be taken again later: use it at once)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


# --- settings and clusters that never read a developer's .env ----------------------

REPO_ROOT = Path(__file__).resolve().parents[1]

# For tests that count answers under concurrency: four services and the test's own client
# share one process (one GIL) and this machine may be busy, so a call can wait in a queue far
# longer than the classroom defaults (1 s to connect, 1 s per attempt). Here a slow machine
# must never look like a dead dependency: roomy timeouts everywhere, the gateway's longer than
# the services' (so it never gives up on an answer on its way), and a breaker that does not
# open on a few slow calls. Clients of such a cluster wait PATIENT_CLIENT_TIMEOUT_S.
PATIENT = {
    "http_connect_timeout": 10.0,
    "http_attempt_timeout": 10.0,
    "http_deadline": 20.0,
    "gateway_timeout": 30.0,
    "breaker_failure_threshold": 1000,
}
PATIENT_CLIENT_TIMEOUT_S = 60.0


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Complete settings for a test, built without any .env file (the environment is
    cleared of settings variables by conftest); `overrides` are Settings fields."""
    return Settings(_env_file=None, data_dir=data_dir, **overrides)


def dependencies_at(url: str) -> dict[str, dict[str, str]]:
    """Settings overrides that send every call to users, items and orders to `url`."""
    return {"service_urls": dict.fromkeys(SERVICES.backends, url)}


def make_cluster(data_dir: Path, ports: Ports = "auto", **overrides: Any) -> Cluster:
    """A (not yet started) cluster whose settings are exactly `make_settings(...)`."""
    return Cluster(ports=ports, settings=make_settings(data_dir, **overrides))


def service_token(settings: Settings) -> dict[str, str]:
    """The X-Service-Token header that apps built with `settings` accept."""
    return {SERVICE_TOKEN_HEADER: settings.service_secret.get_secret_value()}


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment for a child Python run from another directory: the
    package under test stays importable (the repository first on PYTHONPATH)."""
    paths = [str(REPO_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **extra}


@contextmanager
def patient_cluster(data_dir: Path, database: str = "sqlite") -> Iterator[Cluster]:
    """A running cluster with PATIENT timeouts, on SQLite files in `data_dir` or on
    PostgreSQL databases of its own (created and migrated here, dropped at the end)."""
    urls = postgres_service_databases() if database == "postgresql" else {}
    databases = {f"{service}_database_url": url for service, url in urls.items()}
    running = make_cluster(data_dir, **PATIENT, **databases)
    running.start()
    try:
        yield running
    finally:
        settle_and_stop(running)
        for url in urls.values():
            drop_postgres_database(url)


def settle_and_stop(cluster: Cluster) -> None:
    """Stop `cluster` once orders has no stock release pending (bounded wait), so that the
    compensation task is not cut off mid-call and the next test starts from a quiet system.
    """
    deadline = time.monotonic() + 5
    try:
        if cluster.status().get("orders") and cluster.status().get("items"):
            with httpx.Client(timeout=2.0) as http:
                while time.monotonic() < deadline:
                    health = http.get(f"{cluster.url('orders')}/health").json()
                    if not health.get("pending_releases"):
                        break
                    time.sleep(0.05)
    except (httpx.HTTPError, ValueError):
        pass
    finally:
        cluster.stop()


# --- talking to the services ------------------------------------------------------------


def unique_email() -> str:
    return f"u-{uuid.uuid4().hex[:12]}@example.com"


def unique_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:12]}"


def create_user(http: httpx.Client, base: str = "", name: str = "Ana") -> dict:
    """POST a user with a unique email to `base` (a gateway or users); returns it."""
    response = http.post(f"{base}/users/", json={"name": name, "email": unique_email()})
    assert response.status_code == 201, response.text
    return response.json()


def create_item(http: httpx.Client, base: str = "", stock: int = 10, name: str = "Lápiz") -> dict:
    """POST an item with a unique SKU to `base` (a gateway or items); returns it."""
    body = {"name": name, "sku": unique_sku(), "stock": stock}
    response = http.post(f"{base}/items/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def stock_of(http: httpx.Client, item_id: int, base: str = "") -> int:
    """The stock of item `item_id` as `base` (a gateway or items; "" for a TestClient) says."""
    response = http.get(f"{base}/items/{item_id}")
    assert response.status_code == 200, response.text
    return response.json()["stock"]


def post_order(
    http: httpx.Client,
    base: str,
    user_id: int,
    sku: str,
    qty: int = 1,
    key: str | None = None,
) -> httpx.Response:
    """POST /orders/ to `base`, with an Idempotency-Key when `key` is given."""
    headers = {"Idempotency-Key": key} if key else {}
    body = {"user_id": user_id, "item_sku": sku, "qty": qty}
    return http.post(f"{base}/orders/", json=body, headers=headers)


def all_orders(http: httpx.Client, base: str = "") -> list[dict]:
    """Every order `base` lists, page after page."""
    orders: list[dict] = []
    while True:
        response = http.get(f"{base}/orders/", params={"limit": 1000, "offset": len(orders)})
        assert response.status_code == 200, response.text
        page = response.json()
        orders.extend(page)
        if len(page) < 1000:
            return orders


CLI = [sys.executable, "-m", "microservicios.cluster"]


def start_cli(cwd: Path, *args: str, **popen: Any) -> subprocess.Popen:
    """`python -m microservicios.cluster ARGS` started in `cwd` (no developer's .env there),
    its stdout as text, unbuffered, for a `LineReader`; stderr thrown away unless `popen`
    says otherwise."""
    options = {"stderr": subprocess.DEVNULL, **popen}
    return subprocess.Popen(
        CLI + list(args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(PYTHONUNBUFFERED="1"),
        **options,
    )


def stop_cli(process: subprocess.Popen) -> None:
    """Ctrl-C for a CLI started by `start_cli`, as a student stops it; killed if it has not
    ended 30 s later."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


class LineReader:
    """Collects a process's stdout lines on a thread, so reads can have a deadline."""

    def __init__(self, stream) -> None:  # noqa: ANN001
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream) -> None:  # noqa: ANN001
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern, seconds: float) -> re.Match | None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        return None

    def rest(self, seconds: float) -> str:
        self._thread.join(seconds)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


# --- a real browser ------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browser_or_skip():  # noqa: ANN202
    """Playwright driving Debian's chromium; in CI a missing browser is a failure."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("el paquete playwright")
        sync_playwright = None
    if CHROMIUM is None:
        missing.append("chromium (apt-get install chromium)")
    if missing:
        reason = "Falta " + " y ".join(missing) + " para la prueba en un navegador real."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright


def block_outside_loopback(context) -> list[str]:  # noqa: ANN001
    """Make a Playwright browser context behave as on a classroom network that blocks CDNs:
    every request that is not to 127.0.0.1 is aborted, and its URL added to the list."""
    outside: list[str] = []

    def only_loopback(route) -> None:  # noqa: ANN001
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", only_loopback)
    return outside


# --- PostgreSQL ---------------------------------------------------------------------

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres"}


def _postgres_admin(statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(**POSTGRES, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def create_postgres_database() -> str:
    """A new, empty database on the local server; skips (fails in CI) if none answers."""
    name = f"ms_{uuid.uuid4().hex[:12]}"
    try:
        _postgres_admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError) as exc:
        reason = f"No hay un PostgreSQL en 127.0.0.1:5432 para esta prueba ({exc})."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return f"postgresql+asyncpg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_service_databases() -> dict[str, str]:
    """One new database per service on the local server, migrated to the newest schema:
    {service: postgresql+asyncpg URL}. Skips (fails in CI) without a server."""
    from microservicios.migrations import SERVICES_WITH_DATABASE, upgrade

    urls = {service: create_postgres_database() for service in SERVICES_WITH_DATABASE}
    for service, url in urls.items():
        upgrade(service, url)
    return urls


def empty_postgres_tables(urls: dict[str, str]) -> None:
    """Delete every row of every service's tables (ids start again at 1)."""
    import asyncio

    import asyncpg

    from microservicios.migrations import metadata_of

    async def empty() -> None:
        for service, url in urls.items():
            tables = ", ".join(t.name for t in metadata_of(service).sorted_tables)
            connection = await asyncpg.connect(
                **{**POSTGRES, "database": url.rsplit("/", 1)[1]}, timeout=5
            )
            try:
                await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            finally:
                await connection.close()

    asyncio.run(empty())


DATABASES = ("sqlite", "postgresql")  # what the integration and e2e suites run on


def settings_on(database: str, request: pytest.FixtureRequest, base: Settings) -> Settings:
    """`base` as is (SQLite files in its data_dir), or pointed at the session's PostgreSQL
    databases, emptied for this test."""
    if database == "sqlite":
        return base
    urls = request.getfixturevalue("postgres_databases")
    empty_postgres_tables(urls)
    return base.model_copy(update={f"{service}_database_url": url for service, url in urls.items()})
