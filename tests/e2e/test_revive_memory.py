"""Kill and revive free the killed app: memory stays flat however many times it is done.

A class kills and revives services all afternoon (and the panel has buttons for it): each
revive builds a new app, with its own engine, HTTP session and event loop. The old one
must go, or the notebook's kernel grows with every click.
"""

import gc
import weakref

import httpx
from fastapi import FastAPI

from tests.helpers import make_cluster

SERVICES = ("gateway", "users", "items", "orders")
CYCLES = 30


def test_killed_apps_are_freed_after_many_revives(tmp_path):
    """After 30 kill/revive cycles (with /docs, /openapi.json and /health used in each)
    none of the 30 killed apps is still in memory: only the four that run are left."""
    killed: list[weakref.ref[FastAPI]] = []
    with make_cluster(tmp_path) as cluster, httpx.Client(timeout=30.0) as http:
        for cycle in range(CYCLES):
            name = SERVICES[cycle % len(SERVICES)]
            url = cluster.url(name)
            for path in ("/docs", "/openapi.json", "/health"):
                assert http.get(url + path).status_code == 200, (name, path)
            killed.append(weakref.ref(cluster._runners[name].app))
            cluster.kill(name)
            cluster.revive(name)
        gc.collect()
        kept = [app.title for ref in killed if (app := ref()) is not None]
        assert kept == [], f"{len(kept)} of {CYCLES} killed apps are still in memory"
        assert all(cluster.status().values())
