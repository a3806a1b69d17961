"""What each per-request layer costs: the users app's `GET /users/{id}`, in µs per request,
with every layer on and with one turned off at a time.

In-process and without sockets: each request is one direct ASGI call, one after the other,
so what is measured is the app's own work (the layers, FastAPI, the database read), not the
network or the load generator. Every variant is measured in each of `rounds` alternated
rounds and the fastest round counts (min of N): noise on a shared machine only ever adds.
"""

import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import Message

from microservicios.common.settings import Settings
from microservicios.common.web.layers import RequestLayers
from microservicios.panel.activity import Activity
from microservicios.telemetry.logbook import LogBook
from microservicios.users.main import create_app

REQUESTS_PER_ROUND = 100
ROUNDS = 25

# (label, layers, panel sink on): the first is the reference, the others differ in one thing.
VARIANTS: tuple[tuple[str, RequestLayers, bool], ...] = (
    ("todo encendido", RequestLayers(), True),
    ("sin límites (RequestGuard)", RequestLayers(limits=False), True),
    ("sin inyector de fallas", RequestLayers(faults=False), True),
    ("sin log http.request", RequestLayers(logs=False), True),
    ("sin métricas", RequestLayers(metrics=False), True),
    ("sin trazas ni request id", RequestLayers(tracing=False), True),
    ("sin el sink del panel", RequestLayers(), False),
    (
        "todo apagado",
        RequestLayers(tracing=False, logs=False, metrics=False, limits=False, faults=False),
        False,
    ),
)


def request_scope(path: str) -> dict[str, Any]:
    """An ASGI scope like the one uvicorn builds for `GET path` from a plain HTTP client."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8001"), (b"accept", b"*/*"), (b"user-agent", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8001),
    }


async def call(app: FastAPI, scope: dict[str, Any], body: bytes = b"") -> int:
    """One request straight into the app; its status."""
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


async def seeded_user(app: FastAPI) -> int:
    """Creates the one user every variant reads, through the app itself; its id."""
    body = b'{"name": "Bench", "email": "bench@example.com"}'
    scope = {
        **request_scope("/users/"),
        "method": "POST",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
    }
    answers: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            answers.append(message.get("body", b""))

    await app(scope, receive, send)
    return json.loads(b"".join(answers))["id"]


async def microseconds_per_request(app: FastAPI, scope: dict[str, Any], requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        if await call(app, scope) != 200:
            raise RuntimeError(f"GET {scope['path']} no respondió 200 en el benchmark.")
    return (time.perf_counter() - started) * 1e6 / requests


async def _measure(rounds: int, requests: int, data_dir: str) -> dict[str, float]:
    apps: list[tuple[str, FastAPI, dict[str, Any]]] = []
    lifespans = []
    try:
        for number, (label, layers, panel_sink) in enumerate(VARIANTS):
            settings = Settings(data_dir=f"{data_dir}/{number}", log_level="INFO")
            sinks: list[Callable] = [LogBook()] + ([Activity()] if panel_sink else [])
            app = create_app(settings, log_sinks=sinks, layers=layers, host="127.0.0.1")
            lifespan = app.router.lifespan_context(app)
            await lifespan.__aenter__()
            lifespans.append(lifespan)
            user_id = await seeded_user(app)
            scope = request_scope(f"/users/{user_id}")
            await microseconds_per_request(app, scope, requests // 3)  # warm-up
            apps.append((label, app, scope))
        best = {label: float("inf") for label, _, _ in apps}
        for number in range(rounds):
            order = apps if number % 2 == 0 else apps[::-1]
            for label, app, scope in order:
                figure = await microseconds_per_request(app, scope, requests)
                best[label] = min(best[label], figure)
        return best
    finally:
        for lifespan in reversed(lifespans):
            await lifespan.__aexit__(None, None, None)


def measure(rounds: int = ROUNDS, requests: int = REQUESTS_PER_ROUND) -> dict[str, float]:
    """µs per request for each variant (by label), the fastest of `rounds` rounds."""
    with tempfile.TemporaryDirectory() as data_dir:
        return asyncio.run(_measure(rounds, requests, data_dir))


def report(figures: dict[str, float]) -> list[str]:
    labels = list(figures)
    everything = figures[labels[0]]
    lines = [
        "Costo por capa de GET /users/{id} en proceso (µs por petición, la mejor de "
        f"{ROUNDS} rondas alternadas):",
        f"  {labels[0]:<30} {everything:>8.1f} µs",
    ]
    for label in labels[1:]:
        saved = everything - figures[label]
        lines.append(f"  {label:<30} {figures[label]:>8.1f} µs  (ahorra {saved:.1f} µs)")
    return lines


if __name__ == "__main__":
    print("\n".join(report(measure())))
