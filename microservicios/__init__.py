"""microservicios: a teaching lab of microservice patterns, runnable in one Python process."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from microservicios.cluster import Cluster, ClusterError

__all__ = ["Cluster", "ClusterError"]


def __getattr__(name: str) -> Any:
    """Import on first use, so `python -m microservicios.cluster` can catch an early Ctrl-C."""
    if name in __all__:
        import microservicios.cluster

        return getattr(microservicios.cluster, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
