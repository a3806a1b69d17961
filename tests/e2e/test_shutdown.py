"""Stopping a cluster must stop every service thread, whatever work is still pending.

Run in a child process: if a service thread survives `stop()`, it dies with the child
instead of staying alive inside the test session. The child builds complete settings itself
(no .env read) and runs in a temporary directory.
"""

import json
import subprocess
import sys
import textwrap

from tests.helpers import subprocess_env

SCENARIO = textwrap.dedent(
    """
    import json, sys, threading, time
    import httpx
    from microservicios import Cluster
    from microservicios.common.settings import Settings

    cluster = Cluster(ports="auto", settings=Settings(_env_file=None, data_dir=sys.argv[1]))
    cluster.start()
    gateway, orders = cluster.url("gateway"), cluster.url("orders")
    with httpx.Client(timeout=10.0) as http:
        user = http.post(f"{gateway}/users/", json={"name": "Ana", "email": "ana@example.com"})
        http.post(f"{gateway}/items/", json={"name": "Lapiz", "sku": "LAPIZ-1", "stock": 5})
        cluster.kill("items")
        order = http.post(
            f"{gateway}/orders/",
            json={"user_id": user.json()["id"], "item_sku": "LAPIZ-1", "qty": 1},
        )
        # Bounded wait until orders has given up on items for now (its breaker opened).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            health = http.get(f"{orders}/health").json()
            if health.get("breakers", {}).get("items", {}).get("state") == "open":
                break
            time.sleep(0.05)
        pending = http.get(f"{orders}/health").json()["pending_releases"]
    cluster.stop()
    alive = sorted(
        t.name for t in threading.enumerate()
        if t.name.startswith("microservicios-") and t.is_alive()
    )
    result = {"order_status": order.status_code, "pending": pending, "alive": alive}
    print(json.dumps(result), flush=True)
    """
)


def test_stop_with_a_pending_stock_release_stops_every_thread(tmp_path):
    """With items down and an order's release pending, stop() still ends all four threads."""
    finished = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=subprocess_env(),
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["order_status"] == 503
    assert result["pending"] == 1, "no stock release was pending when stop() was called"
    assert result["alive"] == [], f"threads still running after stop(): {result['alive']}"
