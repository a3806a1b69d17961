"""The log records of one cluster, kept in a bounded buffer so a notebook can read them."""

import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from microservicios.common.logs import LogRecord, LogSink, StreamSink

DEFAULT_CAPACITY = 20_000
TRANSITIONS_CAPACITY = 5_000


class LogBook:
    """A sink for every app of a cluster: keeps the newest records, optionally echoes them."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, echo: bool = False) -> None:
        self._records: deque[LogRecord] = deque(maxlen=capacity)
        # Kept apart so that heavy traffic cannot push them out before they are plotted.
        self._transitions: deque[LogRecord] = deque(maxlen=TRANSITIONS_CAPACITY)
        self._lock = threading.Lock()
        self._echo = StreamSink() if echo else None

    def __call__(self, record: LogRecord) -> None:
        with self._lock:
            self._records.append(record)
            if record["event"].startswith("breaker."):
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
