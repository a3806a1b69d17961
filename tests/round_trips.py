"""A TCP relay in front of PostgreSQL that counts round-trips: each message after which the
client waits for the server's answer (a Sync of the extended protocol, or a simple Query).

Statements counted by SQLAlchemy miss what the driver sends on its own (BEGIN, the pool's
ping, a statement's prepare); this counts what travels on the wire, per database.
"""

import asyncio
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

SSL_REQUEST = 80877103
WAITING_MESSAGES = {b"S", b"Q"}  # Sync, Query: the server answers, the client waits


class RoundTripCounter:
    """Round-trips per database name since the relay started (or since `clear`)."""

    def __init__(self) -> None:
        self.round_trips: Counter[str] = Counter()

    def clear(self) -> None:
        self.round_trips.clear()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _startup(reader: asyncio.StreamReader, upstream: asyncio.StreamWriter) -> bytes:
    """Relay the startup packet (after an SSL request, if any); the database it names."""
    while True:
        header = await reader.readexactly(8)
        length, code = struct.unpack("!ii", header)
        body = await reader.readexactly(length - 8)
        upstream.write(header + body)
        if code != SSL_REQUEST:
            parts = body.split(b"\0")
            return dict(zip(parts[::2], parts[1::2], strict=False)).get(b"database", b"")


async def _count(reader: asyncio.StreamReader, upstream, database: str, counter) -> None:  # noqa: ANN001
    try:
        while True:
            kind = await reader.readexactly(1)
            (length,) = struct.unpack("!i", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            if kind in WAITING_MESSAGES:
                counter.round_trips[database] += 1
            upstream.write(kind + struct.pack("!i", length) + body)
            await upstream.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        upstream.close()


@contextmanager
def counting_relay(
    host: str = "127.0.0.1", port: int = 5432
) -> Iterator[tuple[int, RoundTripCounter]]:
    """A relay to PostgreSQL at host:port, on a free local port: (that port, its counter).
    Point a URL at it with `?ssl=disable` (an encrypted stream could not be read)."""
    counter = RoundTripCounter()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    bound: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        answers = asyncio.ensure_future(_pump(up_reader, writer))
        try:
            database = (await _startup(reader, up_writer)).decode()
        except (asyncio.IncompleteReadError, ConnectionError):
            up_writer.close()
            return
        await asyncio.gather(
            _count(reader, up_writer, database, counter), answers, return_exceptions=True
        )

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        bound.append(server.sockets[0].getsockname()[1])
        started.set()
        async with server:
            await asyncio.Event().wait()

    def run() -> None:
        asyncio.set_event_loop(loop)
        serving.append(loop.create_task(serve()))
        loop.run_until_complete(asyncio.wait(serving))

    serving: list[asyncio.Task] = []
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield bound[0], counter
    finally:
        loop.call_soon_threadsafe(serving[0].cancel)
        thread.join(5)
