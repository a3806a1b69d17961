"""Database URLs as people write them: the spellings of PostgreSQL that tools and hosting
services print all work (they mean asyncpg here), and anything else is refused with one
Spanish line that says what to write, the same line from every command."""

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from microservicios import Cluster
from microservicios.database.sqlite import UnsupportedDatabaseError
from microservicios.migrations import upgrade
from microservicios.users.main import create_app as create_users
from tests.helpers import CLI, make_settings, subprocess_env, unique_email

MIGRATE = [sys.executable, "-m", "microservicios.migrate"]
SERVE = [sys.executable, "-m", "microservicios.serve"]

# What psql, Heroku, Render, Neon, Supabase, Django and SQLAlchemy's own docs print.
SPELLINGS = [
    "postgresql",
    "postgres",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
]

REFUSED = [
    "mysql://root:muy-secreta@127.0.0.1:3306/tienda",
    "mariadb://root:muy-secreta@127.0.0.1/tienda",
    "mongodb://127.0.0.1/tienda",
    "no es una url",
]


def spelled(url: str, scheme: str) -> str:
    """`url` (a postgresql+asyncpg:// one) written with another scheme."""
    return f"{scheme}://{url.split('://', 1)[1]}"


@pytest.mark.parametrize("scheme", SPELLINGS)
def test_a_service_works_on_every_usual_postgresql_spelling(tmp_path, postgres_url, scheme):
    """users with USERS_DATABASE_URL written as `scheme://…` creates and reads a user."""
    upgrade("users", postgres_url)
    settings = make_settings(tmp_path, users_database_url=spelled(postgres_url, scheme))
    with TestClient(create_users(settings)) as users:
        created = users.post("/users/", json={"name": "Ana", "email": unique_email()})
        assert created.status_code == 201, created.text
        assert users.get(f"/users/{created.json()['id']}").json()["name"] == "Ana"


def test_sslmode_as_hosting_services_print_it_is_understood(tmp_path, postgres_url):
    """`?sslmode=…` (libpq's word, in every hosted URL) reaches asyncpg as its `ssl`."""
    upgrade("users", postgres_url)
    url = spelled(postgres_url, "postgresql") + "?sslmode=disable"
    with TestClient(create_users(make_settings(tmp_path, users_database_url=url))) as users:
        assert users.get("/users/").status_code == 200


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_migrate_accepts_the_usual_spellings(tmp_path, postgres_url, scheme):
    """`python -m microservicios.migrate users` with a `postgresql://` URL builds the tables."""
    env = subprocess_env(DATA_DIR=str(tmp_path), USERS_DATABASE_URL=spelled(postgres_url, scheme))
    done = subprocess.run(MIGRATE + ["users"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    settings = make_settings(tmp_path, users_database_url=postgres_url)
    with TestClient(create_users(settings)) as users:
        assert (
            users.post("/users/", json={"name": "Ana", "email": unique_email()}).status_code == 201
        )


@pytest.mark.parametrize("url", REFUSED)
def test_settings_refuse_other_databases_in_one_line(tmp_path, url):
    """Anything but SQLite or PostgreSQL: one Spanish line naming the variable and what to
    write, never the password it was given."""
    with pytest.raises(UnsupportedDatabaseError) as refused:
        make_settings(tmp_path, orders_database_url=url)
    message = str(refused.value)
    assert message.startswith("ORDERS_DATABASE_URL ")
    assert "postgresql://usuario:contraseña@host:5432/base" in message
    assert "sqlite:///" in message
    assert "muy-secreta" not in message
    assert "\n" not in message


def refusal(command: list[str], tmp_path) -> str:  # noqa: ANN001
    """What `command` says on stderr with a MySQL URL for users; it must exit 1."""
    env = subprocess_env(DATA_DIR=str(tmp_path), USERS_DATABASE_URL=REFUSED[0])
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Servicio " not in done.stdout  # no start table: nothing started
    return done.stderr.strip()


COMMANDS = {
    "migrate": MIGRATE + ["users"],
    "serve": SERVE + ["users", "--port", "8000"],  # refused before it listens
    "cluster": CLI + ["--ports", "auto", "--no-panel"],
    "cluster-processes": CLI + ["--ports", "auto", "--no-panel", "--processes"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_refuses_a_mysql_url_with_the_same_line(tmp_path, command):
    """migrate, serve and the cluster (threads or processes) print the settings' line,
    prefixed with «Error: », and nothing else: no traceback."""
    with pytest.raises(UnsupportedDatabaseError) as refused:
        make_settings(tmp_path, users_database_url=REFUSED[0])
    assert refusal(command, tmp_path) == f"Error: {refused.value}"


def test_a_cluster_refuses_a_mysql_url_before_starting_anything(tmp_path):
    """`Cluster(settings={...})` raises the same error, with the same line, from start()."""
    cluster = Cluster(
        ports="auto", data_dir=tmp_path, settings={"users_database_url": REFUSED[0]}, panel=False
    )
    with pytest.raises(UnsupportedDatabaseError, match="^USERS_DATABASE_URL "):
        cluster.start()
    assert not any(cluster.status().values())
