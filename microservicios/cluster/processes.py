"""`--processes` mode: each service as its own uvicorn process, as the seed's run.ps1 did.

Works the same on Linux, macOS and Windows: the children are plain `python -m uvicorn`.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from microservicios.cluster.runner import (
    START_TIMEOUT_S,
    ClusterError,
    bind_socket,
    wait_until_healthy,
)
from microservicios.common.registry import SERVICES, ServiceRegistry

HEALTH_TIMEOUT_S = 30.0


class ProcessCluster:
    """Starts one uvicorn process per service and stops them all."""

    def __init__(
        self,
        ports: dict[str, int],
        data_dir: Path,
        host: str = "127.0.0.1",
        quiet: bool = False,
        registry: ServiceRegistry = SERVICES,
    ) -> None:
        self.host = host
        self.quiet = quiet
        self.data_dir = data_dir
        self.registry = registry
        self.factories = self._import_paths(registry)
        self.ports = self._resolve(ports)
        self._processes: dict[str, subprocess.Popen] = {}

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
        if self.quiet:
            env["LOG_LEVEL"] = "ERROR"
        # Every service learns where every other one listens, by name (see Settings).
        for name in self.ports:
            env[f"{name.upper()}_SERVICE_URL"] = self.url(name)
        return env

    def start(self) -> None:
        env = self.environment()
        for name in self.registry.names:
            command = [
                sys.executable, "-m", "uvicorn", self.factories[name],
                "--factory", "--host", self.host, "--port", str(self.ports[name]),
                "--log-level", "warning",
            ]  # fmt: skip
            self._processes[name] = subprocess.Popen(command, env=env)
        deadline = time.monotonic() + max(HEALTH_TIMEOUT_S, START_TIMEOUT_S)
        try:
            for name in self.registry.names:
                self._wait_healthy(name, deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, name: str, deadline: float) -> None:
        process = self._processes[name]

        def still_starting() -> None:
            if process.poll() is not None:
                raise ClusterError(
                    f"El proceso de '{name}' (puerto {self.ports[name]}) terminó al arrancar "
                    f"(código {process.returncode}); mirá su error arriba."
                )

        wait_until_healthy(name, self.host, self.ports[name], deadline, still_starting, poll=0.1)

    def stop(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
