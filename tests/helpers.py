"""Small helpers for tests that talk to real sockets on 127.0.0.1."""

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def raw_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> RawResponse:
    """Send `method path` with the request target exactly as given (no normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(base_url), timeout=10)
    try:
        # skip_host/accept_encoding off: we add what we need ourselves.
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{port_of(base_url)}")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def connection_refused(port: int) -> bool:
    """True if nothing accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def port_is_free(port: int) -> bool:
    """True if this process can bind and listen on 127.0.0.1:port right now."""
    try:
        with socket.create_server(("127.0.0.1", port)):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A port the OS says is free now (it may be taken again later: use it at once)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]
