"""A plain `pip install -e .` brings every package the running cluster imports.

The test extra installs more (Playwright, schemathesis...), and those can drag in a runtime
dependency the project forgot to name: greenlet came only through Playwright once, so the
README's first command crashed on a fresh install while every test passed. Here a cluster
runs in a fresh interpreter, serves an order, and each distribution it imported must be
reachable from the project's own [project].dependencies (with the extras they name).
"""

import json
import re
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

RUN_CLUSTER = r"""
import json, sys
import httpx  # the test's own client; it imports the optional rich and click if present
before = set(sys.modules)
from microservicios import Cluster
with Cluster(ports="auto", fresh=True, data_dir=sys.argv[1]) as cluster:
    http = httpx.Client(base_url=cluster.url("gateway"), timeout=30)
    user = http.post("/users/", json={"name": "Ana", "email": "ana@example.com"}).json()
    http.post("/items/", json={"name": "Taza", "sku": "SKU-1", "stock": 2})
    order = http.post("/orders/", json={"user_id": user["id"], "item_sku": "SKU-1", "qty": 1})
    assert order.status_code == 201, order.text
    cluster.panel_url()
print(json.dumps(sorted({name.split(".")[0] for name in set(sys.modules) - before})))
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


def test_the_cluster_imports_only_what_its_own_dependencies_bring(tmp_path) -> None:
    """Every distribution a running cluster imports comes with a plain install of the project."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLUSTER, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    providers = metadata.packages_distributions()
    used = {normalized(dist) for module in imported for dist in providers.get(module, [])}
    assert "greenlet" in used, "the cluster should run SQLAlchemy's asyncio layer"
    missing = used - runtime_closure("microservicios")
    assert not missing, f"imported at run time, but not brought by `pip install -e .`: {missing}"
