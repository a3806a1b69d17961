"""Settings for every app, read from environment variables and an optional `.env` file.

Settings are built at the edges (the CLI, a `Cluster`, a test fixture) and passed
down to `create_app(settings)`; no module keeps a global copy.
"""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-secret"
SERVICE_NAMES = ("gateway", "users", "items", "orders")
BACKEND_NAMES = ("users", "items", "orders")
DEFAULT_PORTS = {"gateway": 8080, "users": 8001, "items": 8002, "orders": 8003}


class Settings(BaseSettings):
    """Configuration shared by the gateway and the three services."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    service_secret: SecretStr = SecretStr(DEFAULT_SECRET)
    users_service_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['users']}"
    items_service_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['items']}"
    orders_service_url: str = f"http://127.0.0.1:{DEFAULT_PORTS['orders']}"
    # More services behind the gateway (lab 6): {"notifications": "http://127.0.0.1:8004"}.
    # As an environment variable, JSON: EXTRA_SERVICE_URLS='{"notifications": "http://..."}'
    extra_service_urls: dict[str, str] = Field(default_factory=dict)

    data_dir: Path = Path("data")
    users_database_url: str | None = None
    items_database_url: str | None = None
    orders_database_url: str | None = None

    log_level: str = "INFO"

    # Outgoing calls: small enough that a dead dependency is reported in well under a second.
    http_connect_timeout: float = Field(default=1.0, gt=0)
    http_attempt_timeout: float = Field(default=1.0, gt=0)
    http_deadline: float = Field(default=2.0, gt=0)
    # The gateway waits longer than the services it calls wait for theirs: an outer timeout
    # shorter than the inner ones would give up on answers that are still on their way.
    gateway_timeout: float = Field(default=5.0, gt=0)

    retry_max_attempts: int = Field(default=3, ge=1, le=10)
    retry_base_delay: float = Field(default=0.05, ge=0)
    retry_max_delay: float = Field(default=0.5, ge=0)
    retry_after_cap: float = Field(default=1.0, ge=0)

    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_timeout: float = Field(default=5.0, gt=0)
    breaker_half_open_max_calls: int = Field(default=1, ge=1)

    @field_validator("users_service_url", "items_service_url", "orders_service_url")
    @classmethod
    def _strip_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    def service_url(self, service: str) -> str:
        """Base URL (no trailing slash) where `service` listens."""
        if service in SERVICE_NAMES:
            return getattr(self, f"{service}_service_url")
        if service in self.extra_service_urls:
            return self.extra_service_urls[service].rstrip("/")
        raise ValueError(f"Servicio desconocido: '{service}'.")

    @property
    def routed_services(self) -> tuple[str, ...]:
        """The services the gateway forwards to, by the first segment of the path."""
        return BACKEND_NAMES + tuple(self.extra_service_urls)

    def database_url(self, service: str) -> str:
        """SQLAlchemy URL of `service`'s own database: the override, or a file in data_dir."""
        override = getattr(self, f"{service}_database_url", None)
        return override or f"sqlite:///{(self.data_dir / f'{service}.db').as_posix()}"

    @property
    def uses_default_secret(self) -> bool:
        return self.service_secret.get_secret_value() == DEFAULT_SECRET
