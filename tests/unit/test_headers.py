"""Which headers the gateway forwards, in each direction."""

from microservicios.gateway.proxy import (
    HOP_BY_HOP,
    NOT_FORWARDED_REQUEST,
    NOT_FORWARDED_RESPONSE,
    filter_headers,
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
