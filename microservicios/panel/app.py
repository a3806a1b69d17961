"""The panel's web app: its page, a live stream of what happens, traces, and actions.

Routes are thin: they check access, then ask the `Activity` (what was seen) or the
`PanelSource` (the cluster: kill, revive, faults). Everything the browser loads comes from
`static/` in this package: the panel works without internet.
"""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from html import escape
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from microservicios.common.faults import Faults, checked_faults
from microservicios.common.headers import (
    CONNECTION_HEADER,
    CONTENT_LENGTH_HEADER,
    RETRY_AFTER_HEADER,
)
from microservicios.panel.access import AccessDeniedError, PanelAccess, SecurityHeaders
from microservicios.panel.activity import WINDOW_S, Activity
from microservicios.panel.source import PanelSource
from microservicios.panel.stream import MAX_STREAMS, LiveStream, StreamSlots
from microservicios.serve.errors import ClusterError
from microservicios.telemetry.traces import build_trace

STATIC = files("microservicios.panel") / "static"
SNAPSHOT_EVERY_S = 0.5
LOGS_EVERY_S = 0.25
# Under load (thousands of records a second) nobody reads each line: the newest ones, at
# most 200 a second, keep the tail live without making the watched system pay for it.
MAX_LOGS_PER_MESSAGE = 50
FIRST_LOGS = 500  # a browser that opens (or reloads) the panel gets the recent past at once
ACTIONS = ("kill", "revive", "heal", "faults")
MAX_ACTION_BYTES = 16 * 1024  # a faults form is a few dozen bytes
Endpoint = Callable[[Request], Awaitable[Response]]


class PanelState:
    """What the routes share: the cluster, what was seen of it, who may act, and a flag that
    ends open streams when the panel stops (so stopping never waits for a browser)."""

    def __init__(self, source: PanelSource, activity: Activity, access: PanelAccess) -> None:
        self.source = source
        self.activity = activity
        self.access = access
        self.stopping = threading.Event()
        self.streams = StreamSlots()

    def snapshot(self) -> dict[str, Any]:
        names = list(self.source.names)
        status, urls = self.source.status(), self.source.urls()
        services = [
            {**row, "up": status.get(row["name"], False), "url": urls[row["name"]],
             "docs_url": f"{urls[row['name']]}/docs"}
            for row in self.activity.service_rows(names)
        ]  # fmt: skip
        now = time.time()
        return {
            "now": now,
            "window_s": WINDOW_S,
            "services": services,
            "breakers": self.activity.breakers(),
            "marks": [mark for mark in list(self.source.marks) if mark["at"] >= now - WINDOW_S],
            "traces": self.activity.traces(),
            "metrics": self.activity.metrics(names),
        }


def _state(request: Request) -> PanelState:
    return request.app.state.panel


def _denied(reason: AccessDeniedError) -> JSONResponse:
    return JSONResponse({"detail": str(reason)}, status_code=403)


def _denied_page(reason: AccessDeniedError) -> HTMLResponse:
    text = escape(str(reason))
    denied = f"<!doctype html><meta charset='utf-8'><title>Panel</title><p>{text}</p>"
    return HTMLResponse(denied, status_code=403)


def guarded(route: Endpoint, *, action: bool = False, html: bool = False) -> Endpoint:
    """`route`, run only for requests that may read the panel (or act, with `action`); a
    refusal is JSON, or a page for the browser (`html`)."""
    check = PanelAccess.check_action if action else PanelAccess.check_read

    async def checked(request: Request) -> Response:
        try:
            check(_state(request).access, request)
        except AccessDeniedError as reason:
            return _denied_page(reason) if html else _denied(reason)
        return await route(request)

    return checked


async def page(request: Request) -> Response:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))


async def snapshot(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(await run_in_threadpool(state.snapshot))


async def stream(request: Request) -> Response:
    state = _state(request)
    slot = state.streams.take()
    if slot is None:
        detail = (
            f"Ya hay {MAX_STREAMS} pestañas con este panel abierto, el máximo: cerrá alguna "
            "y esta se conecta sola."
        )
        return JSONResponse({"detail": detail}, 429, headers={RETRY_AFTER_HEADER: "3"})
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return LiveStream(_events(state), slot, headers)


async def _events(state: PanelState) -> AsyncIterator[str]:
    """A snapshot every SNAPSHOT_EVERY_S and the new log records every LOGS_EVERY_S, until
    the browser leaves (the server then cancels this generator) or the panel stops."""
    sequence, next_snapshot, most = 0, 0.0, FIRST_LOGS
    yield "retry: 1000\n\n"
    while not state.stopping.is_set():
        sequence, records = state.activity.logs_after(sequence)
        if records:
            yield _message("logs", records[-most:])
        most = MAX_LOGS_PER_MESSAGE
        if time.monotonic() >= next_snapshot:
            yield _message("snapshot", await run_in_threadpool(state.snapshot))
            next_snapshot = time.monotonic() + SNAPSHOT_EVERY_S
        await asyncio.sleep(LOGS_EVERY_S)


def _message(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


async def trace(request: Request) -> Response:
    state = _state(request)
    wanted = request.path_params["trace_id"]
    found = build_trace(state.activity.spans(wanted), wanted)
    if not found.spans:
        return JSONResponse({"detail": f"No hay tramos de la traza '{wanted}'."}, 404)
    return JSONResponse({"trace_id": found.trace_id, "rows": found.rows()})


async def action(request: Request) -> Response:
    state = _state(request)
    name, verb = request.path_params["name"], request.path_params["action"]
    if verb not in ACTIONS:
        return JSONResponse({"detail": f"Acción desconocida: '{verb}'."}, 404)
    if name not in state.source.names:
        known = ", ".join(state.source.names)
        return JSONResponse({"detail": f"No existe el servicio '{name}' ({known})."}, 404)
    try:
        body = await _limited_body(request)
    except BodyTooLargeError:
        limit_kib = MAX_ACTION_BYTES // 1024
        detail = f"El cuerpo de la acción es demasiado grande (máximo {limit_kib} KiB)."
        return JSONResponse({"detail": detail}, 413, headers={CONNECTION_HEADER: "close"})
    try:
        faults = _faults_from(body) if verb == "faults" else None
        message = await run_in_threadpool(_act, state.source, name, verb, faults)
    except ValueError as bad_input:
        return JSONResponse({"detail": str(bad_input)}, 422)
    except ClusterError as refusal:
        return JSONResponse({"detail": str(refusal)}, 409)
    return JSONResponse({"message": message})


class BodyTooLargeError(Exception):
    pass


async def _limited_body(request: Request) -> bytes:
    """The body, refused as soon as it is known to pass MAX_ACTION_BYTES (declared or not)."""
    declared = request.headers.get(CONTENT_LENGTH_HEADER, "")
    if declared.isdigit() and int(declared) > MAX_ACTION_BYTES:
        raise BodyTooLargeError
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_ACTION_BYTES:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _faults_from(raw: bytes) -> Faults:
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError:
        raise ValueError("El cuerpo no es JSON válido.") from None
    if not isinstance(body, dict):
        raise ValueError("El cuerpo tiene que ser un objeto JSON con las fallas.")
    faults = checked_faults(body)  # InvalidFaultsError is a ValueError: 422
    if not faults.active:
        raise ValueError(
            "Todo está en 0: no hay ninguna falla para inyectar (para quitarlas, Curar)."
        )
    return faults


def _act(source: PanelSource, name: str, verb: str, faults: Faults | None) -> str:
    if verb == "kill":
        source.kill(name)
        return f"'{name}' apagado."
    if verb == "revive":
        source.revive(name)
        return f"'{name}' revivido."
    if verb == "heal":
        source.heal(name)
        return f"'{name}' curado: sin fallas."
    assert faults is not None
    source.inject_faults(name, faults)  # already checked, by _faults_from
    return f"Fallas inyectadas en '{name}'."


def create_panel_app(state: PanelState) -> Starlette:
    app = Starlette(
        middleware=[Middleware(SecurityHeaders)],
        routes=[
            Route("/", guarded(page, html=True)),
            Route("/api/snapshot", guarded(snapshot)),
            Route("/api/stream", guarded(stream)),
            Route("/api/traces/{trace_id}", guarded(trace)),
            Route("/api/services/{name}/{action}", guarded(action, action=True), methods=["POST"]),
            Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        ],
    )
    app.state.panel = state
    return app
