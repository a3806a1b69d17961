"""/health/live and /health/ready, for an orchestrator's probes."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from microservicios.common.context import context_of
from microservicios.database.sessions import as_database
from microservicios.database.sqlite import create_sqlite_engine
from microservicios.gateway.main import create_app as create_gateway


def test_live_and_ready_answer_when_the_database_does(users):
    """A started service: live 200, ready 200."""
    assert users.get("/health/live").json() == {"service": "users", "status": "ok"}
    assert users.get("/health/ready").json() == {"service": "users", "status": "ok"}


def test_ready_is_503_when_its_own_database_does_not_answer(items, tmp_path):
    """The database gone: not ready (503, in Spanish), but still alive."""
    broken = create_sqlite_engine(f"sqlite:///{(tmp_path / 'x.db').as_posix()}")
    (tmp_path / "x.db").unlink()
    (tmp_path / "x.db").mkdir()  # a folder where the file was: SQLite cannot open it
    context_of(items.app).database = as_database((broken, sessionmaker(broken)))
    answer = items.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["detail"] == "La base de datos del servicio no responde."
    assert items.get("/health/live").status_code == 200


def test_the_gateway_is_ready_without_a_database(settings):
    """The gateway has no database and checks no dependency: ready as soon as it runs,
    even with every service it routes to unreachable (settings point them nowhere)."""
    with TestClient(create_gateway(settings)) as gateway:
        assert gateway.get("/health/ready").json() == {"service": "gateway", "status": "ok"}
