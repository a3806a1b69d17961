"""What the panel needs from a cluster, in threads mode (`Cluster`) or `--processes` mode."""

from typing import Any, Protocol

from microservicios.common.faults import Faults


class PanelSource(Protocol):
    """A running cluster the panel can watch and act on; errors are `ClusterError`s."""

    names: tuple[str, ...]
    marks: list[dict[str, Any]]  # kill/revive/inject/heal with their epoch time, "at"

    def urls(self) -> dict[str, str]: ...

    def status(self) -> dict[str, bool]: ...

    def kill(self, name: str) -> None: ...

    def revive(self, name: str) -> None: ...

    def inject_faults(self, name: str, faults: Faults) -> Faults:
        """Give one service these faults (every field of `Faults`: latency, jitter,
        error_rate, status, hang, drop_rate), which the panel has checked already."""
        ...

    def heal(self, name: str) -> None: ...
