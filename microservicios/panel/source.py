"""What the panel needs from a cluster, in threads mode (`Cluster`) or `--processes` mode."""

from typing import Any, Protocol


class PanelSource(Protocol):
    """A running cluster the panel can watch and act on; errors are `ClusterError`s."""

    names: tuple[str, ...]
    marks: list[dict[str, Any]]  # kill/revive/inject/heal with their epoch time, "at"

    def urls(self) -> dict[str, str]: ...

    def status(self) -> dict[str, bool]: ...

    def kill(self, name: str) -> None: ...

    def revive(self, name: str) -> None: ...

    def inject(
        self, name: str, *, latency: float, error_rate: float, status: int, hang: bool
    ) -> Any: ...

    def heal(self, name: str) -> None: ...
