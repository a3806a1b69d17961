"""Python function calls per order, per service: a count that does not depend on the machine.

    python -m tests.calls_per_order            # both parts, on SQLite
    python -m tests.calls_per_order --orders 200 --skip-cluster

Two parts:
- Units of work: the database steps of one order, called directly (no HTTP), on SQLite
  files of their own: users' get_user, items' reserve, orders' claim and mark_created (as
  the saga runs them, each in its own session; with a key, find_by_key first). Calls are
  counted with `sys.setprofile`, and µs per order (the minimum of several rounds: a
  shared machine only ever adds time).
- Cluster: orders placed through the gateway of an in-process cluster; every service's
  thread counted apart, all its calls and those in database code (SQLAlchemy, the
  services' crud and `microservicios/database`).

A call is a "call" event of the profiler: a Python function entered, or a generator or
coroutine resumed. C functions are not counted.
"""

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from microservicios.items import database as items_database
from microservicios.items import reservations
from microservicios.items.models import Item
from microservicios.orders import crud as orders_crud
from microservicios.orders import database as orders_database
from microservicios.orders.schemas import OrderCreate
from microservicios.users import crud as users_crud
from microservicios.users import database as users_database
from microservicios.users.models import User

DATABASE_CODE = ("/sqlalchemy/", "/microservicios/database/", "crud.py", "reservations.py")
SERVICES = ("gateway", "users", "items", "orders")


def _counting(counts: Counter[str]) -> Callable[[FrameType, str, Any], None]:
    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            counts["calls"] += 1

    return profile


class Units:
    """The three services' databases on SQLite files in `folder`, a user and an item."""

    def __init__(self, folder: Path) -> None:
        self.users = users_database.open_database(f"sqlite:///{folder / 'users.db'}")
        self.items = items_database.open_database(f"sqlite:///{folder / 'items.db'}")
        self.orders = orders_database.open_database(f"sqlite:///{folder / 'orders.db'}")
        self.serial = 0

    async def seed(self) -> None:
        async with self.users.session() as session:
            session.add(User(id=1, name="Ana", email="ana@example.com"))
            await session.commit()
        async with self.items.session() as session:
            session.add(Item(id=1, name="Lápiz", sku="LAPIZ-1", stock=10**12))
            await session.commit()

    async def users_step(self) -> None:
        async with self.users.session() as session:
            await users_crud.get_user(session, user_id=1)

    async def items_step(self) -> None:
        self.serial += 1
        async with self.items.session() as session:
            await reservations.reserve(
                session, reservation_id=f"r{self.serial}", sku="LAPIZ-1", qty=1
            )

    async def orders_step(self, key: str | None = None) -> None:
        data = OrderCreate(user_id=1, item_sku="LAPIZ-1", qty=1)
        async with self.orders.session() as session:
            if key is not None:  # the saga looks for an earlier order with the key first
                assert await orders_crud.find_by_key(session, key=key) is None
            order = await orders_crud.claim_order(session, data=data, key=key, fingerprint=key)
        async with self.orders.session() as session:
            await orders_crud.mark_created(session, order=order)

    async def keyed_orders_step(self) -> None:
        self.serial += 1
        await self.orders_step(key=f"k{self.serial}")

    async def dispose(self) -> None:
        for database in (self.users, self.items, self.orders):
            await database.dispose()


async def _count_calls(step: Callable[[], Awaitable[None]], orders: int) -> float:
    counts: Counter[str] = Counter()
    sys.setprofile(_counting(counts))
    try:
        for _ in range(orders):
            await step()
    finally:
        sys.setprofile(None)
    return counts["calls"] / orders


async def _min_microseconds(step: Callable[[], Awaitable[None]], orders: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(orders):
            await step()
        best = min(best, (time.perf_counter() - started) / orders)
    return best * 1e6


async def measure_units(orders: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Calls and µs per order of each service's database steps: {service: (calls, µs)}."""
    with tempfile.TemporaryDirectory() as folder:
        units = Units(Path(folder))
        try:
            await units.seed()
            steps = {"users": units.users_step, "items": units.items_step}
            steps["orders"] = units.orders_step
            steps["orders, with an Idempotency-Key"] = units.keyed_orders_step
            for step in steps.values():  # warm up: statements compiled and cached
                for _ in range(20):
                    await step()
            calls = {name: await _count_calls(step, orders) for name, step in steps.items()}
            # Alternated: each round measures every service once, so drift hits them all.
            micros: dict[str, float] = dict.fromkeys(steps, float("inf"))
            for _ in range(rounds):
                for name, step in steps.items():
                    micros[name] = min(micros[name], await _min_microseconds(step, orders, 1))
            return {name: (calls[name], micros[name]) for name in steps}
        finally:
            await units.dispose()


def measure_cluster(orders: int) -> dict[str, tuple[float, float]]:
    """Calls per order placed through the gateway, by service thread: {service: (all calls,
    calls in database code)}."""
    from tests import helpers  # the cluster's test settings (patient timeouts)

    counting = threading.Event()
    totals: Counter[str] = Counter()
    database: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call" or not counting.is_set():
            return
        name = threading.current_thread().name
        totals[name] += 1
        if any(part in frame.f_code.co_filename for part in DATABASE_CODE):
            database[name] += 1

    with tempfile.TemporaryDirectory() as folder:
        cluster = helpers.make_cluster(Path(folder), **helpers.PATIENT)
        threading.setprofile(profile)  # every thread started from now on
        try:
            cluster.start()
            with httpx.Client(timeout=helpers.PATIENT_CLIENT_TIMEOUT_S) as http:
                gateway = cluster.url("gateway")
                user = helpers.create_user(http, gateway)
                item = helpers.create_item(http, gateway, stock=10**6)
                for _ in range(20):
                    helpers.post_order(http, gateway, user["id"], item["sku"])
                counting.set()
                for _ in range(orders):
                    response = helpers.post_order(http, gateway, user["id"], item["sku"])
                    assert response.status_code == 201, response.text
                counting.clear()
        finally:
            threading.setprofile(None)  # type: ignore[arg-type]
            cluster.stop()
    return {
        service: (
            totals[f"microservicios-{service}"] / orders,
            database[f"microservicios-{service}"] / orders,
        )
        for service in SERVICES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument("--skip-units", action="store_true")
    args = parser.parse_args()
    if not args.skip_units:
        print("Units of work (database steps of one order, SQLite, no HTTP)")
        for service, (calls, micros) in asyncio.run(
            measure_units(args.orders, args.rounds)
        ).items():
            print(f"  {service:34} {calls:6.0f} calls/order  {micros:7.1f} µs/order (min)")
    if not args.skip_cluster:
        print("Cluster (POST /orders/ through the gateway, in-process, SQLite)")
        for service, (calls, in_database) in measure_cluster(args.orders).items():
            print(f"  {service:8} {calls:7.1f} calls/order  {in_database:6.1f} in database code")


if __name__ == "__main__":
    main()
