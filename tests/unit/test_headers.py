"""Which headers the gateway forwards, in each direction, and with which bytes."""

import pytest

from microservicios.gateway.forwarding import (
    HOP_BY_HOP,
    NOT_FORWARDED_REQUEST,
    NOT_FORWARDED_RESPONSE,
    UndecodableHeaderError,
    filter_headers,
    request_headers,
    response_headers,
)


def test_filter_headers_drops_hop_by_hop_headers():
    """Connection, Keep-Alive, Transfer-Encoding, TE, Upgrade... never cross the proxy."""
    headers = [
        ("Connection", "keep-alive"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("TE", "trailers"),
        ("Trailer", "X-Checksum"),
        ("Upgrade", "websocket"),
        ("Proxy-Authorization", "Basic abc"),
        ("Proxy-Connection", "keep-alive"),
        ("Content-Type", "application/json"),
    ]
    assert filter_headers(headers, HOP_BY_HOP) == [("Content-Type", "application/json")]


def test_filter_headers_drops_headers_named_by_connection():
    """A header listed in Connection is hop-by-hop too, whatever its case or spacing."""
    headers = [
        ("Connection", "close,  X-Foo ,x-BAR"),
        ("x-foo", "1"),
        ("X-Bar", "2"),
        ("X-Baz", "3"),
    ]
    assert filter_headers(headers, HOP_BY_HOP) == [("X-Baz", "3")]


def test_filter_headers_reads_every_connection_header():
    """Several Connection headers all count."""
    headers = [("Connection", "X-One"), ("Connection", "X-Two"), ("X-One", "1"), ("X-Two", "2")]
    assert filter_headers(headers, HOP_BY_HOP) == []


def test_filter_headers_keeps_other_headers_in_order_including_repeats():
    """End-to-end headers are kept, in order, repeated Set-Cookie included."""
    headers = [
        ("Set-Cookie", "a=1; Path=/"),
        ("X-Custom", "yes"),
        ("set-cookie", "b=2; Path=/"),
        ("Content-Type", "text/plain"),
    ]
    assert filter_headers(headers, NOT_FORWARDED_RESPONSE) == headers


def test_request_filter_drops_service_token_request_id_host_and_length():
    """A client cannot pass its own X-Service-Token, X-Request-ID, Host or Content-Length on."""
    headers = [
        ("Host", "evil.example"),
        ("Content-Length", "10"),
        ("X-Service-Token", "dev-secret"),
        ("x-service-token", "other"),
        ("X-Request-ID", "abc"),
        ("Accept", "application/json"),
    ]
    assert filter_headers(headers, NOT_FORWARDED_REQUEST) == [("Accept", "application/json")]


def test_response_filter_drops_length_date_and_server():
    """The gateway recomputes Content-Length and sets its own Date and Server."""
    headers = [
        ("Content-Length", "2"),
        ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
        ("Server", "uvicorn"),
        ("Content-Type", "application/json"),
    ]
    assert filter_headers(headers, NOT_FORWARDED_RESPONSE) == [("Content-Type", "application/json")]


def test_filter_headers_does_not_mutate_its_input():
    """The input list is left as it was."""
    headers = [("Connection", "X-Foo"), ("X-Foo", "1")]
    filter_headers(headers, HOP_BY_HOP)
    assert headers == [("Connection", "X-Foo"), ("X-Foo", "1")]


def scope_with(headers: list[tuple[bytes, bytes]], client=("10.0.0.7", 5555)) -> dict:
    return {"headers": headers, "client": client, "scheme": "https"}


def test_request_headers_replace_any_forwarded_claim():
    """Forwarded, X-Real-IP and every X-Forwarded-* go; the gateway states what it saw."""
    scope = scope_with(
        [
            (b"forwarded", b"for=6.6.6.6"),
            (b"x-forwarded-for", b"6.6.6.6"),
            (b"x-forwarded-server", b"evil"),
            (b"x-real-ip", b"6.6.6.6"),
            (b"accept", b"*/*"),
        ]
    )
    assert request_headers(scope) == [
        ("accept", "*/*"),
        ("X-Forwarded-For", "10.0.0.7"),
        ("X-Forwarded-Proto", "https"),
    ]


def test_request_headers_without_a_client_address_add_no_forwarded_for():
    """Served on a Unix socket there is no client address to state."""
    assert request_headers(scope_with([], client=None)) == [("X-Forwarded-Proto", "https")]


def test_request_header_values_are_text_whose_utf8_is_the_clients_bytes():
    """aiohttp writes values as UTF-8: 'café' in UTF-8 must be handed over as 'café'."""
    [(name, value), *_] = request_headers(scope_with([(b"x-nombre", "café".encode())]))
    assert (name, value.encode("utf-8")) == ("x-nombre", "café".encode())


def test_request_header_that_is_not_utf8_raises_naming_it():
    """A Latin-1 byte alone cannot be written back by aiohttp: refused, not altered."""
    with pytest.raises(UndecodableHeaderError) as caught:
        request_headers(scope_with([(b"x-nombre", b"caf\xe9")]))
    assert caught.value.name == "x-nombre"


def test_response_headers_keep_their_bytes_and_drop_the_service_token():
    """Bytes pass untouched (Latin-1 or UTF-8); X-Service-Token and Date stop here."""
    raw = (
        (b"X-Latin1", b"caf\xe9"),
        (b"X-Service-Token", b"secret"),
        (b"Date", b"Mon, 01 Jan 2024 00:00:00 GMT"),
        (b"X-Utf8", "café".encode()),
    )
    assert response_headers(raw, 5) == [
        (b"x-latin1", b"caf\xe9"),
        (b"x-utf8", "café".encode()),
        (b"content-length", b"5"),
    ]
