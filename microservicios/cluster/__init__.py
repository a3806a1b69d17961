"""The in-process cluster: `Cluster` and its CLI (`python -m microservicios.cluster`)."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from microservicios.cluster.cluster import Cluster
    from microservicios.serve.errors import ClusterError

__all__ = ["Cluster", "ClusterError"]


def __getattr__(name: str) -> Any:
    """Import on first use, so `python -m microservicios.cluster` can catch an early Ctrl-C."""
    if name == "Cluster":
        from microservicios.cluster.cluster import Cluster

        return Cluster
    if name == "ClusterError":
        from microservicios.serve.errors import ClusterError

        return ClusterError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
