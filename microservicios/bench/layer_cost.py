"""What each per-request layer costs: the users app's `GET /users/{id}`, in µs per request,
with every layer on and with one turned off at a time.

In-process and without sockets: each request is one direct ASGI call, one after the other,
so what is measured is the app's own work (the layers, FastAPI, the database read), not the
network or the load generator. A layer costs a few µs in a request of some hundreds, and a
shared machine drifts by more than that within a run, so the variants are measured side by
side: a block runs a few requests on each variant (in an order that turns from block to
block), and a layer's cost is the median, over many blocks, of what its variant saved in
the same block.
"""

import asyncio
import json
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.types import Message

from microservicios.common.settings import Settings
from microservicios.common.web.layers import RequestLayers
from microservicios.panel.activity import Activity
from microservicios.telemetry.logbook import LogBook
from microservicios.telemetry.logs import LogSink
from microservicios.users.main import create_app

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


BLOCKS = 200
REQUESTS_PER_BLOCK = 10


@dataclass
class LayerCosts:
    everything_on: float  # µs per request, the median block
    saved: dict[str, float]  # by variant: µs per request it saves, the median block
    blocks: int


async def microseconds_per_request(app: FastAPI, scope: dict[str, Any], requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        if await call(app, scope) != 200:
            raise RuntimeError(f"GET {scope['path']} no respondió 200 en el benchmark.")
    return (time.perf_counter() - started) * 1e6 / requests


async def _measure(blocks: int, requests: int, data_dir: str) -> LayerCosts:
    apps: list[tuple[FastAPI, dict[str, Any]]] = []
    async with AsyncExitStack() as running:
        for number, (_, layers, panel_sink) in enumerate(VARIANTS):
            settings = Settings(data_dir=f"{data_dir}/{number}")
            sinks: list[LogSink] = [LogBook(), *([Activity()] if panel_sink else [])]
            app = create_app(settings, log_sinks=sinks, layers=layers, host="127.0.0.1")
            await running.enter_async_context(app.router.lifespan_context(app))
            scope = request_scope(f"/users/{await seeded_user(app)}")
            await microseconds_per_request(app, scope, 50)  # warm-up
            apps.append((app, scope))
        times: list[list[float]] = [[] for _ in apps]
        for block in range(blocks):
            for shift in range(len(apps)):
                number = (block + shift) % len(apps)
                app, scope = apps[number]
                times[number].append(await microseconds_per_request(app, scope, requests))
    on = times[0]
    return LayerCosts(
        everything_on=statistics.median(on),
        saved={
            label: statistics.median([a - b for a, b in zip(on, times[number], strict=True)])
            for number, (label, _, _) in enumerate(VARIANTS)
            if number > 0
        },
        blocks=blocks,
    )


def measure(blocks: int = BLOCKS, requests: int = REQUESTS_PER_BLOCK) -> LayerCosts:
    """What each variant saves against everything on, in µs per request."""
    with tempfile.TemporaryDirectory() as data_dir:
        return asyncio.run(_measure(blocks, requests, data_dir))


def report(costs: LayerCosts) -> list[str]:
    lines = [
        "Costo por capa de GET /users/{id} en proceso (µs por petición; mediana de "
        f"{costs.blocks} bloques, cada variante junto a la otra en el mismo bloque):",
        f"  {VARIANTS[0][0]:<30} {costs.everything_on:>8.1f} µs por petición",
    ]
    for label, saved in costs.saved.items():
        lines.append(f"  {label:<30} ahorra {saved:>6.1f} µs")
    return lines


if __name__ == "__main__":
    print("\n".join(report(measure())))
