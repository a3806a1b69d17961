"""Settings (database URLs, service URLs) and the cluster's port choice."""

import pytest

from microservicios import ClusterError
from microservicios.cluster.cluster import resolve_ports
from microservicios.common.registry import SERVICES
from microservicios.common.secrets import (
    UnsafeSecretError,
    check_secret,
    listening_host,
    uses_placeholder_secret,
)
from microservicios.common.settings import Settings
from tests.helpers import make_settings


def test_database_url_defaults_to_a_file_per_service_in_data_dir(settings, tmp_path):
    """Each service's database is <data_dir>/<service>.db."""
    assert settings.database_url("users") == f"sqlite:///{(tmp_path / 'users.db').as_posix()}"
    assert settings.database_url("orders") == f"sqlite:///{(tmp_path / 'orders.db').as_posix()}"


def test_database_url_env_override_applies_to_its_service_only(monkeypatch, tmp_path):
    """USERS_DATABASE_URL replaces the users database and nothing else."""
    monkeypatch.setenv("USERS_DATABASE_URL", "sqlite:///:memory:")
    settings = make_settings(tmp_path)
    assert settings.database_url("users") == "sqlite:///:memory:"
    assert settings.database_url("items") == f"sqlite:///{(tmp_path / 'items.db').as_posix()}"


def test_service_url_has_no_trailing_slash(tmp_path):
    """A configured URL ending in '/' is stored without it."""
    settings = make_settings(tmp_path, service_urls={"users": "http://127.0.0.1:8001///"})
    assert settings.service_url("users") == "http://127.0.0.1:8001"


def test_service_url_variables_fill_the_mapping(monkeypatch, tmp_path):
    """USERS_SERVICE_URL still works, and any <NAME>_SERVICE_URL adds a routed service."""
    monkeypatch.setenv("USERS_SERVICE_URL", "http://10.1.2.3:9001/")
    monkeypatch.setenv("NOTIFICATIONS_SERVICE_URL", "http://127.0.0.1:8004")
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.service_url("users") == "http://10.1.2.3:9001"
    assert settings.service_url("items") == "http://127.0.0.1:8002"
    assert settings.service_url("notifications") == "http://127.0.0.1:8004"
    assert settings.routed_services == ("users", "items", "orders", "notifications")


def test_service_url_variables_are_read_from_the_env_file(monkeypatch, tmp_path):
    """A .env file's ORDERS_SERVICE_URL counts, below a real environment variable."""
    env_file = tmp_path / "custom.env"
    env_file.write_text("ORDERS_SERVICE_URL=http://127.0.0.1:7003\nITEMS_SERVICE_URL=http://x:1\n")
    monkeypatch.setenv("ITEMS_SERVICE_URL", "http://127.0.0.1:7002")
    settings = Settings(_env_file=env_file)
    assert settings.service_url("orders") == "http://127.0.0.1:7003"
    assert settings.service_url("items") == "http://127.0.0.1:7002"


def test_default_secret_is_detected(settings, tmp_path):
    """The default 'dev-secret' and .env.example's placeholder are flagged; others are not."""
    assert uses_placeholder_secret(settings) is True
    placeholder = make_settings(tmp_path, service_secret="cambiame-por-un-secreto-largo")
    assert uses_placeholder_secret(placeholder) is True
    assert uses_placeholder_secret(make_settings(tmp_path, service_secret="other")) is False


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "mi-servidor", "::"])
def test_a_placeholder_secret_refuses_a_reachable_host(settings, host):
    """A well-known secret on a host other machines reach is refused, in Spanish."""
    with pytest.raises(UnsafeSecretError, match="SERVICE_SECRET"):
        check_secret(settings, host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_a_placeholder_secret_is_allowed_on_loopback(settings, host):
    """On loopback only this machine can call it: allowed (the app warns in its log)."""
    check_secret(settings, host)


def test_a_real_secret_is_allowed_anywhere(tmp_path):
    """A secret of one's own may listen anywhere."""
    check_secret(make_settings(tmp_path, service_secret="x" * 40), "0.0.0.0")


@pytest.mark.parametrize(
    ("argv", "host"),
    [
        (["uvicorn", "m:f", "--host", "0.0.0.0"], "0.0.0.0"),
        (["uvicorn", "m:f", "--host=10.1.1.1"], "10.1.1.1"),
        (["uvicorn", "m:f"], "127.0.0.1"),
    ],
)
def test_listening_host_reads_uvicorns_arguments(argv, host, monkeypatch):
    """The host a service alone listens on comes from uvicorn's --host (default loopback)."""
    monkeypatch.delenv("UVICORN_HOST", raising=False)
    assert listening_host(argv) == host


def test_resolve_ports_none_gives_the_classic_ports():
    """No ports → 8080/8001/8002/8003, as a copy the caller may change."""
    ports = resolve_ports(None)
    assert ports == {"gateway": 8080, "users": 8001, "items": 8002, "orders": 8003}
    ports["users"] = 1
    assert SERVICES["users"].port == 8001


def test_resolve_ports_auto_asks_for_free_ports():
    """'auto' → port 0 (a free port) for each of the four services."""
    assert resolve_ports("auto") == {name: 0 for name in SERVICES.names}


def test_resolve_ports_dict_overrides_some_ports():
    """A dict replaces the ports it names and keeps the others."""
    assert resolve_ports({"users": 9001}) == {**SERVICES.classic_ports(), "users": 9001}


@pytest.mark.parametrize("ports", [{"userz": 9001}, {"users": 9001, "db": 1}])
def test_resolve_ports_unknown_service_raises_cluster_error(ports):
    """An unknown service name is refused with a Spanish message naming it."""
    with pytest.raises(ClusterError, match="desconocidos") as caught:
        resolve_ports(ports)
    unknown = next(name for name in ports if name not in SERVICES)
    assert unknown in str(caught.value)


@pytest.mark.parametrize("ports", ["AUTO", "8080", 8080, ["users"]])
def test_resolve_ports_other_values_raise_cluster_error(ports):
    """Anything but None, 'auto' or a dict is refused."""
    with pytest.raises(ClusterError, match="ports debe ser"):
        resolve_ports(ports)
