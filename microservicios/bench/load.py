"""A small closed-loop load generator, run in its own process so it does not share the GIL.

    python -m microservicios.bench.load URL --connections 16 --seconds 5 [--method POST --json '{}']

Prints one JSON line: requests, errors, status counts, req/s, p50 and p99 in milliseconds.
Only loopback addresses are accepted: this tool must never load anyone else's server.
"""

import argparse
import asyncio
import ipaddress
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import aiohttp

MAX_SECONDS = 60.0
MAX_CONNECTIONS = 256


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise SystemExit(f"Sólo se permite generar carga contra 127.0.0.1/localhost, no '{host}'.")


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


async def run_load(
    url: str, *, method: str, body: bytes | None, connections: int, seconds: float, warmup: float
) -> dict:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    headers = {"content-type": "application/json"} if body else {}
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + seconds

        async def worker() -> None:
            while (now := time.perf_counter()) < stop_at:
                try:
                    async with session.request(method, url, data=body, headers=headers) as resp:
                        await resp.read()
                        outcome = str(resp.status)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcome = type(exc).__name__
                if now >= measure_from:
                    latencies.append(time.perf_counter() - now)
                    statuses[outcome] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()
    errors = sum(count for status, count in statuses.items() if status[0] not in "234")
    return {
        "requests": len(latencies),
        "errors": errors,
        "statuses": dict(statuses),
        "rps": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--json", default=None, help="cuerpo JSON a enviar")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    args = parser.parse_args(argv)
    require_loopback(args.url)
    seconds = min(args.seconds, MAX_SECONDS)
    connections = max(1, min(args.connections, MAX_CONNECTIONS))
    body = args.json.encode() if args.json else None
    result = asyncio.run(
        run_load(
            args.url,
            method=args.method,
            body=body,
            connections=connections,
            seconds=seconds,
            warmup=args.warmup,
        )
    )
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
