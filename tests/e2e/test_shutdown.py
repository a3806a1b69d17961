"""Stopping a cluster must stop every service thread, whatever work is still pending.

Run in a child process: if a service thread survives `stop()`, it dies with the child
instead of staying alive inside the test session.
"""

import json
import subprocess
import sys
import textwrap

SCENARIO = textwrap.dedent(
    """
    import json, sys, threading, time
    import httpx
    from microservicios import Cluster

    cluster = Cluster(ports="auto", data_dir=sys.argv[1])
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
    cluster.stop()
    alive = sorted(
        t.name for t in threading.enumerate()
        if t.name.startswith("microservicios-") and t.is_alive()
    )
    print(json.dumps({"order_status": order.status_code, "alive": alive}), flush=True)
    """
)


def test_stop_with_a_pending_stock_release_stops_every_thread(tmp_path):
    """With items down and an order's release pending, stop() still ends all four threads."""
    finished = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["order_status"] == 503
    assert result["alive"] == [], f"threads still running after stop(): {result['alive']}"
