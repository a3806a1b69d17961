"""microservicios: a teaching lab of microservice patterns, runnable in one Python process."""

from microservicios.cluster import Cluster, ClusterError

__all__ = ["Cluster", "ClusterError"]
