"""A database whose tables a service created itself, with no revision on record.

Every SQLite file the cluster or `serve` opens gets its tables from `create_all`
(database/sessions.py), never from the migrations; Alembic, asked to migrate it, would create
them again ("table users already exists"). If the tables are exactly the code's, the newest
revision is recorded and nothing is applied. If they are another schema (an older version
of the project made them), nothing is touched: that is `UnversionedSchemaError`.
"""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, text

from microservicios.migrations import metadata_of, version_table


class UnversionedSchemaError(Exception):
    """`service`'s tables are there, with no revision on record, and are not the code's."""

    def __init__(self, service: str, differences: list[str]) -> None:
        super().__init__(f"{service}: {'; '.join(differences)}")
        self.service = service
        self.differences = differences


def mark_if_current(
    connection: Connection, context: MigrationContext, script: ScriptDirectory, service: str
) -> bool:
    """Record the newest revision on a database that has `service`'s tables, the code's
    schema, and no revision; True if it did. Raises `UnversionedSchemaError` for tables of
    another schema; returns False for a database with a revision or without the tables."""
    metadata = metadata_of(service)
    existing = set(inspect(connection).get_table_names()) & set(metadata.tables)
    if context.get_current_heads() or not existing:
        return False
    differences = schema_differences(connection, service, metadata)
    if differences:
        raise UnversionedSchemaError(service, differences)
    context.stamp(script, "head")
    return True


def schema_differences(connection: Connection, service: str, metadata: MetaData) -> list[str]:
    """What autogenerate would change in `service`'s own tables (other services' tables in
    a shared database are not its business), plus the SQLite tables that lack AUTOINCREMENT,
    which autogenerate does not look at."""
    own = set(metadata.tables)
    comparing = MigrationContext.configure(
        connection,
        opts={
            "version_table": version_table(service),
            "include_name": lambda name, kind, _parents: kind != "table" or name in own,
        },
    )
    differences = [repr(diff) for diff in compare_metadata(comparing, metadata)]
    if connection.dialect.name == "sqlite":
        differences += [
            f"{table.name} without AUTOINCREMENT"
            for table in metadata.sorted_tables
            if table.dialect_options["sqlite"]["autoincrement"]
            and "AUTOINCREMENT" not in _sqlite_definition(connection, table.name).upper()
        ]
    return differences


def _sqlite_definition(connection: Connection, table: str) -> str:
    statement = text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name")
    return connection.execute(statement, {"name": table}).scalar() or ""
