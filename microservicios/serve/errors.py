"""The errors of starting and running this system's apps, each with its Spanish message.

`ClusterError` is the one students meet (`microservicios.ClusterError`): raised by a
cluster, by the panel's actions and by serving one app, which is where most of them start.
"""


class ClusterError(RuntimeError):
    """The cluster cannot do what was asked; the message says why, in Spanish."""


class PortUnavailableError(ClusterError):
    """A service's port cannot be opened; `fix` is what to do about it, for who reads it."""

    def __init__(self, service: str, port: int, reason: str) -> None:
        self.service, self.port, self.reason = service, port, reason
        super().__init__(self.message())

    def message(self, fix: str = "usá Cluster(ports='auto')") -> str:
        return (
            f"No se pudo abrir el puerto {self.port} para el servicio '{self.service}': "
            f"{self.reason}. Cerrá el programa que lo usa, o {fix}."
        )
