"""The `--processes` mode beside the threads mode: one uvicorn process per service, as
`python -m microservicios.cluster --processes` starts them, under the same loads.

Each child writes its JSON log lines to its stderr from the moment it starts; here they go
to a file (as a deployment hands them to a collector), so nobody parses or prints them
while the load runs and the bench's table stays readable.
"""

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from microservicios.cluster.processes import ProcessCluster
from microservicios.common.registry import SERVICES
from microservicios.serve.errors import ClusterError


@dataclass
class ModeFigures:
    """One mode's rounds of direct and gateway GETs (alternated), and its orders/s."""

    direct_rps: list[float]
    gateway_rps: list[float]
    orders_rps: float

    @staticmethod
    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    @property
    def direct(self) -> float:
        return self.median(self.direct_rps)

    @property
    def gateway(self) -> float:
        return self.median(self.gateway_rps)

    @property
    def ratio(self) -> float:
        """gateway/direct of the medians, as the table above the modes prints it."""
        return self.gateway / self.direct


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """This process's stderr (file descriptor 2, which children inherit) goes to `path`."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as target:
            os.dup2(target.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def measure_processes(measure, seed, load: dict, rounds: int) -> ModeFigures:  # noqa: ANN001
    """`rounds` alternated direct/gateway rounds and one orders load, on a ProcessCluster."""
    with tempfile.TemporaryDirectory() as data_dir:
        cluster = ProcessCluster({name: 0 for name in SERVICES.names}, Path(data_dir))
        log = Path(data_dir) / "services.log"
        try:
            with stderr_to(log):
                cluster.start()  # the children are spawned here, and keep this stderr
        except ClusterError:
            sys.stderr.write(log.read_text(errors="replace")[-4000:])  # why a child failed
            raise
        try:
            user_id, sku = seed(cluster)
            path = f"/users/{user_id}"
            figures = ModeFigures([], [], 0.0)
            for _ in range(rounds):
                figures.direct_rps.append(measure(cluster.url("users") + path, **load)["rps"])
                figures.gateway_rps.append(measure(cluster.url("gateway") + path, **load)["rps"])
            order = {"user_id": user_id, "item_sku": sku, "qty": 1}
            orders = measure(cluster.url("gateway") + "/orders/", method="POST", body=order, **load)
            figures.orders_rps = orders["rps"]
        finally:
            cluster.stop()
    return figures


def report(threads: ModeFigures, processes: ModeFigures | None, path: str) -> list[str]:
    """The two modes side by side; the processes column only if it was measured."""
    if processes is None:
        return ["Modo --processes: no medido (--skip-processes)."]
    rows = [
        (f"GET {path} directo (req/s)", f"{threads.direct:.0f}", f"{processes.direct:.0f}"),
        (f"GET {path} vía gateway (req/s)", f"{threads.gateway:.0f}", f"{processes.gateway:.0f}"),
        ("relación gateway/directo", f"{threads.ratio:.2f}", f"{processes.ratio:.2f}"),
        (
            "POST /orders/ vía gateway (órdenes/s)",
            f"{threads.orders_rps:.0f}",
            f"{processes.orders_rps:.0f}",
        ),
    ]
    lines = [
        f"Los dos modos (mediana de {len(processes.direct_rps)} rondas alternadas "
        "directo/gateway; en --processes, un proceso uvicorn por servicio):",
        f"  {'':<44} {'hilos':>9} {'procesos':>9}",
    ]
    lines += [f"  {label:<44} {left:>9} {right:>9}" for label, left, right in rows]
    return lines
