"""The bounds of one app's requests (`RequestLimits`), from its Settings; enforced before
any route runs by `RequestGuard` (`common/web/request_guard.py`)."""

from dataclasses import dataclass

from microservicios.common.settings import Settings


@dataclass(frozen=True)
class RequestLimits:
    """The bounds of one app's requests."""

    max_body_bytes: int
    max_header_count: int
    max_header_bytes: int
    body_timeout: float  # seconds to receive the whole body
    max_in_flight: int  # requests being served at once

    @classmethod
    def from_settings(cls, settings: Settings) -> "RequestLimits":
        return cls(
            max_body_bytes=settings.max_body_bytes,
            max_header_count=settings.max_header_count,
            max_header_bytes=settings.max_header_bytes,
            body_timeout=settings.body_timeout,
            max_in_flight=settings.max_in_flight,
        )
