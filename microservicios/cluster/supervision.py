"""How the `--processes` launcher keeps its children up: a dead child is started again,
after a wait that doubles each time it dies soon after starting."""

import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass

FIRST_DELAY_S = 0.5  # the wait before restarting a child that died; it doubles each time...
MAX_DELAY_S = 10.0  # ...up to this,
STABLE_AFTER_S = 30.0  # and is back to FIRST_DELAY_S for a child that had run this long


@dataclass(frozen=True)
class ChildExit:
    """A child that ended without being asked to, and the wait before it is started again."""

    service: str
    pid: int
    returncode: int  # negative on Linux and macOS: killed by that signal
    restart_in: float

    def message(self) -> str:
        """The line the launcher prints about it, in Spanish."""
        try:
            cause = f"señal {signal.Signals(-self.returncode).name}"
        except ValueError:
            cause = f"código {self.returncode}"
        return (
            f"El servicio '{self.service}' (pid {self.pid}) terminó inesperadamente ({cause}); "
            f"lo reinicio en {self.restart_in:g} s."
        )


@dataclass
class Child:
    """A service's current process, and when to start it again if it died."""

    process: subprocess.Popen
    started_at: float
    delay: float = FIRST_DELAY_S
    restart_at: float | None = None  # set while it is dead and waiting to be restarted
    held_down: bool = False  # killed on purpose (kill()): not restarted until revive()
    answered: bool = False  # this process has answered /health (it is not just starting)

    def schedule_restart(self, name: str, now: float) -> ChildExit:
        """Back off: each quick death doubles the wait, so a child that cannot start (its
        port taken, a bug in its code) costs a restart every few seconds, not a busy loop."""
        if now - self.started_at >= STABLE_AFTER_S:
            self.delay = FIRST_DELAY_S
        self.restart_at = now + self.delay
        if self.process.stdin is not None:  # our end of the dead child's pipe (see child.py)
            self.process.stdin.close()
        died = ChildExit(name, self.process.pid, self.process.returncode, self.delay)
        self.delay = min(self.delay * 2, MAX_DELAY_S)
        return died


def stop_processes(processes: Iterable[subprocess.Popen], timeout_s: float) -> None:
    """Ask every process to stop at once (SIGTERM: graceful on Linux and macOS), give them
    `timeout_s` in all, kill those still running, and close our end of their stdin."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdin is not None:
            process.stdin.close()
