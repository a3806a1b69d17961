"""Counting what the code sends to its databases: statements and commits, per database.

A count does not depend on the machine's speed, so it can say what a change saves (and a
test can guard it) where a timing on a shared machine cannot. Every engine of the process
is counted, SQLite or PostgreSQL, from the moment `counting_statements` is entered.
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class StatementCounts:
    """Statements (each SQL text sent) and commits, by database name (a SQLite file's
    path, a PostgreSQL database's name); `texts` keeps each statement's SQL, for reading."""

    statements: Counter[str] = field(default_factory=Counter)
    commits: Counter[str] = field(default_factory=Counter)
    texts: dict[str, list[str]] = field(default_factory=dict)

    def clear(self) -> None:
        self.statements.clear()
        self.commits.clear()
        self.texts.clear()


def _database_of(connection: Any) -> str:
    return str(connection.engine.url.database or "")


@contextmanager
def counting_statements() -> Iterator[StatementCounts]:
    """Count every statement and commit of every engine while the block runs."""
    counts = StatementCounts()

    def on_statement(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        database = _database_of(connection)
        counts.statements[database] += 1
        counts.texts.setdefault(database, []).append(statement)

    def on_commit(connection: Any) -> None:
        counts.commits[_database_of(connection)] += 1

    event.listen(Engine, "before_cursor_execute", on_statement)
    event.listen(Engine, "commit", on_commit)
    try:
        yield counts
    finally:
        event.remove(Engine, "before_cursor_execute", on_statement)
        event.remove(Engine, "commit", on_commit)
