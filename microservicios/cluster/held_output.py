"""The children's log lines, read by the launcher: shown readable, after the table, and
handed to the panel.

With `--processes` each service writes its JSON log lines to stderr from the moment it
starts, which would bury the table a student needs first. The launcher reads each child's
stderr on a small thread and keeps the lines until `release()`; from then on they pass
straight through, in the order they arrive, each JSON record as one readable line (or as
the child wrote it, with `json_lines`). Every record also goes to `on_record` (the panel),
shown or not.
"""

import json
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from microservicios.telemetry.logs import LogRecord, is_error, one_line, readable_line


def parse_record(line: str) -> LogRecord | None:
    """A child's JSON log line as a record; None for any other line (an error message)."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or "event" not in record:
        return None
    return record


def as_readable(line: str) -> str:
    """A child's JSON log line as a terminal line; any other line (an error) as it is,
    its control characters escaped (a traceback may quote a client's path)."""
    record = parse_record(line)
    return escaped(line) if record is None else readable_line(record) + "\n"


def escaped(line: str) -> str:
    """A line that is not a record, with its control characters shown escaped."""
    return one_line(line.rstrip("\r\n")) + "\n"


class HeldOutput:
    def __init__(
        self,
        target: IO[str] | None = None,
        *,
        hold: bool = True,
        quiet: bool = False,
        json_lines: bool = False,
        on_record: Callable[[LogRecord], None] | None = None,
    ) -> None:
        self._target = target
        self._held: list[str] = []
        self._released = not hold
        self._quiet = quiet  # show only errors (and lines that are not records)
        self._json_lines = json_lines  # records as the child wrote them, not readable
        self._on_record = on_record
        self._lock = threading.Lock()

    def follow(self, stream: IO[bytes]) -> None:
        """Read `stream` (a child's stderr) to its end on a daemon thread."""
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def release(self) -> None:
        """Write what was held, and let every later line through at once."""
        with self._lock:
            self._released = True
            self._write(self._held)
            self._held.clear()

    def _pump(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace")
            record = parse_record(text)
            if record is not None and self._on_record is not None:
                self._on_record(record)
            if record is not None and self._quiet and not is_error(record):
                continue
            if record is None:  # an error message
                line = escaped(text)
            else:
                line = text if self._json_lines else readable_line(record) + "\n"
            with self._lock:
                if self._released:
                    self._write([line])
                else:
                    self._held.append(line)

    def _write(self, lines: list[Any]) -> None:
        target = self._target or sys.stderr
        target.writelines(lines)
        target.flush()
