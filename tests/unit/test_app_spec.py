"""`build_app`: one `AppSpec` describes an app, given whole or as keyword arguments."""

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from microservicios.common.breaker import BreakerConfig
from microservicios.common.service_app import AppSpec, build_app
from microservicios.common.settings import Settings

extra = APIRouter()


@extra.get("/extra")
async def extra_route() -> dict[str, str]:
    return {"from": "extra"}


def spec(settings: Settings) -> AppSpec:
    return AppSpec(service="users", title="Users Service", description="d", settings=settings)


def test_the_keyword_form_builds_the_same_app_as_a_spec(settings):
    """Lab 6's `build_app(service=..., title=..., ...)` gives what `build_app(spec)` gives."""
    by_spec = build_app(spec(settings))
    by_keywords = build_app(
        service="users", title="Users Service", description="d", settings=settings
    )
    assert (by_keywords.title, by_keywords.description) == (by_spec.title, by_spec.description)
    with TestClient(by_keywords) as client:
        assert client.get("/health").json()["service"] == "users"


def test_options_replace_fields_of_the_spec(settings, log_records):
    """The cluster's and the labs' options (log sinks, routers) reach the app built from a spec."""
    app = build_app(spec(settings), log_sinks=[log_records.append], routers=(extra,))
    with TestClient(app) as client:
        assert client.get("/extra").json() == {"from": "extra"}
    assert any(record["event"] == "service.started" for record in log_records)


def test_an_unknown_field_is_refused_by_name(settings):
    """A misspelt option is a TypeError naming it, in Spanish, not silently ignored."""
    with pytest.raises(TypeError, match="build_app no tiene el parámetro 'log_sink'"):
        build_app(spec(settings), log_sink=[])
    with pytest.raises(TypeError, match="'log_sink'"):
        build_app(service="users", title="t", description="d", settings=settings, log_sink=[])


def test_a_hand_made_breaker_config_has_the_settings_defaults():
    """Lab 3's `BreakerConfig()` and a cluster's breakers start from the same values."""
    assert BreakerConfig() == BreakerConfig.from_settings(Settings(_env_file=None))
