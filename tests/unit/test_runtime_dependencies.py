"""A plain `pip install -e .` brings every package the running cluster imports.

The test extra installs more (Playwright, schemathesis...), and those can drag in a runtime
dependency the project forgot to name: greenlet came only through Playwright once, so the
README's first command crashed on a fresh install while every test passed. Here a cluster
runs in a fresh interpreter and serves an order, importing only distributions
reachable from the project's own [project].dependencies (with the extras they name): the
others are hidden from the interpreter, as if they were not installed.
"""

import json
import re
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

# Distributions outside the project's runtime closure cannot be imported here, as on a
# fresh `pip install -e .`; libraries that try an optional import go on without it.
RUN_CLUSTER = r"""
import importlib.abc, json, sys
blocked = set(json.loads(sys.argv[2]))

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
import httpx
from microservicios import Cluster
with Cluster(ports="auto", fresh=True, data_dir=sys.argv[1]) as cluster:
    http = httpx.Client(base_url=cluster.url("gateway"), timeout=30)
    user = http.post("/users/", json={"name": "Ana", "email": "ana@example.com"}).json()
    http.post("/items/", json={"name": "Taza", "sku": "SKU-1", "stock": 2})
    order = http.post("/orders/", json={"user_id": user["id"], "item_sku": "SKU-1", "qty": 1})
    assert order.status_code == 201, order.text
    cluster.panel_url()
print("order created")
"""


def runtime_closure(distribution: str) -> set[str]:
    """Normalized names of `distribution` and all it requires, following the named extras."""
    seen: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = [(distribution, frozenset())]
    while pending:
        name, extras = pending.pop()
        key = normalized(name)
        if (key, extras) in seen:
            continue
        seen.add((key, extras))  # type: ignore[arg-type]
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            marker = requirement.marker
            if marker is None or any(marker.evaluate(env) for env in environments):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in seen}  # type: ignore[misc]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_cluster_runs_with_only_its_own_dependencies(tmp_path) -> None:
    """With every other installed distribution hidden, a cluster starts and places an order."""
    closure = runtime_closure("microservicios")
    providers = metadata.packages_distributions()
    blocked = sorted(
        module
        for module, distributions in providers.items()
        if not any(normalized(dist) in closure for dist in distributions)
    )
    assert "playwright" in blocked and "greenlet" not in blocked
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLUSTER, str(tmp_path / "data"), json.dumps(blocked)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("order created")
