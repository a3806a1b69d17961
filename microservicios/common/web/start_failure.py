"""A start refused for a reason the app can say (its SQLite file cannot be opened) reaches
the server as that one Spanish line, not as a traceback (`ExplainsStartFailure`); the
filters below let a server (`serve/`) drop uvicorn's English lines about it."""

import logging

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microservicios.database.sqlite import DatabaseFileError

# Start failures whose message says it all, in Spanish: no traceback needed.
EXPLAINED_START_FAILURES = (DatabaseFileError,)
# What uvicorn logs, in English, after any start that failed.
UVICORN_START_FAILED = "Application startup failed. Exiting."


class StartFailureLine(str):
    """The one Spanish line of an explained start failure, as the server logs it (its own
    type, so that a logging filter can tell it from other lines)."""


class ExplainsStartFailure:
    """ASGI middleware for the lifespan: a start refused with an explained failure is sent
    to the server as its message alone (Starlette sends a traceback), and kept on the app
    for whoever started it (`start_failure`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_start_failure(message: Message) -> None:
            # Starlette reports a failed start, then raises: wait to see what was raised.
            if message["type"] == "lifespan.startup.failed":
                held.append(message)
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold_start_failure)
        except EXPLAINED_START_FAILURES as failure:
            scope["app"].state.start_failure = StartFailureLine(failure)
            await send({"type": "lifespan.startup.failed", "message": StartFailureLine(failure)})
            raise
        except BaseException:
            for message in held:
                await send(message)
            raise


def start_failure(app: FastAPI) -> str | None:
    """Why `app` refused to start, in one Spanish line, if it did with an explained failure."""
    return getattr(app.state, "start_failure", None)


def without_start_failed_line(record: logging.LogRecord) -> bool:
    """A filter for uvicorn's logger: drops the English line it adds after a failed start
    (the failure has been said just before, as one line or as a traceback)."""
    return record.getMessage() != UVICORN_START_FAILED


def without_start_failure(record: logging.LogRecord) -> bool:
    """A filter for uvicorn's logger, for a caller that reports a failed start itself (the
    cluster, in its exception): also drops the explained failure's line."""
    return without_start_failed_line(record) and not isinstance(record.msg, StartFailureLine)
