"""The yardstick for our direct route: a bare FastAPI app with the same `GET /users/{id}`.

Same table model, same session opener and the same crud call as the users service, on a
SQLite file of its own that holds the same user; none of our middleware, no `build_app`.
It is served as `Cluster` serves each service (uvicorn on a thread of this process, on a
socket bound here, the same uvicorn options), but with uvicorn's own HTTP protocol and no
wrapper: whatever our direct route costs beyond this app is ours.
"""

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

from microservicios.common.settings import Settings
from microservicios.users import crud
from microservicios.users.database import open_database
from microservicios.users.models import User
from microservicios.users.routes import NOT_FOUND
from microservicios.users.schemas import UserRead

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def create_reference_app(database_url: str) -> FastAPI:
    """The bare app: one route, the users service's own database access."""
    database = open_database(database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/users/{user_id}", response_model=UserRead)
    async def get_user(user_id: int) -> User:
        async with database.session() as session:
            try:
                return await crud.get_user(session, user_id=user_id)
            except crud.UserNotFoundError:
                raise HTTPException(status_code=404, detail=NOT_FOUND) from None

    return app


def add_user(database_url: str, user: dict[str, Any]) -> None:
    """Write `user` (id, name, email, as the users service answers it) into the file."""

    async def insert() -> None:
        database = open_database(database_url)
        try:
            async with database.session() as session:
                session.add(User(**user))
                await session.commit()
        finally:
            await database.dispose()

    asyncio.run(insert())


@contextmanager
def serving(app: FastAPI, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` on a free port of `host` from a thread; yields its base URL."""
    sock = socket.create_server((host, 0))
    config = uvicorn.Config(
        app,
        http="httptools",  # what our HeaderDeadlineProtocol builds on
        log_config=None,
        access_log=False,
        proxy_headers=False,
        lifespan="on",
        timeout_keep_alive=Settings.default_for("server_keepalive_timeout"),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="bench-reference", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("La app de referencia no arrancó.")
            time.sleep(0.01)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        sock.close()


@contextmanager
def reference_for(user: dict[str, Any], folder: Path) -> Iterator[str]:
    """The bare app on a SQLite file in `folder` holding `user`, served; yields its URL."""
    database_url = f"sqlite:///{(folder / 'reference.db').as_posix()}"
    add_user(database_url, user)
    with serving(create_reference_app(database_url)) as url:
        yield url
