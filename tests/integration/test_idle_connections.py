"""PostgreSQL connections the server closed while they sat in the pool: an idle one is
checked before use (the request never sees it), a busy one is not pinged at all."""

import asyncio

import asyncpg
from sqlalchemy import text

from microservicios.database import sessions
from microservicios.database.sessions import DatabaseUnavailableError, open_database
from microservicios.users.database import Base


async def close_every_connection_to(url: str) -> None:
    """What a restarted server (or a firewall) does to the pool's connections."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()


async def select_one(database: sessions.Database) -> int:
    async with database.session() as session:
        return (await session.execute(text("SELECT 1"))).scalar()


async def after_the_server_closed_them(url: str) -> list[str]:
    """Use a connection, have the server close it, then use the pool twice: each outcome."""
    database = open_database(url, Base.metadata)
    try:
        await select_one(database)
        await close_every_connection_to(url)
        await asyncio.sleep(0.05)
        outcomes = []
        for _ in range(2):
            try:
                outcomes.append(f"answered {await select_one(database)}")
            except DatabaseUnavailableError:
                outcomes.append("unavailable")
        return outcomes
    finally:
        await database.dispose()


def test_a_connection_closed_while_idle_is_replaced_before_use(postgres_url, monkeypatch):
    """A pooled connection idle longer than the threshold is pinged: a dead one is replaced
    by a new one and the unit of work goes through."""
    monkeypatch.setattr(sessions, "IDLE_BEFORE_PING_S", 0.0)
    assert asyncio.run(after_the_server_closed_them(postgres_url)) == ["answered 1"] * 2


def test_a_connection_in_steady_use_is_not_pinged(postgres_url, monkeypatch):
    """No ping for a connection used a moment ago: if the server closed it, one unit of work
    is a 503 (DatabaseUnavailableError) and the pool starts over, so the next one answers."""
    monkeypatch.setattr(sessions, "IDLE_BEFORE_PING_S", 3600.0)
    outcomes = asyncio.run(after_the_server_closed_them(postgres_url))
    assert outcomes == ["unavailable", "answered 1"]
