"""Alembic's entry for the items service's migrations (see migrations/environment.py)."""

from microservicios.migrations.environment import run_migrations

run_migrations()
