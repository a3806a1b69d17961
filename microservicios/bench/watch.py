"""A browser stand-in: reads the panel's live stream, as an open panel tab does.

    python -m microservicios.bench.watch PANEL_URL_WITH_TOKEN --seconds 10

Runs in its own process (as a browser would), for a bounded time, against loopback only.
Prints one JSON line: how many events and bytes it received.
"""

import argparse
import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from microservicios.bench.load import MAX_SECONDS, require_loopback


def watch(panel_url: str, seconds: float) -> dict:
    parts = urlsplit(panel_url)
    token = parse_qs(parts.query)["token"][0]
    stream_url = f"{parts.scheme}://{parts.netloc}/api/stream"
    events = received = 0
    stop_at = time.monotonic() + seconds
    with httpx.stream("GET", stream_url, params={"token": token}, timeout=10) as stream:
        for line in stream.iter_lines():
            received += len(line) + 1
            events += line.startswith("event: ")
            if time.monotonic() >= stop_at:
                break
    return {"events": events, "bytes": received}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    require_loopback(args.url)
    print(json.dumps(watch(args.url, min(args.seconds, MAX_SECONDS))))


if __name__ == "__main__":
    main()
