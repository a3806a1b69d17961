"""`--processes` mode: each service as its own uvicorn process, as the seed's run.ps1 did.

Works the same on Linux, macOS and Windows: each child is uvicorn started by `child.py`,
which also makes it exit when the launcher is gone. The launcher supervises its children:
`supervise()`, called a few times a second, restarts one that died, waiting longer each time.
"""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from microservicios.cluster.base import BaseCluster
from microservicios.cluster.held_output import HeldOutput
from microservicios.cluster.remote_faults import send_faults
from microservicios.cluster.supervision import Child, ChildExit, stop_processes
from microservicios.common.faults import Faults
from microservicios.common.registry import SERVICES, ServiceRegistry
from microservicios.common.secrets import random_secret
from microservicios.common.settings import Settings
from microservicios.serve.runner import (
    START_TIMEOUT_S,
    ClusterError,
    answers_health,
    bind_socket,
    wait_until_healthy,
)
from microservicios.telemetry.logs import LogSink

HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class ProcessCluster(BaseCluster):
    """Starts one uvicorn process per service, restarts one that dies, and stops them all."""

    title = "Cluster en marcha (un proceso por servicio)"

    def __init__(
        self,
        ports: dict[str, int],
        data_dir: Path,
        host: str = "127.0.0.1",
        quiet: bool = False,
        registry: ServiceRegistry = SERVICES,
        hold_output: bool = False,
        json_logs: bool = False,
        panel: bool = False,
        announce: Callable[[str], None] = lambda line: None,
    ) -> None:
        super().__init__(registry, data_dir, host=host, panel=panel)
        # Where to tell a person about a process that changed (the CLI prints it): the
        # table's PIDs are stale after a restart, and `kill -9 <PID>` is part of the lesson.
        self._announce = announce
        self.quiet = quiet
        # The CLI holds the children's logs until its table is out (release_output()), and
        # shows them readable unless `json_logs`; the panel reads them as records.
        self._held = None
        if hold_output or panel:
            self._held = HeldOutput(
                hold=hold_output,
                quiet=quiet,
                json_lines=json_logs,
                on_record=self._panel.activity if self._panel else None,
            )
        self.factories = self._import_paths(registry)
        self.ports = self._resolve(ports)
        self._children: dict[str, Child] = {}
        # supervise() runs on the launcher's thread; kill() and revive() on the panel's.
        self._lock = threading.RLock()
        # Nobody chose a secret: one of this run's own, shared by the children (restarts too).
        self._secret = None if Settings().secret_configured else random_secret()

    @staticmethod
    def _import_paths(registry: ServiceRegistry) -> dict[str, str]:
        """Each service's factory as "module:function", for uvicorn in the child process."""
        try:
            return {entry.name: entry.import_path for entry in registry}
        except ValueError as exc:
            raise ClusterError(str(exc)) from None

    def _resolve(self, ports: dict[str, int]) -> dict[str, int]:
        # Port 0 means "any free port": ask the OS now, then hand that number to uvicorn.
        resolved = {}
        for name, port in ports.items():
            sock = bind_socket(self.host, port, name)
            resolved[name] = sock.getsockname()[1]
            sock.close()
        return resolved

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DATA_DIR"] = str(self.data_dir)
        if self._secret is not None:
            env["SERVICE_SECRET"] = self._secret
        if self.quiet and self._panel is None:  # the panel needs the records
            env["LOG_LEVEL"] = "ERROR"
        # Every service learns where every other one listens, by name (see Settings).
        for name in self.ports:
            env[f"{name.upper()}_SERVICE_URL"] = self.url(name)
        return env

    def start(self) -> Self:
        """Start every service; returns once each answers /health."""
        deadline = time.monotonic() + max(HEALTH_TIMEOUT_S, START_TIMEOUT_S)
        try:
            for name in self.names:
                self._children[name] = Child(self._spawn(name), started_at=time.monotonic())
            for name in self.names:
                self._wait_healthy(name, deadline)
                self._children[name].answered = True
            if self._panel is not None:
                self._panel.start()
        except BaseException:
            self.stop()
            self.release_output()  # a child's error message explains the failed start
            raise
        return self

    def show_logs(self, echo: LogSink | None) -> None:
        """Let the children's held log lines through: each writes its own, so not to `echo`."""
        self.release_output()

    def release_output(self) -> None:
        """Let the children's held log lines through (no-op unless `hold_output`)."""
        if self._held is not None:
            self._held.release()

    def _spawn(self, name: str) -> subprocess.Popen:
        """Start `name`'s process, with a stdin only we hold: it exits when we are gone."""
        command = [
            sys.executable, "-m", "microservicios.cluster.child",
            self.factories[name], self.host, str(self.ports[name]),
        ]  # fmt: skip
        if self._held is None:
            return subprocess.Popen(command, env=self.environment(), stdin=subprocess.PIPE)
        process = subprocess.Popen(
            command, env=self.environment(), stdin=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert process.stderr is not None  # stderr=PIPE
        self._held.follow(process.stderr)
        return process

    def _wait_healthy(self, name: str, deadline: float) -> None:
        process = self._children[name].process

        def still_starting() -> None:
            if process.poll() is not None:
                raise ClusterError(
                    f"El proceso de '{name}' (puerto {self.ports[name]}) terminó al arrancar "
                    f"(código {process.returncode}); mirá su error arriba."
                )

        wait_until_healthy(name, self.host, self.ports[name], deadline, still_starting, poll=0.1)

    def supervise(self) -> list[ChildExit]:
        """One look at every child, without blocking: note the ones that died since the last
        look (returned, to be reported) and restart those whose wait is over."""
        now = time.monotonic()
        exits = []
        with self._lock:
            for name, child in self._children.items():
                if child.held_down:
                    continue
                if child.restart_at is None and child.process.poll() is not None:
                    exits.append(child.schedule_restart(name, now))
                elif child.restart_at is not None and now >= child.restart_at:
                    child.process = self._spawn(name)
                    child.started_at, child.restart_at, child.answered = now, None, False
                    self._announce_started(name, child)
        return exits

    # --- what the panel does (inject and heal, in BaseCluster, call _set_faults) -------

    def kill(self, name: str) -> None:
        """Kill a service's process at once (no goodbye), and keep it down until revive()."""
        with self._lock:
            child = self._child(name)
            if child.held_down:
                raise ClusterError(f"El servicio '{name}' ya está apagado.")
            child.held_down, child.restart_at = True, None
            child.process.kill()
            child.process.wait()
            assert child.process.stdin is not None  # stdin=PIPE, see _spawn
            child.process.stdin.close()
        pid = child.process.pid
        self._announce(f"El servicio '{name}' (pid {pid}) fue apagado; queda así hasta revivirlo.")
        self._mark(name, "kill")

    def revive(self, name: str) -> None:
        """Start a killed service's process again; returns once it answers /health."""
        with self._lock:
            child = self._child(name)
            if not child.held_down:
                raise ClusterError(f"El servicio '{name}' ya está en marcha.")
            child.process = self._spawn(name)
            child.started_at, child.held_down, child.answered = time.monotonic(), False, False
        self._wait_healthy(name, time.monotonic() + HEALTH_TIMEOUT_S)
        child.answered = True
        self._announce_started(name, child)
        self._mark(name, "revive")

    def _set_faults(self, name: str, faults: Faults | None) -> None:
        """Through the service's token-protected fault route (see remote_faults.py)."""
        self._child(name)  # a known service
        send_faults(name, self.url(name), self._service_secret(), faults)

    def _child(self, name: str) -> Child:
        if name not in self._children:
            raise self._unknown_service(name)
        return self._children[name]

    def _service_secret(self) -> str:
        return self._secret or Settings().service_secret.get_secret_value()

    def _announce_started(self, name: str, child: Child) -> None:
        self._announce(f"El servicio '{name}' arrancó de nuevo (pid {child.process.pid}).")

    def status(self) -> dict[str, bool]:
        """Which services are up: their process runs and has answered /health since it
        started (a process still importing, or not yet listening, is not up)."""
        with self._lock:
            children = dict(self._children)
        return {name: self._is_up(name, child) for name, child in children.items()}

    def _is_up(self, name: str, child: Child) -> bool:
        process = child.process
        if child.held_down or process.poll() is not None:
            return False
        if not child.answered and answers_health(self.host, self.ports[name]):
            # Restarted by the supervisor: it counts as up once it has answered.
            child.answered = child.process is process
        return child.answered

    def pids(self) -> dict[str, int]:
        """Each service's process id (of its latest process, if it is waiting for a restart)."""
        return {name: child.process.pid for name, child in self._children.items()}

    def stop(self) -> None:
        """Stop every child: terminate (a graceful SIGTERM on Linux and macOS), then kill
        those still running after STOP_TIMEOUT_S."""
        if self._panel is not None:
            self._panel.stop()
        with self._lock:
            processes = [child.process for child in self._children.values()]
            self._children.clear()  # first, so that nothing restarts them
        stop_processes(processes, STOP_TIMEOUT_S)
