"""What an open panel costs the system it watches: the same loads on two clusters, one
without a panel and one with its panel open and streaming (read by another process, as a
browser tab would), in alternated rounds. And what a closed one costs: µs per record handed
to its sink, in a tight loop over the records of that run."""

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from microservicios.bench.load import MAX_SECONDS
from microservicios.cluster import Cluster
from microservicios.panel.activity import Activity
from microservicios.telemetry.logs import LogRecord

WATCH_MARGIN_S = 3.0  # the load's warm-up and start-up, so the stream spans the measurement
SINK_REPEATS = 5


@dataclass
class Figures:
    ratios: list[float]
    orders: list[float]
    panel_cpu: list[float] = field(default_factory=list)  # share of one core, per round
    closed_us: float | None = None  # per record handed to a panel nobody reads
    records: int = 0

    @staticmethod
    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]


def one_round(cluster: Cluster, measure, seed, load: dict) -> tuple[float, float]:  # noqa: ANN001
    """(gateway/direct ratio, orders/s) on `cluster`."""
    user_id, sku = seed
    path = f"/users/{user_id}"
    direct = measure(cluster.url("users") + path, **load)
    via_gateway = measure(cluster.url("gateway") + path, **load)
    order = {"user_id": user_id, "item_sku": sku, "qty": 1}
    orders = measure(cluster.url("gateway") + "/orders/", method="POST", body=order, **load)
    return via_gateway["rps"] / direct["rps"], orders["rps"]


def closed_panel_us(records: list[LogRecord], repeats: int = SINK_REPEATS) -> float:
    """µs per record handed to a panel's sink while nobody reads it, its bookkeeping (done
    when its buffer is full, and once at the end) included: the best of `repeats` tight
    loops, each on a fresh panel."""
    best = float("inf")
    for _ in range(repeats):
        activity = Activity()
        started = time.perf_counter()
        for record in records:
            activity(record)
        activity.traces()  # counts what is still put aside
        best = min(best, time.perf_counter() - started)
    return 1e6 * best / max(1, len(records))


def thread_cpu_seconds(native_id: int | None) -> float | None:
    """CPU time of one thread of this process, where the system tells it (Linux's /proc)."""
    stat = Path(f"/proc/self/task/{native_id}/stat")
    if native_id is None or not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watching(cluster: Cluster, seconds: float) -> subprocess.Popen:
    """A separate process reading the panel's stream, as a browser tab would."""
    command = [sys.executable, "-m", "microservicios.bench.watch", cluster.panel_url()]
    command += ["--seconds", str(min(seconds, MAX_SECONDS))]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def compare(measure, seed, load: dict, rounds: int) -> tuple[Figures, Figures]:  # noqa: ANN001
    """(without panel, with the panel open) figures, `rounds` alternated rounds each."""
    without, with_panel = Figures([], []), Figures([], [])
    with (
        tempfile.TemporaryDirectory() as plain_dir,
        tempfile.TemporaryDirectory() as panel_dir,
        Cluster(ports="auto", data_dir=plain_dir, panel=False) as plain,
        Cluster(ports="auto", data_dir=panel_dir) as watched,
    ):
        plain_seed, watched_seed = seed(plain), seed(watched)

        def measure_plain() -> None:
            ratio, orders = one_round(plain, measure, plain_seed, load)
            without.ratios.append(ratio)
            without.orders.append(orders)

        def measure_watched() -> None:
            panel_thread = watched.panel_thread_id()
            cpu_before, started = thread_cpu_seconds(panel_thread), time.monotonic()
            viewer = watching(watched, 3 * (load["seconds"] + WATCH_MARGIN_S))
            try:
                ratio, orders = one_round(watched, measure, watched_seed, load)
            finally:
                viewer.terminate()
                viewer.wait()
            with_panel.ratios.append(ratio)
            with_panel.orders.append(orders)
            cpu_after = thread_cpu_seconds(panel_thread)
            if cpu_before is not None and cpu_after is not None:
                with_panel.panel_cpu.append((cpu_after - cpu_before) / (time.monotonic() - started))

        # A B, then B A: a machine that gets slower or faster over time weighs on both alike.
        for number in range(rounds):
            first, second = (measure_plain, measure_watched)[:: 1 if number % 2 == 0 else -1]
            first()
            second()
        records = plain.logbook.records()  # a real run's records, measured by the LogBook
        without.closed_us, without.records = closed_panel_us(records), len(records)
    return without, with_panel


def report(without: Figures, with_panel: Figures) -> list[str]:
    def change(before: float, after: float) -> str:
        return f"{100 * (after - before) / before:+.1f} %"

    ratio_before, ratio_after = Figures.median(without.ratios), Figures.median(with_panel.ratios)
    orders_before, orders_after = Figures.median(without.orders), Figures.median(with_panel.orders)
    return [
        f"Panel abierto y transmitiendo (mediana de {len(without.ratios)} rondas alternadas):",
        f"  relación gateway/directo: {ratio_before:.2f} sin panel, {ratio_after:.2f} con el "
        f"panel abierto ({change(ratio_before, ratio_after)})",
        f"  POST /orders/ vía gateway: {orders_before:.0f} órdenes/s sin panel, "
        f"{orders_after:.0f} con el panel abierto ({change(orders_before, orders_after)})",
        "  CPU del hilo del panel mientras transmitía: "
        + (
            f"{100 * Figures.median(with_panel.panel_cpu):.1f} % de un núcleo"
            if with_panel.panel_cpu
            else "no se puede medir en este sistema"
        ),
        f"Panel cerrado: {without.closed_us or 0:.2f} µs por registro entregado a su sink "
        f"(mejor de {SINK_REPEATS} pasadas por los {without.records} registros de la corrida)",
    ]
