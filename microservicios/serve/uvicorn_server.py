"""uvicorn as every separately-run service uses it: this project's timeouts and header
deadline, no access log of uvicorn's own (each app logs its requests as JSON)."""

import logging
import os
import signal
import sys
from functools import partial
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from microservicios.common.settings import Settings
from microservicios.common.web.start_failure import without_start_failed_line
from microservicios.serve.protocol import HeaderDeadlineProtocol
from microservicios.serve.runner import bind_socket


class DeafToCtrlC(uvicorn.Server):
    """uvicorn that stops on SIGTERM but not on Ctrl-C, for a child whose launcher stops it.

    A terminal's Ctrl-C reaches every process of its foreground job, children included. For
    uvicorn a second Ctrl-C means "stop now", which skips the app's shutdown and prints a
    traceback per service: the launcher asks each child to stop anyway, with SIGTERM.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGINT:
            super().handle_exit(sig, frame)


def run_service(
    factory: str,
    host: str,
    port: int,
    service: str | None = None,
    ctrl_c: bool = True,
) -> None:
    """Serve the app `factory` ("module:function") until SIGTERM, or Ctrl-C unless `ctrl_c`
    is False. A port that cannot be opened raises PortUnavailableError (naming `service`)
    before the app is built: uvicorn binds only after the app's start, and then says why in
    one English line."""
    settings = Settings()  # what the service will read too: environment and .env
    sock = bind_socket(host, port, service or factory)
    os.environ["UVICORN_HOST"] = host  # where the app checks that its secret is safe to use
    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=settings.server_keepalive_timeout,  # type: ignore[arg-type]
        http=partial(HeaderDeadlineProtocol, header_timeout=settings.header_timeout),  # type: ignore[arg-type]
    )
    # A start the app refused has been said by then (one line, or a traceback).
    logging.getLogger("uvicorn.error").addFilter(without_start_failed_line)
    server = uvicorn.Server(config) if ctrl_c else DeafToCtrlC(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn raises again the Ctrl-C it has already handled by shutting down
    finally:
        sock.close()
    if not server.started:
        sys.exit(STARTUP_FAILURE)  # the app refused to start: as uvicorn.run exits
