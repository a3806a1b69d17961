"""A small private network of Linux network namespaces, for tests that need real hosts.

`VirtualNetwork(["users", "items", ...])` builds, as root, with `ip`:
- one namespace per host, with `lo` up and an `eth0` holding its own address;
- a "switch" namespace with a bridge, and one veth from the bridge to each host's `eth0`;
- one veth from this process's namespace to the bridge, with an address of its own, so the
  test reaches every host directly.

The addresses are in a 10.203.X.0/24 that no route of this machine covers, and every name
carries a random tag: two runs at once never meet. `cut(host)` takes the host's cable out
of the switch (`ip link set ... down`), `restore(host)` plugs it back. Leaving the `with`
deletes everything it created, even when the setup itself failed halfway: the namespaces
(which takes their veths with them) and this namespace's veth.

Processes started in a namespace keep it alive after `ip netns del`: stop them first (in
`with network_or_skip(...) as net, your_processes(net):` the processes stop first).
"""

import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest

# root's PATH has /usr/sbin, another user's may not (they get a skip, but a clear one).
IP = shutil.which("ip") or next(
    (path for path in ("/usr/sbin/ip", "/sbin/ip") if os.access(path, os.X_OK)), None
)
NETWORK_PREFIX = "10.203"
BRIDGE = "br0"
IP_TIMEOUT_S = 10.0


class NamespacesUnavailableError(RuntimeError):
    """This machine cannot give us network namespaces (not Linux, not root, no `ip`...)."""


@dataclass(frozen=True)
class Host:
    name: str
    namespace: str
    address: str
    switch_port: str  # its cable's end on the bridge, inside the switch namespace


def run_ip(*args: str) -> str:
    """`ip args...`; a RuntimeError with ip's own message if it fails."""
    if IP is None:
        raise NamespacesUnavailableError("falta el comando ip (paquete iproute2)")
    done = subprocess.run(
        [IP, *args], capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def namespaces_unavailable_reason() -> str | None:
    """Why this machine cannot create network namespaces, in Spanish; None if it can."""
    if not sys.platform.startswith("linux"):
        return "los namespaces de red sólo existen en Linux"
    if IP is None:
        return "falta el comando ip (apt-get install iproute2)"
    if os.geteuid() != 0:
        return "crear namespaces de red (ip netns) requiere ser root"
    return None


def free_subnet() -> ipaddress.IPv4Network:
    """A 10.203.X.0/24 that no route or address of this namespace overlaps."""
    taken = [
        ipaddress.ip_network(route["dst"], strict=False)
        for route in json.loads(run_ip("-j", "-4", "route", "show", "table", "all") or "[]")
        if route.get("dst", "default") != "default"
    ]
    candidates = list(range(1, 255))
    secrets.SystemRandom().shuffle(candidates)
    for third in candidates:
        subnet = ipaddress.ip_network(f"{NETWORK_PREFIX}.{third}.0/24")
        if not any(subnet.overlaps(route) for route in taken):
            return subnet
    raise RuntimeError(f"no queda ninguna red libre en {NETWORK_PREFIX}.0.0/16")


class VirtualNetwork:
    """Namespaces joined by a bridge, one per name; a context manager that cleans up."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        self.tag = secrets.token_hex(3)  # six hex digits: interface names stay <= 15 chars
        self.switch = f"ms-{self.tag}-switch"
        self.local_port = f"ms{self.tag}h"  # in this process's namespace
        self.hosts: dict[str, Host] = {}
        self.local_address = ""
        self._namespaces: list[str] = []
        self._local_port_created = False

    def __enter__(self) -> "VirtualNetwork":
        reason = namespaces_unavailable_reason()
        if reason is not None:
            raise NamespacesUnavailableError(reason)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _add_namespace(self, namespace: str) -> None:
        run_ip("netns", "add", namespace)
        self._namespaces.append(namespace)
        run_ip("-n", namespace, "link", "set", "lo", "up")

    def _build(self) -> None:
        try:
            self._add_namespace(self.switch)
        except RuntimeError as exc:  # the first one says whether we can at all
            raise NamespacesUnavailableError(
                f"no se pudo crear un namespace de red: {exc}"
            ) from exc
        subnet = free_subnet()
        addresses = subnet.hosts()
        prefix = subnet.prefixlen
        run_ip("-n", self.switch, "link", "add", BRIDGE, "type", "bridge")
        run_ip("-n", self.switch, "link", "set", BRIDGE, "up")

        # This process's cable to the switch: created here with its peer already there.
        self.local_address = str(next(addresses))
        run_ip(
            "link", "add", self.local_port, "type", "veth",
            "peer", "name", f"ms{self.tag}p", "netns", self.switch,
        )  # fmt: skip
        self._local_port_created = True
        self._plug(f"ms{self.tag}p")
        run_ip("addr", "add", f"{self.local_address}/{prefix}", "dev", self.local_port)
        run_ip("link", "set", self.local_port, "up")

        for index, name in enumerate(self.names):
            host = Host(
                name=name,
                namespace=f"ms-{self.tag}-{name}",
                address=str(next(addresses)),
                switch_port=f"ms{self.tag}-{index}",
            )
            self._add_namespace(host.namespace)
            # Created in the switch, with its other end already inside the host as eth0.
            run_ip(
                "-n", self.switch, "link", "add", host.switch_port, "type", "veth",
                "peer", "name", "eth0", "netns", host.namespace,
            )  # fmt: skip
            self._plug(host.switch_port)
            run_ip("-n", host.namespace, "addr", "add", f"{host.address}/{prefix}", "dev", "eth0")
            run_ip("-n", host.namespace, "link", "set", "eth0", "up")
            self.hosts[name] = host

    def _plug(self, port: str) -> None:
        run_ip("-n", self.switch, "link", "set", port, "master", BRIDGE)
        run_ip("-n", self.switch, "link", "set", port, "up")

    def exec_prefix(self, name: str) -> list[str]:
        """Prepend to a command to run it inside host `name`."""
        assert IP is not None
        return [IP, "netns", "exec", self.hosts[name].namespace]

    def cut(self, name: str) -> None:
        """Unplug host `name` from the switch: its packets go nowhere, nobody's reach it."""
        run_ip("-n", self.switch, "link", "set", self.hosts[name].switch_port, "down")

    def restore(self, name: str) -> None:
        run_ip("-n", self.switch, "link", "set", self.hosts[name].switch_port, "up")

    def close(self) -> None:
        """Delete every namespace and veth this network created; never raises."""
        for namespace in reversed(self._namespaces):
            try:
                run_ip("netns", "del", namespace)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        self._namespaces.clear()
        if self._local_port_created:
            # Deleting the switch took its peer, and so this end, with it; just in case:
            try:
                run_ip("link", "del", self.local_port)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            self._local_port_created = False


@contextlib.contextmanager
def network_or_skip(names: Iterable[str]) -> Iterator[VirtualNetwork]:
    """A `VirtualNetwork`, or a skip where this machine cannot make namespaces; in CI (the
    `CI` variable set) that is a failure instead, as for a missing browser."""
    network = VirtualNetwork(names)
    try:
        network.__enter__()
    except NamespacesUnavailableError as exc:
        reason = f"No se pueden crear namespaces de red para la prueba multi-host: {exc}."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield network
    finally:
        network.close()
