"""Every statement an order's life sends (placing, failing, recovering, releasing, /health's
count) finds its rows through an index: none reads a whole table, so the cost of an order
does not grow with the orders already stored."""

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, event

from microservicios.items import reservations
from microservicios.items.database import open_database as open_items
from microservicios.items.models import Item
from microservicios.orders import crud
from microservicios.orders.database import open_database as open_orders
from microservicios.orders.models import utc_now
from microservicios.orders.schemas import OrderCreate


def full_scans(path: Path, sent: list[tuple[str, tuple]]) -> list[str]:
    """The statements in `sent` whose SQLite query plan reads a whole table."""
    explaining = sqlite3.connect(path)
    try:
        found = []
        for statement, parameters in sent:
            plan = explaining.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            scans = [step[-1] for step in plan if step[-1].startswith("SCAN")]
            if scans:
                found.append(f"{statement}  ->  {scans}")
        return found
    finally:
        explaining.close()


async def an_order_life(items_url: str, orders_url: str) -> None:
    """Place an order with a key, fail one and let recovery release another, cancel one."""
    items, orders = open_items(items_url), open_orders(orders_url)
    data = OrderCreate(user_id=1, item_sku="L-1", qty=1)
    try:
        async with items.session() as session:
            session.add(Item(name="Lápiz", sku="L-1", stock=10))
            await session.commit()
        async with orders.session() as session:
            assert await crud.find_by_key(session, key="k-1") is None
            placed = await crud.claim_order(session, data=data, key="k-1", fingerprint="f")
        async with items.session() as session:
            await reservations.reserve(
                session, reservation_id=placed.reservation_id, sku="L-1", qty=1
            )
        async with orders.session() as session:
            session.add(placed)
            await crud.mark_created(session, order=placed)
            await crud.start_cancel(session, order_id=placed.id)
        async with orders.session() as session:
            failed = await crud.claim_order(session, data=data, key=None, fingerprint=None)
            session.add(failed)
            await crud.mark_failed(session, order=failed, release_stock=True)
            await crud.claim_order(session, data=data, key=None, fingerprint=None)
            await crud.fail_stale_pending(session, started_before=utc_now() + timedelta(1))
            await crud.count_pending_releases(session)
            for order in await crud.orders_to_release(session):
                async with items.session() as on_items:
                    await reservations.release(on_items, reservation_id=order.reservation_id)
                await crud.mark_released(session, order_id=order.id)
    finally:
        await items.dispose()
        await orders.dispose()


def test_no_statement_of_an_order_reads_a_whole_table(tmp_path):
    """SQLite's plan for each statement sent searches an index (SEARCH), never SCANs."""
    sent: dict[str, list[tuple[str, tuple]]] = {"items": [], "orders": []}

    def record(connection, _cursor, statement, parameters, *_rest) -> None:  # noqa: ANN001
        service = Path(str(connection.engine.url.database)).stem
        if service in sent and statement.startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            sent[service].append((statement, tuple(parameters)))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        asyncio.run(
            an_order_life(f"sqlite:///{tmp_path}/items.db", f"sqlite:///{tmp_path}/orders.db")
        )
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert len(sent["orders"]) >= 10 and len(sent["items"]) >= 4
    for service, statements in sent.items():
        assert full_scans(tmp_path / f"{service}.db", statements) == [], service
