"""The errors of a call to another service, said once where they happen (`client.py`) and
answered by every app as a 503 with Retry-After (`common/web/handlers.py`)."""

# Nobody knows when a dependency that did not answer will be back: one second, the shortest
# wait a whole-second Retry-After can say. An open breaker knows better (its cool-down).
UNKNOWN_RETRY_AFTER = 1.0


class ServiceUnavailableError(Exception):
    """A dependency could not be reached or did not answer in time; `retry_after` is how
    many seconds the client should wait before trying again."""

    def __init__(self, service: str, reason: str, retry_after: float = UNKNOWN_RETRY_AFTER) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.retry_after = retry_after


class CircuitOpenError(ServiceUnavailableError):
    """The circuit to a dependency is open: the call was refused without being sent."""

    def __init__(self, service: str, retry_after: float) -> None:
        super().__init__(
            service, "demasiados fallos seguidos, el circuito está abierto", retry_after
        )
