"""uvicorn as every separately-run service uses it: this project's timeouts and header
deadline, no access log of uvicorn's own (each app logs its requests as JSON)."""

import os
from functools import partial

import uvicorn

from microservicios.cluster.protocol import HeaderDeadlineProtocol
from microservicios.common.settings import Settings


def run_service(factory: str, host: str, port: int) -> None:
    """Serve the app `factory` ("module:function") until SIGTERM or Ctrl-C."""
    settings = Settings()  # what the service will read too: environment and .env
    os.environ["UVICORN_HOST"] = host  # where the app checks that its secret is safe to use
    try:
        uvicorn.run(
            factory,
            factory=True,
            host=host,
            port=port,
            log_level="warning",
            timeout_keep_alive=settings.server_keepalive_timeout,  # type: ignore[arg-type]
            http=partial(HeaderDeadlineProtocol, header_timeout=settings.header_timeout),  # type: ignore[arg-type]
        )
    except KeyboardInterrupt:
        pass  # uvicorn raises again the Ctrl-C it has already handled by shutting down
