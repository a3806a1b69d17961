"""Alembic's entry for the users service's migrations (see migrations/environment.py)."""

from microservicios.migrations.environment import run_migrations

run_migrations()
