"""The panel's live stream (server-sent events), bounded: a few at once, and none that lags.

Each open stream costs the watched system a snapshot every half second, and in threads mode
the panel shares the processor with the services: 500 streams cut the gateway's throughput
by seven. So a panel serves at most MAX_STREAMS at once (the next browser tab gets a 429,
and its page retries by itself). A browser that stops reading must not make the panel keep
its messages: they wait in a queue of QUEUE_MESSAGES, and when it is full the stream is
dropped — no more messages are made for it and its place is freed; when it reads again its
stream ends, and the page reconnects.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

MAX_STREAMS = 8
QUEUE_MESSAGES = 8  # a few seconds of messages: a browser that reads is never this late


class StreamSlots:
    """How many streams are open; used on the panel's one event loop only."""

    def __init__(self, limit: int = MAX_STREAMS) -> None:
        self.limit = limit
        self.open = 0

    def take(self) -> "Slot | None":
        if self.open >= self.limit:
            return None
        self.open += 1
        return Slot(self)


class Slot:
    """One stream's place; given back once, whoever gives it back first."""

    def __init__(self, slots: StreamSlots) -> None:
        self._slots: StreamSlots | None = slots

    def give_back(self) -> None:
        if self._slots is not None:
            self._slots.open -= 1
            self._slots = None


class LiveStream(StreamingResponse):
    """Server-sent `messages` for as long as the browser reads them, holding `slot`."""

    def __init__(
        self, messages: AsyncIterator[str], slot: Slot, headers: Mapping[str, str]
    ) -> None:
        self.messages = bounded(messages, slot)
        self.slot = slot
        super().__init__(self.messages, media_type="text/event-stream", headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # even when the browser left before the first message was made
            self.slot.give_back()
            await self.messages.aclose()  # stops the task that makes them, if it runs


async def bounded(messages: AsyncIterator[str], slot: Slot) -> AsyncGenerator[str, None]:
    """`messages`, made ahead on their own task. The response sends each message it gets
    and only then asks for the next one, so a browser that does not read leaves the queue
    to fill up: then the stream is dropped, and its slot given back."""
    queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_MESSAGES)
    dropped = asyncio.Event()

    async def produce() -> None:
        try:
            async for message in messages:
                queue.put_nowait(message)
            queue.put_nowait(None)  # the panel is stopping
        except asyncio.QueueFull:
            dropped.set()
            slot.give_back()

    producer = asyncio.create_task(produce())
    try:
        while True:
            message = await queue.get()
            if message is None or dropped.is_set():
                return
            yield message
    finally:
        producer.cancel()
