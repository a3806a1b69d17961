"""The in-process cluster: `Cluster` and its CLI (`python -m microservicios.cluster`)."""

from microservicios.cluster.cluster import Cluster
from microservicios.cluster.runner import ClusterError

__all__ = ["Cluster", "ClusterError"]
