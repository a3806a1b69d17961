"""The SQLite pool hands out the connection used last, whose page cache is still good."""

import asyncio

from sqlalchemy import text

from microservicios.items.database import open_database


async def connections_used(url: str) -> tuple[object, object, object]:
    """Two sessions at once (two connections), closed first then second; then one more:
    the DBAPI connection of each."""
    database = open_database(url)
    try:
        sessions = database.sync_sessions
        assert sessions is not None
        with sessions() as first, sessions() as second:
            first.execute(text("SELECT 1"))
            second.execute(text("SELECT 1"))
            used = [s.connection().connection.dbapi_connection for s in (first, second)]
            first.close()
            second.close()
        with sessions() as third:
            third.execute(text("SELECT 1"))
            return used[0], used[1], third.connection().connection.dbapi_connection
    finally:
        await database.dispose()


def test_the_next_session_gets_the_connection_returned_last(tmp_path):
    """Last in, first out: the other connection's cache was emptied by the writes since."""
    first, second, next_one = asyncio.run(connections_used(f"sqlite:///{tmp_path}/items.db"))
    assert first is not second
    assert next_one is second
