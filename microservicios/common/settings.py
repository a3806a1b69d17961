"""Settings for every app, read from environment variables and an optional `.env` file.

Settings are built at the edges (the CLI, a `Cluster`, a test fixture) and passed
down to `create_app(settings)`; no module keeps a global copy.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from microservicios.common.registry import GATEWAY, SERVICES
from microservicios.database.urls import service_database_url

DEFAULT_SECRET = "dev-secret"
URL_VARIABLE_SUFFIX = "_service_url"


def default_service_urls() -> dict[str, str]:
    """Every registered service on loopback, at its classic port."""
    return {entry.name: f"http://127.0.0.1:{entry.port}" for entry in SERVICES if entry.port}


def _variables_of(source: PydanticBaseSettingsSource) -> Mapping[str, str | None]:
    """The variables an environment or .env source read (a .env source is one too)."""
    return source.env_vars if isinstance(source, EnvSettingsSource) else {}


class ServiceUrlVariables(PydanticBaseSettingsSource):
    """`<NAME>_SERVICE_URL` variables (environment or `.env`) become `service_urls[name]`.

    USERS_SERVICE_URL, ITEMS_SERVICE_URL and ORDERS_SERVICE_URL keep working, and a new
    service needs no new settings field: NOTIFICATIONS_SERVICE_URL is read the same way.
    """

    def __init__(self, settings_cls: type[BaseSettings], *sources: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._sources = sources  # lowest priority first

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ gives the whole mapping

    def __call__(self) -> dict[str, Any]:
        urls = {}
        for source in self._sources:
            for variable, value in source.items():
                name = variable.lower().removesuffix(URL_VARIABLE_SUFFIX)
                if variable.lower().endswith(URL_VARIABLE_SUFFIX) and name and value:
                    urls[name] = value
        return {"service_urls": urls} if urls else {}


class Settings(BaseSettings):
    """Configuration shared by the gateway and the three services."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    service_secret: SecretStr = SecretStr(DEFAULT_SECRET)
    # Where each service listens, by name: the registry's classic ports unless overridden,
    # e.g. with USERS_SERVICE_URL=http://10.0.0.5:8001 (see ServiceUrlVariables).
    service_urls: dict[str, str] = Field(default_factory=default_service_urls)

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

    # How long a server keeps an idle keep-alive connection open. Clients drop their idle
    # pooled connections well before (client_keepalive_timeout), so a request is never sent
    # on a connection the server is closing at that very moment.
    server_keepalive_timeout: float = Field(default=5.0, gt=0)

    # Request limits of every app (see common/limits.py).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    max_header_count: int = Field(default=100, ge=1)
    max_header_bytes: int = Field(default=32 * 1024, ge=1)
    body_timeout: float = Field(default=10.0, gt=0)
    header_timeout: float = Field(default=10.0, gt=0)  # to send a request's headers
    max_in_flight: int = Field(default=512, ge=1)

    retry_max_attempts: int = Field(default=3, ge=1, le=10)
    retry_base_delay: float = Field(default=0.05, ge=0)
    retry_max_delay: float = Field(default=0.5, ge=0)
    retry_after_cap: float = Field(default=1.0, ge=0)

    # Retries may add at most this fraction to a client's requests over the window (plus a
    # small reserve): a storm cannot multiply load (see common/retry_budget.py).
    retry_budget_ratio: float = Field(default=0.2, ge=0)
    retry_budget_min: int = Field(default=10, ge=0)
    retry_budget_window: float = Field(default=10.0, gt=0)

    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_timeout: float = Field(default=5.0, gt=0)
    breaker_half_open_max_calls: int = Field(default=1, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        url_variables = ServiceUrlVariables(
            settings_cls, _variables_of(dotenv_settings), _variables_of(env_settings)
        )
        # Earlier sources win: arguments, then the environment, then .env.
        return init_settings, env_settings, url_variables, dotenv_settings, file_secret_settings

    @classmethod
    def default_for(cls, name: str) -> Any:
        """The value of setting `name` when nothing sets it, for a part built without a
        `Settings` (a lab's hand-made `BreakerConfig()`, the panel's server)."""
        return cls.model_fields[name].get_default(call_default_factory=True)

    @field_validator("service_urls")
    @classmethod
    def _complete_service_urls(cls, urls: dict[str, str]) -> dict[str, str]:
        """The defaults for services not named, and no trailing slash on any URL."""
        return {name: url.rstrip("/") for name, url in {**default_service_urls(), **urls}.items()}

    @field_validator("users_database_url", "items_database_url", "orders_database_url")
    @classmethod
    def _usable_database_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        """`postgresql://…` and the other usual spellings mean asyncpg; a URL the services
        cannot use is refused here, so every command says the same line about it."""
        if not url:
            return url
        return service_database_url(url, str(info.field_name).upper())

    def service_url(self, service: str) -> str:
        """Base URL (no trailing slash) where `service` listens."""
        try:
            return self.service_urls[service]
        except KeyError:
            raise ValueError(f"Servicio desconocido: '{service}'.") from None

    @property
    def routed_services(self) -> tuple[str, ...]:
        """The services the gateway forwards to, by the first segment of the path."""
        return tuple(name for name in self.service_urls if name != GATEWAY)

    def database_url(self, service: str) -> str:
        """SQLAlchemy URL of `service`'s own database: the override, or a file in data_dir."""
        override = getattr(self, f"{service}_database_url", None)
        return override or f"sqlite:///{(self.data_dir / f'{service}.db').as_posix()}"

    @property
    def client_keepalive_timeout(self) -> float:
        """Idle seconds after which a client discards a pooled connection: half the server's,
        a margin wide enough for a busy event loop."""
        return self.server_keepalive_timeout / 2

    @property
    def pending_order_timeout(self) -> float:
        """Seconds after which a PENDING order cannot still be in flight: its two calls (users,
        items) end by their deadlines; the margin covers a busy machine. Older ones are
        recovered (see orders/saga.py)."""
        return 2 * self.http_deadline + 3.0

    @property
    def secret_configured(self) -> bool:
        """Whether SERVICE_SECRET was given (argument, environment or .env), not defaulted."""
        return "service_secret" in self.model_fields_set
