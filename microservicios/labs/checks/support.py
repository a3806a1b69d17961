"""Helpers shared by the checks: a throwaway cluster and an HTTP client for it."""

import contextlib
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx

from microservicios.cluster import Cluster


@contextlib.contextmanager
def throwaway_cluster(**options: Any) -> Iterator[Cluster]:
    """A cluster on free ports with its own temporary data, stopped and deleted at the end."""
    with tempfile.TemporaryDirectory() as data_dir:
        cluster = Cluster(ports="auto", data_dir=data_dir, **options)
        with cluster:
            yield cluster


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=10.0)


@contextlib.contextmanager
def served(app_factory: Any) -> Iterator[str]:
    """Serve one app (built by `app_factory()`) with uvicorn on a free port; yields its URL."""
    import time

    from microservicios.common.settings import Settings
    from microservicios.serve.runner import START_TIMEOUT_S, ServiceRunner

    runner = ServiceRunner("lab", "127.0.0.1", 0, app_factory)
    runner.bind()
    runner.launch(
        Settings.default_for("server_keepalive_timeout"), Settings.default_for("header_timeout")
    )
    try:
        runner.wait_started(time.monotonic() + START_TIMEOUT_S)
        yield f"http://127.0.0.1:{runner.port}"
    finally:
        runner.request_stop()
        runner.join()
