"""What one order costs each service's database, counted (not timed): statements and
commits, and on PostgreSQL the round-trips on the wire. A count does not depend on the
machine, so it can guard the cost against a change that adds a statement to every order.

To see the figures: `pytest -s tests/integration/test_statements_per_order.py`.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from microservicios.database.statements import counting_statements
from microservicios.orders import context as orders_context
from tests import helpers
from tests.round_trips import counting_relay

ORDERS = 20
WARM_UP = 25  # more than the pool's connections: each has prepared its statements

# Per order placed through the gateway, without an Idempotency-Key.
STATEMENTS = {"users": 1, "items": 2, "orders": 2}  # get; take + record; claim, mark created
COMMITS = {"users": 0, "items": 1, "orders": 2}
# On PostgreSQL each transaction adds its BEGIN and its COMMIT (or ROLLBACK).
ROUND_TRIPS = {"users": 3, "items": 4, "orders": 6}
# Per cancel: orders cancels, items releases (and gives the stock back), orders notes it.
CANCEL_STATEMENTS = {"users": 0, "items": 2, "orders": 2}
CANCEL_COMMITS = {"users": 0, "items": 1, "orders": 2}


async def _no_compensation(_context: object) -> None:
    await asyncio.Event().wait()  # its rounds would add statements no order asked for


@pytest.fixture(params=helpers.DATABASES)
def placing(request, tmp_path: Path, monkeypatch) -> Iterator[dict]:  # noqa: ANN001
    """A running cluster without its compensation task, a user and an item, and the
    database name of each service (plus the round-trip counter on PostgreSQL)."""
    monkeypatch.setattr(orders_context, "keep_releasing", _no_compensation)
    with counting_relay() as (port, relay):
        urls = helpers.postgres_service_databases() if request.param == "postgresql" else {}
        relayed = {
            f"{service}_database_url": url.replace(":5432/", f":{port}/") + "?ssl=disable"
            for service, url in urls.items()
        }
        cluster = helpers.make_cluster(tmp_path, **helpers.PATIENT, **relayed)
        cluster.start()
        try:
            with httpx.Client(timeout=helpers.PATIENT_CLIENT_TIMEOUT_S) as http:
                gateway = cluster.url("gateway")
                user = helpers.create_user(http, gateway)
                item = helpers.create_item(http, gateway, stock=1000)
                names = {
                    make_url(cluster.settings.database_url(service)).database: service
                    for service in STATEMENTS
                }
                yield {
                    "place": lambda: helpers.post_order(http, gateway, user["id"], item["sku"]),
                    "cancel": lambda order: http.post(f"{gateway}/orders/{order['id']}/cancel"),
                    "names": names,
                    "relay": relay if urls else None,
                }
        finally:
            cluster.stop()
            for url in urls.values():
                helpers.drop_postgres_database(url)


def test_an_order_costs_each_database_a_fixed_count_of_statements(placing):
    """Statements and commits per order, per service: what the saga's steps need, no more
    (and on PostgreSQL, round-trips: no ping, no separate prepare once warmed up)."""
    for _ in range(WARM_UP):
        assert placing["place"]().status_code == 201
    relay = placing["relay"]
    with counting_statements() as counts:
        if relay is not None:
            relay.clear()
        for _ in range(ORDERS):
            response = placing["place"]()
            assert response.status_code == 201, response.text
        trips = dict(relay.round_trips) if relay is not None else {}
    for database, service in placing["names"].items():
        said = (
            f"{service}: {counts.statements[database] / ORDERS} statements, "
            f"{counts.commits[database] / ORDERS} commits"
        )
        if relay is not None:
            said += f", {trips.get(database, 0) / ORDERS} round-trips"
        print(said, "per order")
    for database, service in placing["names"].items():
        sent = "\n".join(counts.texts.get(database, []))
        assert counts.statements[database] == STATEMENTS[service] * ORDERS, f"{service}:\n{sent}"
        assert counts.commits[database] == COMMITS[service] * ORDERS, service
        if relay is not None:
            assert trips.get(database, 0) == ROUND_TRIPS[service] * ORDERS, service


def test_a_cancel_costs_each_database_a_fixed_count_of_statements(placing):
    """Cancelling reads each changed row back from its own UPDATE (RETURNING), not with a
    second statement: two statements in orders, two in items."""
    placed = [placing["place"]().json() for _ in range(WARM_UP + ORDERS)]
    for order in placed[:WARM_UP]:
        assert placing["cancel"](order).status_code == 200
    with counting_statements() as counts:
        for order in placed[WARM_UP:]:
            response = placing["cancel"](order)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "CANCELLED"
    for database, service in placing["names"].items():
        sent = "\n".join(counts.texts.get(database, []))
        assert counts.statements[database] == CANCEL_STATEMENTS[service] * ORDERS, (
            f"{service}:\n{sent}"
        )
        assert counts.commits[database] == CANCEL_COMMITS[service] * ORDERS, service
