"""The benchmark's instruments: the bare reference app, the 100,000-order history, and the
lines `python -m microservicios.bench` prints. No speed is asserted, only that they work."""

import subprocess
import sys
from pathlib import Path

import httpx

from microservicios.bench.history import seed_history
from microservicios.bench.reference import reference_for
from tests.helpers import make_cluster, subprocess_env


def test_the_reference_app_answers_what_the_users_service_answers(tmp_path: Path):
    """GET /users/{id} on the bare app gives the same JSON as the users service for the
    same user, and a 404 for an id it does not hold."""
    with make_cluster(tmp_path / "cluster") as cluster:
        users = cluster.url("users")
        created = httpx.post(f"{users}/users/", json={"name": "Ana", "email": "ana@example.com"})
        user_id = created.json()["id"]
        served = httpx.get(f"{users}/users/{user_id}")
        assert served.status_code == 200
        (tmp_path / "reference").mkdir()
        with reference_for(served.json(), tmp_path / "reference") as reference:
            bare = httpx.get(f"{reference}/users/{user_id}")
            missing = httpx.get(f"{reference}/users/{user_id + 1}")
    assert bare.status_code == 200
    assert (
        bare.json() == served.json() == {"id": user_id, "name": "Ana", "email": "ana@example.com"}
    )
    assert missing.status_code == 404


def test_the_seeded_history_is_what_the_services_list(tmp_path: Path):
    """After seed_history, the orders service lists 100,000 CREATED orders (the last one
    with id 100000), users and items list what the orders name, and a new order lands on top."""
    history = seed_history(tmp_path)
    assert (history.orders, history.users, history.items) == (100_000, 1_000, 100)
    with make_cluster(tmp_path) as cluster:
        orders = cluster.url("orders") + "/orders/"
        last = httpx.get(orders, params={"offset": 99_999}).json()
        beyond = httpx.get(orders, params={"offset": 100_000}).json()
        first_page = httpx.get(orders, params={"limit": 100}).json()
        users = httpx.get(cluster.url("users") + "/users/", params={"offset": 999}).json()
        items = httpx.get(cluster.url("items") + "/items/", params={"limit": 200}).json()
        placed = httpx.post(
            cluster.url("gateway") + "/orders/",
            json={"user_id": last[0]["user_id"], "item_sku": last[0]["item_sku"], "qty": 1},
        )
    assert [order["id"] for order in last] == [100_000] and beyond == []
    assert {order["status"] for order in first_page + last} == {"CREATED"}
    assert len(users) == 1 and users[0]["id"] == 1_000
    assert len(items) == 100 and {order["item_sku"] for order in first_page} <= {
        item["sku"] for item in items
    }
    assert placed.status_code == 201, placed.text
    assert placed.json()["id"] == 100_001


def run_bench(*args: str, cwd: Path) -> str:
    finished = subprocess.run(
        [sys.executable, "-m", "microservicios.bench", "--seconds", "0.2", "--rounds", "1"]
        + ["--no-panel", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        cwd=cwd,
        env=subprocess_env(),
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_the_bench_prints_the_reference_both_modes_and_the_100k_line(tmp_path: Path):
    """A short run prints the reference app's row and ratio, the two modes side by side,
    orders/s after 100,000 orders with how they were seeded, and the memory lines."""
    output = run_bench(cwd=tmp_path)
    for line in (
        "app mínima de referencia",
        "Relación directo/referencia:",
        "Los dos modos",
        "relación gateway/directo",
        "Después de 100.000 órdenes",
        "con la base vacía",
        "INSERT directos en los archivos SQLite",
        "Memoria del proceso",
        "LogBook del cluster con historia",
    ):
        assert line in output, output
    modes = output[output.index("Los dos modos") :]
    assert "hilos" in modes and "procesos" in modes, output


def test_the_bench_skips_what_it_is_told_to(tmp_path: Path):
    """--skip-processes and --skip-100k leave those measurements out, and say so."""
    output = run_bench("--skip-processes", "--skip-100k", cwd=tmp_path)
    assert "Modo --processes: no medido (--skip-processes)." in output, output
    assert "Tras 100.000 órdenes: no medido (--skip-100k)." in output, output
    assert "Relación directo/referencia:" in output
