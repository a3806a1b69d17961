"""A client's 60 KB path, through a real cluster: every record keeps 2 KB of it, marked."""

from pathlib import Path

import httpx

from tests.helpers import eventually, make_cluster, raw_request

PATH = "/users/" + "x" * 60_000
MARK = f"…(cortado, {len(PATH)} bytes)"


def test_a_long_path_is_logged_cut_and_the_panel_shows_it_cut(tmp_path: Path):
    """Three GETs of a 60 KB path: the gateway's records (cluster.logs()) and the panel's
    list of traces hold its first 2 KB and «…(cortado, 60007 bytes)», not 60 KB each."""
    with make_cluster(tmp_path) as cluster:
        for _ in range(3):
            assert raw_request(cluster.url("gateway"), "GET", PATH).status in (404, 422)
        logged = [
            record["path"]
            for record in cluster.logs(service="gateway", event="http.request")
            if record["path"].startswith("/users/xxx")
        ]
        assert len(logged) == 3
        assert all(path == PATH[:2048] + MARK for path in logged), [len(p) for p in logged]

        base, _, token = cluster.panel_url().partition("/?token=")

        def listed() -> list[str]:
            snapshot = httpx.get(f"{base}/api/snapshot", params={"token": token}).json()
            return [row["path"] for row in snapshot["traces"] if row["path"].startswith("/users/x")]

        assert eventually(lambda: len(listed()) == 3, seconds=30)
        assert all(path.endswith(MARK) and len(path) < 2100 for path in listed())
