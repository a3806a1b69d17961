"""Benchmark of the in-process cluster: direct vs through the gateway, and orders/s.

    python -m microservicios.bench [--seconds 5] [--connections 16]

It also serves a bare FastAPI app with the same GET /users/{id} (bench/reference.py) and
prints our direct route as a ratio of it, measures the --processes mode beside the threads
mode (bench/processes.py), and orders/s after 100,000 orders with the memory of the process
(bench/history.py).

A benchmark prints figures; it asserts nothing. The load runs in a separate process
against 127.0.0.1 only, for a bounded time.
"""

import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from microservicios.bench import history, layer_cost, panel_cost, postgres, processes, reference
from microservicios.cluster import Cluster
from microservicios.cluster.base import BaseCluster
from microservicios.common.cli import spanish_parser


def measure(url: str, *, seconds: float, connections: int, method: str = "GET", body=None) -> dict:
    command = [sys.executable, "-m", "microservicios.bench.load", url, "--method", method]
    command += ["--seconds", str(seconds), "--connections", str(connections)]
    if body is not None:
        command += ["--json", json.dumps(body)]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    return json.loads(finished.stdout)


def median_run(results: list[dict]) -> dict:
    """The round with the median throughput."""
    return sorted(results, key=lambda result: result["rps"])[len(results) // 2]


def row(label: str, result: dict) -> str:
    return (
        f"{label:<50} {result['rps']:>9.0f} {result['p50_ms']:>9.2f} {result['p99_ms']:>9.2f}"
        f" {result['errors']:>8}"
    )


def seed(cluster: BaseCluster) -> tuple[int, str]:
    gateway = cluster.url("gateway")
    user = httpx.post(f"{gateway}/users/", json={"name": "Bench", "email": "bench@example.com"})
    sku = f"BENCH-{uuid.uuid4().hex[:8]}"
    httpx.post(f"{gateway}/items/", json={"name": "Bench", "sku": sku, "stock": 10**9})
    return user.json()["id"], sku


def measure_with_items_down(cluster: Cluster, order: dict, load: dict) -> dict:
    """Kill items, open orders' breaker to it, then load POST /orders/ at the orders service."""
    cluster.kill("items")
    orders_url = cluster.url("orders")
    with httpx.Client() as client:
        for _ in range(10):
            if client.get(f"{orders_url}/health").json()["breakers"]["items"]["state"] == "open":
                break
            client.post(f"{orders_url}/orders/", json=order)
    try:
        # One connection: this line is about the latency of a refusal, not throughput.
        return measure(
            f"{orders_url}/orders/", method="POST", body=order, **{**load, "connections": 1}
        )
    finally:
        cluster.revive("items")


def main(argv: list[str] | None = None) -> None:
    parser = spanish_parser(
        "python -m microservicios.bench", "Mide el cluster: directo vs gateway, órdenes/s."
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="duración de cada medición")
    parser.add_argument("--rounds", type=int, default=3, help="rondas alternadas directo/gateway")
    parser.add_argument("--connections", type=int, default=16, help="conexiones concurrentes")
    parser.add_argument(
        "--no-panel", action="store_true", help="no medir el costo del panel abierto"
    )
    parser.add_argument(
        "--skip-processes", action="store_true", help="no medir el modo --processes"
    )
    parser.add_argument(
        "--skip-100k", action="store_true", help="no medir órdenes/s tras 100.000 órdenes"
    )
    args = parser.parse_args(argv)
    load = {"seconds": args.seconds, "connections": args.connections}

    with (
        tempfile.TemporaryDirectory() as data_dir,
        Cluster(ports="auto", data_dir=data_dir, panel=False) as cluster,
    ):
        user_id, sku = seed(cluster)
        path = f"/users/{user_id}"
        user = httpx.get(cluster.url("users") + path).json()
        # Alternate short rounds so that noise from the machine hits both sides alike.
        direct_rounds, gateway_rounds, reference_rounds = [], [], []
        with reference.reference_for(user, Path(data_dir)) as reference_url:
            for _ in range(args.rounds):
                direct_rounds.append(measure(cluster.url("users") + path, **load))
                gateway_rounds.append(measure(cluster.url("gateway") + path, **load))
                reference_rounds.append(measure(reference_url + path, **load))
        direct, via_gateway = median_run(direct_rounds), median_run(gateway_rounds)
        bare = median_run(reference_rounds)
        order = {"user_id": user_id, "item_sku": sku, "qty": 1}
        orders = measure(cluster.url("gateway") + "/orders/", method="POST", body=order, **load)
        open_breaker = measure_with_items_down(cluster, order, load)
    threads_mode = processes.ModeFigures(
        [d["rps"] for d in direct_rounds], [g["rps"] for g in gateway_rounds], orders["rps"]
    )
    processes_mode = None
    if not args.skip_processes:
        processes_mode = processes.measure_processes(measure, seed, load, args.rounds)
    after_history = None
    if not args.skip_100k:
        after_history = history.compare(measure, seed, load, args.rounds)
    on_postgres = postgres.orders_per_second(measure, seed, load)
    panel_figures = None
    if not args.no_panel:
        panel_figures = panel_cost.compare(measure, seed, load, args.rounds)

    print(
        f"Benchmark: {args.connections} conexiones, {args.seconds:g} s por medición, "
        f"mediana de {args.rounds} rondas alternadas (directo/gateway/referencia)\n"
    )
    print(f"{'medición':<50} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errores':>8}")
    print(row(f"GET {path} directo (users)", direct))
    print(row(f"GET {path} app mínima de referencia", bare))
    print(row(f"GET {path} vía gateway", via_gateway))
    print(row("POST /orders/ vía gateway", orders))
    print(row("POST /orders/ en orders, items caído* (1 conexión)", open_breaker))
    ratios = " ".join(
        f"{g['rps'] / d['rps']:.2f}" for d, g in zip(direct_rounds, gateway_rounds, strict=True)
    )
    print(
        f"\nRelación gateway/directo: {via_gateway['rps'] / direct['rps']:.2f}x "
        f"(por ronda: {ratios})"
    )
    bare_ratios = " ".join(
        f"{d['rps'] / r['rps']:.2f}" for d, r in zip(direct_rounds, reference_rounds, strict=True)
    )
    print(
        f"Relación directo/referencia: {direct['rps'] / bare['rps']:.2f}x "
        f"(por ronda: {bare_ratios}); la referencia es una app FastAPI mínima con la misma "
        "ruta y el mismo acceso a la base, sin nuestro middleware"
    )
    print(
        "* con el circuito hacia items abierto: se espera 503 inmediato con Retry-After "
        f"(estados: {open_breaker['statuses']})"
    )
    if on_postgres is None:
        print("\nPostgreSQL: no hay un servidor en 127.0.0.1:5432; sin esa medición.")
    else:
        print(
            f"\nPOST /orders/ vía gateway: {orders['rps']:.0f} órdenes/s con SQLite, "
            f"{on_postgres:.0f} con PostgreSQL (asyncpg, servidor local)"
        )
    print("\n" + "\n".join(processes.report(threads_mode, processes_mode, path)))
    if after_history is None:
        print("\nTras 100.000 órdenes: no medido (--skip-100k).")
    else:
        print("\n" + "\n".join(history.report(after_history)))
    if panel_figures is not None:
        print("\n" + "\n".join(panel_cost.report(*panel_figures)))
    print("\n" + "\n".join(layer_cost.report(layer_cost.measure())))


if __name__ == "__main__":
    main()
