"""One app served by uvicorn on a background thread, on a socket bound by us.

Binding the socket ourselves means a taken port fails here, with a clear error, instead of
inside uvicorn's thread (where a failed bind calls `sys.exit`), and "auto" ports are known
before any app is built.
"""

import asyncio
import errno
import http.client
import logging
import socket
import threading
import time
from collections.abc import Callable
from functools import partial

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from microservicios.common.web.start_failure import start_failure, without_start_failure
from microservicios.serve.errors import ClusterError, PortUnavailableError
from microservicios.serve.protocol import HeaderDeadlineProtocol

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def bind_socket(host: str, port: int, service: str) -> socket.socket:
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        # The operating system's text is in English (and differs per system): say it here.
        reasons: dict[int | None, str] = {
            errno.EADDRINUSE: "ya lo está usando otro cluster u otro programa",
            errno.EACCES: "el sistema no da permiso para usar ese puerto",
        }
        reason = reasons.get(exc.errno, f"el sistema lo rechazó (error {exc.errno})")
        raise PortUnavailableError(service, port, reason) from exc


def answers_health(host: str, port: int) -> bool:
    """One GET /health. http.client, not httpx: a bare loopback GET without an SSL context."""
    connection = http.client.HTTPConnection(host, port, timeout=1.0)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_until_healthy(
    service: str,
    host: str,
    port: int,
    deadline: float,
    still_starting: Callable[[], None] = lambda: None,
    poll: float = 0.01,
) -> None:
    """Poll /health until it answers 200; `still_starting` may raise if the start failed."""
    while not answers_health(host, port):
        still_starting()
        if time.monotonic() > deadline:
            raise ClusterError(
                f"El servicio '{service}' no responde en http://{host}:{port}/health."
            )
        time.sleep(poll)


class EndsQuietlyWhenKilled:
    """The app as uvicorn runs it: a request cancelled by a kill just ends.

    Its connection is already cut, so there is no one to answer; left to uvicorn, the
    CancelledError would print ~30 lines of «Exception in ASGI application» per request.
    The app's own middleware has logged the request as cut (see `RequestContextMiddleware`).
    """

    def __init__(self, app: ASGIApp, killed: threading.Event) -> None:
        self.app = app
        self.killed = killed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not self.killed.is_set():
                raise


class ThreadServer(uvicorn.Server):
    """A uvicorn server that can also die like a crashed machine (see `crash`)."""

    loop: asyncio.AbstractEventLoop | None = None

    def __init__(self, config: uvicorn.Config, killed: threading.Event) -> None:
        super().__init__(config)
        self.killed = killed  # set by `crash`: requests cancelled from then on were cut

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def crash(self) -> None:
        """Stop now, from any thread: no new connection is accepted and every open one is
        cut without an HTTP answer, as when the machine dies. (A graceful stop would answer
        the requests in flight; uvicorn answers cancelled ones with a 500.)"""
        self.killed.set()
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._cut_connections)
        self.config.timeout_graceful_shutdown = 0.05  # type: ignore[assignment]  # a float works
        self.should_exit = True

    def _cut_connections(self) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        # Then cancel the cut requests, rather than let uvicorn's shutdown do it with an
        # ERROR line about its graceful timeout. In a later callback: abort marks each
        # connection lost in a callback of its own, and uvicorn must see that first (or it
        # would take a request that ends without an answer for a bug and print so).
        asyncio.get_running_loop().call_soon(self._cancel_requests)

    def _cancel_requests(self) -> None:
        for task in list(self.server_state.tasks):
            task.cancel()


class ServiceRunner:
    """Serves one app on (host, port); can be stopped and started again on the same port."""

    def __init__(self, service: str, host: str, port: int, app_factory: Callable[[], FastAPI]):
        self.service = service
        self.host = host
        self.port = port
        self._app_factory = app_factory
        self._socket: socket.socket | None = None
        self._server: ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self.app: FastAPI | None = None

    def bind(self) -> int:
        """Reserve the port (resolving port 0 to a free one) and return it."""
        if self._socket is None:
            self._socket = bind_socket(self.host, self.port, self.service)
            self.port = self._socket.getsockname()[1]
        return self.port

    @property
    def running(self) -> bool:
        return (
            self._thread is not None
            and self._thread.is_alive()
            and self._server is not None
            and self._server.started
            and not self._server.should_exit
        )

    @property
    def thread_id(self) -> int | None:
        """The native id of the serving thread, while it runs."""
        return None if self._thread is None else self._thread.native_id

    def launch(self, keepalive_timeout: float, header_timeout: float) -> None:
        """Start serving in a new thread; returns at once (see `wait_started`).

        The timeouts are the settings' `server_keepalive_timeout` and `header_timeout`.
        """
        sock = self._socket or bind_socket(self.host, self.port, self.service)
        self._socket = None
        self.app = self._app_factory()
        killed = threading.Event()
        config = uvicorn.Config(
            EndsQuietlyWhenKilled(self.app, killed),
            log_config=None,  # uvicorn must not reconfigure the process's logging
            access_log=False,
            proxy_headers=False,  # nothing here sits behind a reverse proxy: skip X-Forwarded-*
            lifespan="on",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=keepalive_timeout,  # type: ignore[arg-type]  # a float works
            http=partial(HeaderDeadlineProtocol, header_timeout=header_timeout),  # type: ignore[arg-type]
        )
        # A start failure is this runner's to report (`wait_started`), not uvicorn's.
        logging.getLogger("uvicorn.error").addFilter(without_start_failure)
        self._server = ThreadServer(config, killed)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"microservicios-{self.service}",
            daemon=True,
        )
        self._thread.start()

    def wait_started(self, deadline: float) -> None:
        assert self._server is not None and self._thread is not None
        while not self._server.started:
            if not self._thread.is_alive():
                explained = None if self.app is None else start_failure(self.app)
                raise ClusterError(
                    explained
                    or f"El servicio '{self.service}' (puerto {self.port}) no pudo arrancar; "
                    "mirá el error que se imprimió arriba."
                )
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"El servicio '{self.service}' (puerto {self.port}) no arrancó a tiempo."
                )
            time.sleep(0.002)

    def request_stop(self, abrupt: bool = False) -> None:
        """Ask the server to exit; `abrupt` cuts every connection at once (see `crash`)."""
        if self._server is None:
            return
        if abrupt:
            self._server.crash()
        else:
            self._server.should_exit = True

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        self._thread = None
        self._server = None

    def release_port(self) -> None:
        """Close a socket that was bound but never served (a start that failed half-way)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
