"""Which headers cross the gateway, in each direction, and with which bytes.

Hop-by-hop headers (RFC 9110 §7.6.1) describe a single connection, so they stop here in
both directions; so does any X-Service-Token, both ways: only the gateway signs calls, and a
service's token is no client's business. The client's Forwarded / X-Forwarded-* claims are
replaced by what the gateway itself saw. Header bytes cross unchanged.
"""

from starlette.types import Scope

from microservicios.common.headers import (
    CONNECTION_HEADER,
    CONTENT_LENGTH_HEADER,
    FORWARDED_FOR_HEADER,
    FORWARDED_PROTO_HEADER,
    REQUEST_ID_HEADER,
    SERVICE_TOKEN_HEADER,
    TRACEPARENT_HEADER,
    TRACESTATE_HEADER,
)

_CONNECTION = CONNECTION_HEADER.lower()
_CONTENT_LENGTH = CONTENT_LENGTH_HEADER.lower()
HOP_BY_HOP = frozenset(
    {
        _CONNECTION,
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Recomputed or set by this hop itself; "x-real-ip" is another address a client could claim.
NOT_FORWARDED_REQUEST = HOP_BY_HOP | {
    "host",
    _CONTENT_LENGTH,
    SERVICE_TOKEN_HEADER.lower(),
    REQUEST_ID_HEADER.lower(),
    TRACEPARENT_HEADER,
    TRACESTATE_HEADER,
    "forwarded",
    "x-real-ip",
}
NOT_FORWARDED_REQUEST_PREFIXES = ("x-forwarded-",)
NOT_FORWARDED_RESPONSE = HOP_BY_HOP | {
    _CONTENT_LENGTH,
    "date",
    "server",
    SERVICE_TOKEN_HEADER.lower(),
}


class UndecodableHeaderError(Exception):
    """A request header value that the gateway cannot forward byte for byte."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def filter_headers(
    headers: list[tuple[str, str]], drop: frozenset[str], drop_prefixes: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """Headers minus `drop`, minus names starting with one of `drop_prefixes`, and minus
    any that a Connection header names as hop-by-hop."""
    lowered = [(name.lower(), name, value) for name, value in headers]
    listed = {
        token.strip().lower()
        for lower, _, value in lowered
        if lower == _CONNECTION
        for token in value.split(",")
    }
    return [
        (name, value)
        for lower, name, value in lowered
        if lower not in drop and lower not in listed and not lower.startswith(drop_prefixes)
    ]


def request_headers(scope: Scope) -> list[tuple[str, str]]:
    """The client's headers that may pass, plus X-Forwarded-For/Proto; values as text whose
    UTF-8 is the client's bytes, or `UndecodableHeaderError` when the bytes are not UTF-8."""
    # Latin-1 maps each byte to one character: lossless, and enough to filter by name.
    raw = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
    headers = filter_headers(raw, NOT_FORWARDED_REQUEST, NOT_FORWARDED_REQUEST_PREFIXES)
    for index, (name, value) in enumerate(headers):
        # aiohttp can only write values as UTF-8: no text would give a lone Latin-1 byte
        # back, so such a value is refused rather than sent altered. (isascii is O(1).)
        if not value.isascii():
            try:
                headers[index] = (name, value.encode("latin-1").decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise UndecodableHeaderError(name) from exc
    client = scope.get("client")
    if client:
        headers.append((FORWARDED_FOR_HEADER, client[0]))
    headers.append((FORWARDED_PROTO_HEADER, scope["scheme"]))
    return headers


def response_headers(
    raw: tuple[tuple[bytes, bytes], ...], body_length: int
) -> list[tuple[bytes, bytes]]:
    """The service's headers as it sent them (bytes untouched), minus what stops here."""
    decoded = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in filter_headers(decoded, NOT_FORWARDED_RESPONSE)
    ]
    headers.append((_CONTENT_LENGTH.encode(), str(body_length).encode()))
    return headers
