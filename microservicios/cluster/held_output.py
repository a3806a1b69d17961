"""The children's log lines, held until the launcher has printed its table, and made readable.

With `--processes` each service writes its JSON log lines to stderr from the moment it
starts, which would bury the table a student needs first. The launcher reads each child's
stderr on a small thread and keeps the lines until `release()`; from then on they pass
straight through, in the order they arrive, each JSON record as one readable line.
"""

import json
import sys
import threading
from typing import IO, Any

from microservicios.common.logs import readable_line


def as_readable(line: str) -> str:
    """A child's JSON log line as a terminal line; any other line (an error) as it is."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "event" not in record:
        return line
    return readable_line(record) + "\n"


class HeldOutput:
    def __init__(self, target: IO[str] | None = None) -> None:
        self._target = target
        self._held: list[str] = []
        self._released = False
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
            line = as_readable(raw.decode("utf-8", errors="replace"))
            with self._lock:
                if self._released:
                    self._write([line])
                else:
                    self._held.append(line)

    def _write(self, lines: list[Any]) -> None:
        target = self._target or sys.stderr
        target.writelines(lines)
        target.flush()
