"""What a student has done so far: passed labs and hints seen, in labs/.progreso.json."""

import json
from pathlib import Path

PROGRESS_FILE = ".progreso.json"


class Progress:
    def __init__(self, labs_dir: Path) -> None:
        self.path = labs_dir / PROGRESS_FILE
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self.done: set[int] = set(data.get("done", []))
        self.hints_seen: dict[str, int] = dict(data.get("hints", {}))

    def mark(self, number: int, passed: bool) -> None:
        (self.done.add if passed else self.done.discard)(number)
        self.save()

    def next_hint(self, number: int, available: int) -> tuple[int, bool]:
        """Index of the hint to show now, and whether all `available` had been seen already
        (then it is the last one again)."""
        seen = self.hints_seen.get(str(number), 0)
        self.hints_seen[str(number)] = min(seen + 1, available)
        self.save()
        return min(seen, available - 1), seen >= available

    def reset(self, number: int) -> None:
        self.done.discard(number)
        self.hints_seen.pop(str(number), None)
        self.save()

    def save(self) -> None:
        data = {"done": sorted(self.done), "hints": self.hints_seen}
        try:
            self.path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        except OSError:
            pass  # a read-only folder only loses the progress list, never the checks
