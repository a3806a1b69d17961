"""Each service on a host of its own, and one host cut off the network for real.

Every service runs as its own process (`python -m microservicios.cluster.child`) inside its
own Linux network namespace, with its own IP on a private bridge (tests/netns.py), and learns
the others' addresses from USERS_SERVICE_URL, ITEMS_SERVICE_URL... as on separate machines.
Pulling the items host's cable out of the switch (`ip link set ... down`) is not a refused
connection on loopback: packets just vanish, so only the timeouts can tell. The test checks
what a client of the gateway notices: a 503 that explains itself within the deadline (never a
500, never a hang), the breakers opening and, once the cable is back, closing; and that no
unit of stock is lost or created on the way.

Needs root and `ip` (iproute2) on Linux; elsewhere it skips, unless CI is set.
"""

import contextlib
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from microservicios.cluster.supervision import stop_processes
from microservicios.common.registry import SERVICES
from microservicios.serve.runner import ClusterError, wait_until_healthy
from tests.helpers import all_orders, create_item, create_user, post_order, subprocess_env
from tests.netns import VirtualNetwork, network_or_skip

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="los namespaces de red sólo existen en Linux"
)

GATEWAY_TIMEOUT_S = 5.0
BREAKER_RESET_S = 2.0
SETTINGS_ENV = {
    "HTTP_CONNECT_TIMEOUT": "1.0",
    "HTTP_ATTEMPT_TIMEOUT": "1.0",
    "HTTP_DEADLINE": "2.0",
    "GATEWAY_TIMEOUT": str(GATEWAY_TIMEOUT_S),
    "BREAKER_FAILURE_THRESHOLD": "3",
    "BREAKER_RESET_TIMEOUT": str(BREAKER_RESET_S),
    "LOG_LEVEL": "WARNING",
}
# A client of the gateway waits at most this long for any answer: longer is a hang.
ANSWER_BOUND_S = GATEWAY_TIMEOUT_S + 2.0
START_TIMEOUT_S = 45.0
STOP_TIMEOUT_S = 10.0
STOCK = 20
ORDERS_WHILE_CUT = 8


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def services_on(network: VirtualNetwork, workdir: Path) -> Iterator[dict[str, str]]:
    """Every registered service in its own host of `network`, on its classic port; yields
    their URLs once all answer /health, and stops them all on the way out."""
    urls = {
        entry.name: f"http://{network.hosts[entry.name].address}:{entry.port}" for entry in SERVICES
    }
    env = subprocess_env(
        SERVICE_SECRET=secrets.token_urlsafe(32),  # shared; off loopback it must not be known
        **SETTINGS_ENV,
        **{f"{name.upper()}_SERVICE_URL": url for name, url in urls.items()},
    )
    children: dict[str, tuple[subprocess.Popen, Path]] = {}
    try:
        for entry in SERVICES:
            data_dir = workdir / entry.name
            data_dir.mkdir(parents=True)
            log = workdir / f"{entry.name}.log"
            command = [
                *network.exec_prefix(entry.name),
                sys.executable, "-m", "microservicios.cluster.child",
                entry.import_path, network.hosts[entry.name].address, str(entry.port),
            ]  # fmt: skip
            with log.open("wb") as output:
                children[entry.name] = (
                    subprocess.Popen(
                        command,
                        cwd=data_dir,  # no developer's .env
                        env={**env, "DATA_DIR": str(data_dir)},
                        stdin=subprocess.PIPE,  # closing it stops the child (child.py)
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    ),
                    log,
                )
        deadline = time.monotonic() + START_TIMEOUT_S
        for entry in SERVICES:
            process, log = children[entry.name]
            address = network.hosts[entry.name].address
            try:
                wait_until_healthy(
                    entry.name,
                    address,
                    entry.port,
                    deadline,
                    still_running(entry.name, process),
                    poll=0.1,
                )
            except ClusterError as exc:
                pytest.fail(f"{exc}\n{log_tail(log)}")
        yield urls
    finally:
        stop_processes((process for process, _ in children.values()), STOP_TIMEOUT_S)


def still_running(name: str, process: subprocess.Popen) -> Callable[[], None]:
    """What `wait_until_healthy` calls while it waits: a service that died stops the wait."""

    def check() -> None:
        if process.poll() is not None:
            raise ClusterError(f"{name} terminó al arrancar (código {process.returncode})")

    return check


def breaker_state(http: httpx.Client, service_url: str, target: str) -> str:
    """The state of `service_url`'s breaker towards `target`, as its /health says."""
    response = http.get(f"{service_url}/health")
    assert response.status_code == 200, response.text
    return response.json()["breakers"][target]["state"]


def timed(call) -> tuple[httpx.Response, float]:  # noqa: ANN001
    """`call()`'s response and how long it took; a client timeout (a hang) fails the test."""
    started = time.monotonic()
    try:
        response = call()
    except httpx.TimeoutException:
        pytest.fail(f"Sin respuesta en {ANSWER_BOUND_S} s: el sistema se colgó.")
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, seconds: float, target: str) -> None:
    """A 503 that says which service is missing, within the bound (never a 500)."""
    assert response.status_code == 503, (response.status_code, response.text)
    assert f"'{target}'" in response.json()["detail"], response.text
    assert seconds <= ANSWER_BOUND_S, seconds


def wait_for(condition, seconds: float, poll: float = 0.1) -> bool:  # noqa: ANN001
    """Bounded wait for `condition()`, which may itself take time (it makes calls)."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / poll) + 1):
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return False


def conserved(http: httpx.Client, gateway: str, orders: str, item: dict) -> bool:
    """The item's stock plus the units of its CREATED orders is the initial stock, and
    orders has no stock release pending."""
    if http.get(f"{orders}/health").json().get("pending_releases"):
        return False
    stock = http.get(f"{gateway}/items/{item['id']}").json()["stock"]
    placed = sum(
        order["qty"]
        for order in all_orders(http, gateway)
        if order["item_sku"] == item["sku"] and order["status"] == "CREATED"
    )
    return stock + placed == STOCK


def test_a_host_cut_off_the_network_gives_503s_and_recovers(tmp_path):
    """Four hosts; an order through the gateway; items' cable pulled: 503 within the
    deadline and open breakers; cable back: orders succeed and the breakers close; no unit of
    stock appears or disappears."""
    with (
        network_or_skip(SERVICES.names) as network,
        services_on(network, tmp_path) as urls,
        httpx.Client(timeout=ANSWER_BOUND_S, trust_env=False) as http,
    ):
        gateway, orders = urls["gateway"], urls["orders"]

        # 1. Four hosts, four addresses; an order goes through all of them.
        assert len({httpx.URL(url).host for url in urls.values()}) == 4, urls
        user = create_user(http, gateway)
        item = create_item(http, gateway, stock=STOCK)
        first = post_order(http, gateway, user["id"], item["sku"], qty=2)
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "CREATED"

        # 2. Items' cable out: every order is a 503 naming items, in time; orders' breaker
        # to items opens. The gateway's own breaker to orders stays closed (a 503 is an
        # answer from orders, not a failure of it).
        network.cut("items")
        opened = False
        told_when: list[float] = []  # how long the answers that carried a Retry-After took
        for _ in range(ORDERS_WHILE_CUT):
            response, seconds = timed(lambda: post_order(http, gateway, user["id"], item["sku"]))
            assert_unavailable(response, seconds, "items")
            if response.headers.get("Retry-After"):
                told_when.append(seconds)
            opened = opened or breaker_state(http, orders, "items") == "open"
        assert opened or wait_for(lambda: breaker_state(http, orders, "items") == "open", 10)
        # Once open, the breaker answers at once, without waiting on the network, and says
        # when to come back.
        assert told_when and min(told_when) < 1.0, told_when
        assert breaker_state(http, gateway, "orders") == "closed"
        # Listing orders does not need items: it keeps working.
        assert http.get(f"{gateway}/orders/").status_code == 200

        # The gateway reads items directly: it too answers 503 in time, and its breaker opens.
        gateway_opened = False
        for _ in range(4):  # three failures open it; each call fails within the deadline
            response, seconds = timed(lambda: http.get(f"{gateway}/items/{item['id']}"))
            assert_unavailable(response, seconds, "items")
            gateway_opened = breaker_state(http, gateway, "items") == "open"
            if gateway_opened:
                break
        assert gateway_opened

        # 3. Cable back: within the breakers' reset time (plus a margin) orders succeed
        # again and both breakers to items are closed.
        network.restore("items")

        def order_succeeds() -> bool:
            response, seconds = timed(lambda: post_order(http, gateway, user["id"], item["sku"]))
            assert response.status_code in (201, 503), (response.status_code, response.text)
            assert seconds <= ANSWER_BOUND_S, seconds
            return response.status_code == 201

        assert wait_for(order_succeeds, BREAKER_RESET_S + 15, poll=0.2)
        assert breaker_state(http, orders, "items") == "closed"
        assert wait_for(
            lambda: http.get(f"{gateway}/items/{item['id']}").status_code == 200, 15, poll=0.2
        )
        assert breaker_state(http, gateway, "items") == "closed"

        # 4. Conservation, once compensation has given back every failed order's stock.
        assert wait_for(lambda: conserved(http, gateway, orders, item), 15, poll=0.2), (
            http.get(f"{gateway}/items/{item['id']}").json(),
            [o for o in all_orders(http, gateway) if o["item_sku"] == item["sku"]],
        )
