"""Orders/s on a database that already holds 100,000 orders, beside an empty one.

The history is written straight into the services' SQLite files before their cluster starts
(placing 100,000 orders over HTTP would take longer than the whole benchmark): what those
orders leave behind when placed for real — CREATED orders, one RESERVED reservation each in
items, and the users and items they name. Then the same POST /orders/ load runs on the
empty cluster and on the one with history, in alternated rounds, and the memory of this
process (where both clusters run) is read before the load and after each round.
"""

import gc
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert

from microservicios.cluster import Cluster
from microservicios.database.sqlite import create_sqlite_engine
from microservicios.items.models import RESERVED, Item, Reservation
from microservicios.orders.models import CREATED, Order, utc_now
from microservicios.telemetry.logbook import (
    DEFAULT_CAPACITY,
    DEFAULT_MAX_BYTES,
    LogBook,
    record_size,
)
from microservicios.users.models import User

SEEDED_ORDERS = 100_000
SEEDED_USERS = 1_000
SEEDED_ITEMS = 100
MIB = 1024 * 1024


@dataclass(frozen=True)
class History:
    """What `seed_history` wrote, and how long it took."""

    orders: int
    users: int
    items: int
    seconds: float


def _insert(database: Path, table: Table, rows: list[dict[str, Any]]) -> None:
    """Create `table`'s database file (as its service would) and insert `rows` in one go."""
    engine = create_sqlite_engine(f"sqlite:///{database.as_posix()}")
    try:
        table.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(table), rows)
    finally:
        engine.dispose()


def seed_history(
    data_dir: Path,
    orders: int = SEEDED_ORDERS,
    users: int = SEEDED_USERS,
    items: int = SEEDED_ITEMS,
) -> History:
    """Write `orders` CREATED orders, their reservations, `users` users and `items` items
    into the SQLite files a cluster on `data_dir` will open (ids 1, 2, … in each table)."""
    started = time.monotonic()
    skus = [f"HIST-{number:04d}" for number in range(items)]
    reservation_ids = [uuid.uuid4().hex for _ in range(orders)]  # as crud.claim_order does
    now = utc_now()
    _insert(
        data_dir / "users.db",
        User.__table__,
        [{"name": f"Cliente {n}", "email": f"cliente{n}@example.com"} for n in range(users)],
    )
    _insert(
        data_dir / "items.db",
        Item.__table__,
        [{"name": f"Artículo {sku}", "sku": sku, "stock": 10**6} for sku in skus],
    )
    _insert(
        data_dir / "items.db",
        Reservation.__table__,
        [
            {"id": rid, "item_id": 1 + n % items, "qty": 1, "status": RESERVED}
            for n, rid in enumerate(reservation_ids)
        ],
    )
    _insert(
        data_dir / "orders.db",
        Order.__table__,
        [
            {
                "user_id": 1 + n % users,
                "item_sku": skus[n % items],
                "qty": 1,
                "status": CREATED,
                "reservation_id": rid,
                "release_pending": False,
                "created_at": now - timedelta(seconds=orders - n),
            }
            for n, rid in enumerate(reservation_ids)
        ],
    )
    return History(orders, users, items, time.monotonic() - started)


def rss_bytes() -> int | None:
    """This process's resident memory, where the system tells it (Linux's /proc)."""
    gc.collect()
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@dataclass
class LogBookFill:
    records: int
    bytes: int


def logbook_fill(logbook: LogBook) -> LogBookFill:
    kept = logbook.records()
    return LogBookFill(len(kept), sum(record_size(record) for record in kept))


@dataclass
class Figures:
    history: History
    empty: list[float] = field(default_factory=list)  # orders/s, per round
    seeded: list[float] = field(default_factory=list)
    rss: list[int | None] = field(default_factory=list)  # before the load, after each round
    logbook: LogBookFill | None = None  # of the cluster with history, at the end

    @staticmethod
    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]


def compare(measure, seed, load: dict, rounds: int) -> Figures:  # noqa: ANN001
    """Orders/s on an empty cluster and on one with SEEDED_ORDERS orders, alternated."""
    with (
        tempfile.TemporaryDirectory() as empty_dir,
        tempfile.TemporaryDirectory() as seeded_dir,
    ):
        figures = Figures(seed_history(Path(seeded_dir)))
        # With their panels on (and nobody watching), as the cluster's command starts them.
        with (
            Cluster(ports="auto", data_dir=empty_dir) as empty,
            Cluster(ports="auto", data_dir=seeded_dir) as seeded,
        ):
            targets = [(empty, seed(empty), figures.empty), (seeded, seed(seeded), figures.seeded)]
            figures.rss.append(rss_bytes())
            for number in range(rounds):
                # A B, then B A: a machine that drifts weighs on both alike.
                for cluster, (user_id, sku), results in targets[:: 1 if number % 2 == 0 else -1]:
                    order = {"user_id": user_id, "item_sku": sku, "qty": 1}
                    url = cluster.url("gateway") + "/orders/"
                    results.append(measure(url, method="POST", body=order, **load)["rps"])
                figures.rss.append(rss_bytes())
            figures.logbook = logbook_fill(seeded.logbook)
    return figures


def thousands(number: int) -> str:
    """100000 → "100.000", as Spanish writes it."""
    return f"{number:,}".replace(",", ".")


def megabytes(size: int | None) -> str:
    return "?" if size is None else f"{size / MIB:.0f}"


def report(figures: Figures) -> list[str]:
    history = figures.history
    empty, seeded = Figures.median(figures.empty), Figures.median(figures.seeded)
    per_round = " ".join(
        f"{after / before:.2f}" for before, after in zip(figures.empty, figures.seeded, strict=True)
    )
    lines = [
        f"Después de {thousands(history.orders)} órdenes (mediana de {len(figures.empty)} "
        "rondas alternadas, panel encendido sin abrir):",
        f"  POST /orders/ vía gateway: {empty:.0f} órdenes/s con la base vacía, {seeded:.0f} "
        f"con {thousands(history.orders)} órdenes ({100 * (seeded - empty) / empty:+.1f} %; "
        f"con historia/vacía por ronda: {per_round})",
        f"  sembradas antes de arrancar, con INSERT directos en los archivos SQLite de cada "
        f"servicio ({history.seconds:.1f} s): {thousands(history.orders)} órdenes CREATED, "
        f"sus {thousands(history.orders)} reservas en items, {thousands(history.users)} "
        f"usuarios y {thousands(history.items)} ítems",
    ]
    if figures.rss[0] is None:
        lines.append("Memoria del proceso del cluster: no se puede medir en este sistema.")
    else:
        after = ", ".join(megabytes(size) for size in figures.rss[1:])
        lines.append(
            f"Memoria del proceso (RSS, los dos clusters): {megabytes(figures.rss[0])} MB antes "
            f"de la carga; {after} MB tras cada ronda"
        )
    if figures.logbook is not None:
        fill = figures.logbook
        lines.append(
            f"  LogBook del cluster con historia: {thousands(fill.records)} registros, "
            f"{fill.bytes / MIB:.1f} MB (tope: {thousands(DEFAULT_CAPACITY)} registros, "
            f"{DEFAULT_MAX_BYTES // MIB} MB)"
        )
    return lines
