"""Benchmark of the in-process cluster: direct vs through the gateway, and orders/s.

    python -m microservicios.bench [--seconds 5] [--connections 16]

A benchmark prints figures; it asserts nothing. The load runs in a separate process
against 127.0.0.1 only, for a bounded time.
"""

import json
import subprocess
import sys
import tempfile
import uuid

import httpx

from microservicios.bench import panel_cost, postgres
from microservicios.cluster import Cluster
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


def seed(cluster: Cluster) -> tuple[int, str]:
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
    args = parser.parse_args(argv)
    load = {"seconds": args.seconds, "connections": args.connections}

    with (
        tempfile.TemporaryDirectory() as data_dir,
        Cluster(ports="auto", data_dir=data_dir, panel=False) as cluster,
    ):
        user_id, sku = seed(cluster)
        path = f"/users/{user_id}"
        # Alternate short rounds so that noise from the machine hits both sides alike.
        direct_rounds, gateway_rounds = [], []
        for _ in range(args.rounds):
            direct_rounds.append(measure(cluster.url("users") + path, **load))
            gateway_rounds.append(measure(cluster.url("gateway") + path, **load))
        direct, via_gateway = median_run(direct_rounds), median_run(gateway_rounds)
        order = {"user_id": user_id, "item_sku": sku, "qty": 1}
        orders = measure(cluster.url("gateway") + "/orders/", method="POST", body=order, **load)
        open_breaker = measure_with_items_down(cluster, order, load)
    on_postgres = postgres.orders_per_second(measure, seed, load)
    panel_figures = None
    if not args.no_panel:
        panel_figures = panel_cost.compare(measure, seed, load, args.rounds)

    print(
        f"Benchmark: {args.connections} conexiones, {args.seconds:g} s por medición, "
        f"mediana de {args.rounds} rondas alternadas (directo/gateway)\n"
    )
    print(f"{'medición':<50} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errores':>8}")
    print(row(f"GET {path} directo (users)", direct))
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
    if panel_figures is not None:
        print("\n" + "\n".join(panel_cost.report(*panel_figures)))


if __name__ == "__main__":
    main()
