"""A fifth service added the way lab 6 says, in threads mode and in --processes mode."""

import os
import re
import signal

import httpx
import pytest

from microservicios import Cluster
from microservicios.common.registry import SERVICES, ServiceEntry
from tests.fifth_service import create_app as create_receipts
from tests.helpers import LineReader, start_cli


def place_order_and_read_its_receipt(gateway: str) -> None:
    """Through the gateway: a user, an item, an order, then the receipt service asks orders."""
    with httpx.Client(base_url=gateway, timeout=10) as http:
        user = http.post("/users/", json={"name": "Ana", "email": "ana@example.com"}).json()
        http.post("/items/", json={"name": "Lápiz", "sku": "LAPIZ-5", "stock": 3})
        order = http.post("/orders/", json={"user_id": user["id"], "item_sku": "LAPIZ-5", "qty": 2})
        assert order.status_code == 201, order.text
        receipt = http.get(f"/receipts/{order.json()['id']}")
        assert receipt.status_code == 200, receipt.text
        assert receipt.json() == {"order_id": order.json()["id"], "status": "CREATED", "qty": 2}
        assert http.get("/receipts/999").status_code == 404


def test_registry_lists_the_four_services_gateway_last():
    """The registry knows the classic four, in start order, with their classic ports."""
    assert SERVICES.names == ("users", "items", "orders", "gateway")
    assert SERVICES.classic_ports() == {
        "users": 8001,
        "items": 8002,
        "orders": 8003,
        "gateway": 8080,
    }
    added = SERVICES.with_services(ServiceEntry("receipts", "tests.fifth_service:create_app"))
    assert added.names == ("users", "items", "orders", "receipts", "gateway")
    assert SERVICES.names == ("users", "items", "orders", "gateway")  # unchanged


def test_fifth_service_in_threads_mode(tmp_path):
    """Cluster(factories=...) starts the fifth service; the gateway routes to it and it calls
    orders through its own client."""
    with Cluster(
        ports="auto", data_dir=tmp_path, factories={"receipts": create_receipts}
    ) as cluster:
        assert cluster.names == ("users", "items", "orders", "receipts", "gateway")
        place_order_and_read_its_receipt(cluster.url("gateway"))


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX-only here")
def test_fifth_service_in_processes_mode(tmp_path):
    """`--processes --service receipts=...` starts it as its own uvicorn process, with the
    gateway and orders URLs it needs; Ctrl-C stops all five."""
    process = start_cli(
        tmp_path,  # the package and tests come via PYTHONPATH
        *["--processes", "--quiet", "--ports", "auto", "--data-dir", str(tmp_path / "data")],
        *["--service", "receipts=tests.fifth_service:create_app"],
    )
    try:
        reader = LineReader(process.stdout)
        gateway_row = re.compile(r"^\s*gateway\s+(http://127\.0\.0\.1:\d+)")
        match = reader.wait_for(gateway_row, seconds=60)
        assert match, f"no gateway row in output:\n{''.join(reader.seen)}"
        assert any(line.strip().startswith("receipts") for line in reader.seen)
        place_order_and_read_its_receipt(match.group(1))
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
