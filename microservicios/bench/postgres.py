"""Orders per second with the three databases on PostgreSQL (the local server), beside the
SQLite figure: the same load, on a cluster whose services use asyncpg."""

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import Iterator

from microservicios.cluster import Cluster
from microservicios.migrations import SERVICES_WITH_DATABASE, upgrade

SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres"}


def _admin(statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(**SERVER, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@contextlib.contextmanager
def postgres_databases() -> Iterator[dict[str, str]]:
    """A fresh, migrated database per service, dropped at the end."""
    names = {
        service: f"bench_{service}_{uuid.uuid4().hex[:8]}" for service in SERVICES_WITH_DATABASE
    }
    for name in names.values():
        _admin(f'CREATE DATABASE "{name}"')
    urls = {
        service: f"postgresql+asyncpg://{SERVER['user']}@{SERVER['host']}:{SERVER['port']}/{name}"
        for service, name in names.items()
    }
    try:
        for service, url in urls.items():
            upgrade(service, url)
        yield urls
    finally:
        for name in names.values():
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def orders_per_second(measure, seed, load: dict) -> float | None:  # noqa: ANN001
    """POST /orders/ through the gateway on PostgreSQL; None when no server answers."""
    try:
        with postgres_databases() as urls:
            return _orders_on(urls, measure, seed, load)
    except OSError:  # nothing listens on 127.0.0.1:5432
        return None


def _orders_on(urls: dict[str, str], measure, seed, load: dict) -> float:  # noqa: ANN001
    settings = {f"{service}_database_url": url for service, url in urls.items()}
    with (
        tempfile.TemporaryDirectory() as data_dir,
        Cluster(ports="auto", data_dir=data_dir, settings=settings, panel=False) as cluster,
    ):
        user_id, sku = seed(cluster)
        order = {"user_id": user_id, "item_sku": sku, "qty": 1}
        return measure(cluster.url("gateway") + "/orders/", method="POST", body=order, **load)[
            "rps"
        ]
