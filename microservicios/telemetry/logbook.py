"""The log records of one cluster, kept in a bounded buffer so a notebook can read them.

Bounded twice: by count, and by size, since a client chooses how long some values are (each
is cut to MAX_VALUE_CHARS in the record, but 20,000 records of 2 KB are still 40 MB).
"""

import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Generic, TypeVar

from microservicios.telemetry.events import BREAKER_EVENTS
from microservicios.telemetry.logs import LogRecord, LogSink, MeasuredRecord, StreamSink

DEFAULT_CAPACITY = 20_000
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
# Breaker transitions hold no client-chosen text: about 300 bytes each, 1.5 MB at most.
TRANSITIONS_CAPACITY = 5_000
Item = TypeVar("Item")
_NUMBERS = (int, float)


def record_size(record: LogRecord) -> int:
    """About the bytes of `record` as a JSON line, cheaply (this runs for every record):
    keys and text in full (UTF-8), a number as 16 bytes, anything else as its JSON.
    A `MeasuredRecord` is measured once, by the first sink that asks."""
    if type(record) is MeasuredRecord:
        try:
            return record.measured_size
        except AttributeError:
            record.measured_size = size = measured_size(record)
            return size
    return measured_size(record)


def measured_size(record: LogRecord) -> int:
    # The keys in one go; for each field: quotes, colon, comma and a value's quotes.
    size = 2 + sum(map(len, record)) + 6 * len(record)
    for value in record.values():
        if type(value) is str:  # isascii() is O(1): most values are counted without encoding
            size += len(value) if value.isascii() else len(value.encode("utf-8", "replace"))
        elif value is None or isinstance(value, _NUMBERS):
            size += 16
        else:
            size += len(json.dumps(value, ensure_ascii=False, default=str))
    return size


class SizedBuffer(Generic[Item]):
    """The newest items, at most `capacity` of them and `max_bytes` in all (by the sizes
    given); the newest is kept even alone past `max_bytes`. Not thread-safe: its owner
    holds a lock."""

    def __init__(self, capacity: int, max_bytes: int) -> None:
        self.capacity, self.max_bytes = capacity, max_bytes
        self._items: deque[tuple[Item, int]] = deque()
        self.size = 0

    def append(self, item: Item, size: int) -> None:
        self._items.append((item, size))
        self.size += size
        while len(self._items) > 1 and (
            len(self._items) > self.capacity or self.size > self.max_bytes
        ):
            self.size -= self._items.popleft()[1]

    def __iter__(self) -> Iterator[Item]:
        return (item for item, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)


class LogBook:
    """A sink for every app of a cluster: keeps the newest records, optionally echoes them."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        echo: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._records: SizedBuffer[LogRecord] = SizedBuffer(capacity, max_bytes)
        # Kept apart so that heavy traffic cannot push them out before they are plotted.
        self._transitions: deque[LogRecord] = deque(maxlen=TRANSITIONS_CAPACITY)
        self._lock = threading.Lock()
        self._echo: LogSink | None = StreamSink() if echo else None

    def __call__(self, record: LogRecord) -> None:
        size = record_size(record)
        with self._lock:
            self._records.append(record, size)
            if record["event"] in BREAKER_EVENTS:
                self._transitions.append(record)
            if self._echo is not None:  # under the lock: never ahead of start_echo's replay
                self._echo(record)

    def start_echo(self, sink: LogSink | None = None) -> None:
        """Echo from now on (to `sink`, JSON lines by default), after the records kept so
        far: a CLI calls it once its table is printed, so the table is the first thing a
        student sees."""
        with self._lock:
            if self._echo is None:
                self._echo = sink or StreamSink()
                for record in self._records:
                    self._echo(record)

    def transitions(self) -> list[dict[str, Any]]:
        """Breaker transitions: caller, target, from_state, to_state, at (epoch s), reason."""
        with self._lock:
            snapshot = list(self._transitions)
        keys = ("caller", "target", "from_state", "to_state", "reason")
        return [{**{k: r[k] for k in keys}, "at": r["at_epoch"]} for r in snapshot]

    def records(
        self,
        *,
        service: str | None = None,
        event: str | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        since: datetime | str | None = None,
        **fields: Any,
    ) -> list[LogRecord]:
        """Records matching every filter given, oldest first."""
        with self._lock:
            snapshot: Iterable[LogRecord] = list(self._records)
        since_text = (
            since.isoformat(timespec="milliseconds") if isinstance(since, datetime) else since
        )
        wanted = {
            "service": service,
            "event": event,
            "request_id": request_id,
            "trace_id": trace_id,
            **fields,
        }
        wanted = {key: value for key, value in wanted.items() if value is not None}
        return [
            record
            for record in snapshot
            if all(record.get(key) == value for key, value in wanted.items())
            and (since_text is None or record["ts"] >= since_text)
        ]
