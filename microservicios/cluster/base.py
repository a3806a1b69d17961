"""`BaseCluster`: what both ways of running the services share.

`Cluster` runs each service on a thread of this process; `ProcessCluster` (--processes) runs
each in a process of its own. Each one says only how it starts, stops, kills and revives a
service and how it reaches a service's faults. The marks, the live panel and the checking of
faults live here, once, and the CLI and the panel use either mode through these methods.
"""

import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Self

from microservicios.cluster.supervision import ChildExit
from microservicios.common.faults import Faults, InvalidFaultsError, checked_faults
from microservicios.common.registry import ServiceRegistry
from microservicios.panel import Panel
from microservicios.serve.errors import ClusterError
from microservicios.telemetry.logs import LogSink


class BaseCluster(ABC):
    """The services of one run, in either mode, and the live panel that watches them."""

    title = "Cluster en marcha"  # the line the CLI prints above its table

    def __init__(
        self, registry: ServiceRegistry, data_dir: Path, *, host: str, panel: bool
    ) -> None:
        self.registry = registry
        self.names = registry.names  # in start order: the gateway last
        self.data_dir = data_dir
        self.host = host
        # kill/revive/inject/heal, with wall-clock times, to mark them on timelines.
        self.marks: list[dict[str, Any]] = []
        # The live panel (see panel_url()); it learns what happens from the log records.
        self._panel = Panel(self, host=host) if panel else None

    # --- what each mode does its own way -------------------------------------------

    @abstractmethod
    def start(self) -> Self:
        """Start every service; returns once each answers /health."""

    @abstractmethod
    def stop(self) -> None:
        """Stop every service, and the panel."""

    @abstractmethod
    def kill(self, name: str) -> None:
        """Stop one service abruptly; it stays down until revive()."""

    @abstractmethod
    def revive(self, name: str) -> None:
        """Start a killed service again; returns once it answers /health."""

    @abstractmethod
    def url(self, name: str) -> str:
        """Where one service listens."""

    @abstractmethod
    def status(self) -> dict[str, bool]:
        """Which services are up right now."""

    @abstractmethod
    def show_logs(self, echo: LogSink | None) -> None:
        """Start showing the services' logs (on `echo`, if it is the cluster that writes
        them), once the CLI's table is out."""

    @abstractmethod
    def _set_faults(self, name: str, faults: Faults | None) -> None:
        """Give one service these faults, already checked (None: no faults at all)."""

    # --- faults --------------------------------------------------------------------

    def inject(
        self,
        name: str,
        *,
        latency: float = 0.0,
        error_rate: float = 0.0,
        status: int = 503,
        hang: bool = False,
        jitter: float = 0.0,
        drop_rate: float = 0.0,
    ) -> Faults:
        """Make one service slow (latency s, plus up to jitter s at random), flaky (error_rate
        with status), hang, or leave a fraction of requests unanswered (drop_rate)."""
        fields = dict(latency=latency, jitter=jitter, error_rate=error_rate, status=status)
        try:
            faults = checked_faults({**fields, "hang": hang, "drop_rate": drop_rate})
        except InvalidFaultsError as exc:
            raise ClusterError(str(exc)) from None
        return self.inject_faults(name, faults)

    def inject_faults(self, name: str, faults: Faults) -> Faults:
        """Inject faults that are a `Faults` already, so checked (the panel's)."""
        self._set_faults(name, faults)
        self._mark(name, "inject", **faults.model_dump())
        return faults

    def heal(self, name: str) -> None:
        """Remove the faults injected into one service (hung requests resume)."""
        self._set_faults(name, None)
        self._mark(name, "heal")

    # --- the live panel ------------------------------------------------------------

    @property
    def has_panel(self) -> bool:
        return self._panel is not None

    def panel_url(self) -> str:
        """The live panel's address, with its token: open it in a browser tab."""
        if self._panel is None:
            raise ClusterError("Este cluster se creó con panel=False.")
        if not self._panel.running:
            raise ClusterError("El cluster no está en marcha: llamá primero a start().")
        return self._panel.url

    def panel_thread_id(self) -> int | None:
        """The native id of the thread serving the panel (for the benchmark's CPU figure)."""
        return None if self._panel is None else self._panel.thread_id

    def panel(self, height: int = 720) -> Any:
        """The live panel inside the notebook (an IFrame in JupyterLab)."""
        try:
            from IPython.display import IFrame  # there in every notebook, not a dependency
        except ImportError:
            raise ClusterError(
                "cluster.panel() muestra el panel dentro de un notebook (instalá el extra "
                "notebooks: pip install -e '.[notebooks]'); fuera de uno, abrí "
                "cluster.panel_url() en el navegador."
            ) from None

        return IFrame(self.panel_url(), width="100%", height=height)

    # --- what the command line asks of either mode ----------------------------------

    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in self.names}

    def pids(self) -> dict[str, int] | None:
        """Each service's process id, when each has a process of its own (else None)."""
        return None

    def supervise(self) -> list[ChildExit]:
        """Restart the services that died, returning one report for each. Only processes
        are restarted; a thread that stopped stays down until revive()."""
        return []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- helpers -------------------------------------------------------------------

    def _mark(self, name: str, action: str, **details: Any) -> None:
        self.marks.append({"at": time.time(), "service": name, "action": action, **details})

    def _unknown_service(self, name: str) -> ClusterError:
        return ClusterError(f"Servicio desconocido: '{name}'. Válidos: {list(self.names)}.")
