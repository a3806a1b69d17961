"""ServiceClient against tiny loopback servers: classification, retries, breaker, deadline."""

import asyncio
import contextlib

import pytest

from microservicios.common.breaker import OPEN, BreakerConfig, CircuitBreaker
from microservicios.common.client import CallTimeouts, ServiceClient, create_http_session
from microservicios.common.errors import CircuitOpenError, ServiceUnavailableError
from microservicios.common.retry import RetryPolicy
from microservicios.common.retry_budget import RetryBudget
from microservicios.telemetry.logs import EventLogger

KEEPALIVE = 2.5  # seconds a pooled connection may idle: longer than any scenario here


class Behaviour:
    """What the fake server does with each connection; counts the requests it saw."""

    def __init__(self, mode: str, status: int = 200, keepalive: float = 0.0) -> None:
        self.mode = mode
        self.status = status
        self.requests = 0
        # "keepalive": a request on a connection idle this long is met by the server closing
        # it, as when its keep-alive timer fires while the request is on its way.
        self.keepalive = keepalive


async def handle(behaviour: Behaviour, reader, writer) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if behaviour.mode == "keepalive" and loop.time() - idle_since >= behaviour.keepalive:
                return  # closed without an answer: the request was lost
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            behaviour.requests += 1
            if behaviour.mode == "hang":
                await asyncio.sleep(30)
            if behaviour.mode == "drop":
                writer.close()
                return
            body = b'{"ok":true}'
            writer.write(
                b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                % (behaviour.status, len(body), body)
            )
            await writer.drain()
            idle_since = loop.time()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def fake_server(behaviour: Behaviour):
    server = await asyncio.start_server(
        lambda r, w: handle(behaviour, r, w), host="127.0.0.1", port=0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def make_client(base_url: str, session, records: list, threshold: int = 5) -> ServiceClient:  # noqa: ANN001
    return ServiceClient(
        caller="orders",
        target="items",
        base_url=base_url,
        session=session,
        secret="s3cret",
        logger=EventLogger("orders", sinks=[records.append]),
        breaker=CircuitBreaker("orders", "items", BreakerConfig(failure_threshold=threshold)),
        policy=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002, retry_after_cap=1.0),
        timeouts=CallTimeouts(connect=0.2, attempt=0.2, deadline=2.0),
        budget=RetryBudget(ratio=0.2, min_retries=10, window=10.0),
    )


def outcomes(records: list) -> list[str]:
    return [r["outcome"] for r in records if r["event"] == "http.call" and r["outcome"] != "ok"]


def run(coroutine):  # noqa: ANN001, ANN201
    return asyncio.run(coroutine)


def test_refused_connection_is_not_sent_and_retried_even_for_post(nowhere: str) -> None:
    """Connection refused: nothing was sent, so even a POST is tried all 3 times."""

    async def scenario() -> list:
        records: list = []
        async with create_http_session(KEEPALIVE) as session:
            client = make_client(nowhere, session, records)
            with pytest.raises(ServiceUnavailableError, match="no acepta conexiones"):
                await client.request("POST", "/x", json={})
        return records

    assert outcomes(run(scenario())) == ["not_sent"] * 3


def test_timeout_on_post_is_not_retried() -> None:
    """A POST that got no answer may have been processed: it is sent exactly once."""

    async def scenario() -> tuple[list, int]:
        records: list = []
        behaviour = Behaviour("hang")
        async with fake_server(behaviour) as url, create_http_session(KEEPALIVE) as session:
            client = make_client(url, session, records)
            with pytest.raises(ServiceUnavailableError, match="no respondió a tiempo"):
                await client.request("POST", "/x", json={})
        return records, behaviour.requests

    records, seen = run(scenario())
    assert outcomes(records) == ["timeout"]
    assert seen == 1


def test_timeout_on_get_is_retried() -> None:
    """A GET is idempotent: after a timeout it is sent again, up to 3 attempts."""

    async def scenario() -> int:
        behaviour = Behaviour("hang")
        async with fake_server(behaviour) as url, create_http_session(KEEPALIVE) as session:
            client = make_client(url, session, [])
            with pytest.raises(ServiceUnavailableError):
                await client.request("GET", "/x")
        return behaviour.requests

    assert run(scenario()) == 3


def test_post_with_idempotency_key_is_retried_after_disconnect() -> None:
    """A connection cut after sending is retried when the POST carries an Idempotency-Key."""

    async def scenario() -> tuple[list, int]:
        records: list = []
        behaviour = Behaviour("drop")
        async with fake_server(behaviour) as url, create_http_session(KEEPALIVE) as session:
            client = make_client(url, session, records)
            with pytest.raises(ServiceUnavailableError, match="cortó la conexión"):
                await client.request("POST", "/x", json={}, headers=[("Idempotency-Key", "k")])
        return records, behaviour.requests

    records, seen = run(scenario())
    assert set(outcomes(records)) == {"disconnected"}
    assert seen == 3


def test_503_is_returned_after_retries_and_counts_as_failure() -> None:
    """A 503 is retried for a GET, then returned as an answer; the breaker counts each one."""

    async def scenario() -> tuple[int, int, dict]:
        behaviour = Behaviour("answer", status=503)
        async with fake_server(behaviour) as url, create_http_session(KEEPALIVE) as session:
            client = make_client(url, session, [], threshold=10)
            response = await client.request("GET", "/x")
            return response.status, behaviour.requests, client.breaker.snapshot()

    status, seen, snapshot = run(scenario())
    assert (status, seen) == (503, 3)
    assert snapshot["consecutive_failures"] == 3


@pytest.mark.parametrize("status", [404, 409, 422])
def test_4xx_is_an_answer_not_a_failure(status: int) -> None:
    """A 4xx comes back once, unretried, and the breaker records a success."""

    async def scenario() -> tuple[int, int, dict]:
        behaviour = Behaviour("answer", status=status)
        async with fake_server(behaviour) as url, create_http_session(KEEPALIVE) as session:
            client = make_client(url, session, [], threshold=1)
            response = await client.request("GET", "/x")
            return response.status, behaviour.requests, client.breaker.snapshot()

    got, seen, snapshot = run(scenario())
    assert (got, seen) == (status, 1)
    assert snapshot == {"state": "closed", "consecutive_failures": 0}


def test_open_breaker_refuses_without_touching_the_network() -> None:
    """Once open, a call raises CircuitOpenError with a Retry-After and sends nothing."""

    async def scenario() -> tuple[int, int, float | None]:
        behaviour = Behaviour("answer", status=503)
        async with fake_server(behaviour) as url, create_http_session(KEEPALIVE) as session:
            client = make_client(url, session, [], threshold=2)
            await client.request("GET", "/x")  # attempts 1-2 fail: circuit opens
            before = behaviour.requests
            with pytest.raises(CircuitOpenError) as refused:
                await client.request("GET", "/x")
            return before, behaviour.requests, refused.value.retry_after

    before, after, retry_after = run(scenario())
    assert before == 2  # the retry loop stopped as soon as the circuit opened
    assert after == before
    assert retry_after is not None and retry_after > 0


def test_service_token_and_request_id_are_sent() -> None:
    """Every outgoing call carries X-Service-Token and the current X-Request-ID."""
    seen_heads: list[bytes] = []

    async def scenario() -> None:
        from microservicios.telemetry.logs import request_id_var

        async def capture(reader, writer) -> None:  # noqa: ANN001
            seen_heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(capture, host="127.0.0.1", port=0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        request_id_var.set("req-42")
        async with create_http_session(KEEPALIVE) as session:
            await make_client(url, session, []).request("GET", "/x")
        server.close()

    run(scenario())
    head = seen_heads[0].lower()
    assert b"x-service-token: s3cret" in head
    assert b"x-request-id: req-42" in head


def test_breaker_state_is_open_after_repeated_refusals(nowhere: str) -> None:
    """Refused connections count as failures and open the circuit."""

    async def scenario() -> str:
        async with create_http_session(KEEPALIVE) as session:
            client = make_client(nowhere, session, [], threshold=3)
            with pytest.raises(ServiceUnavailableError):
                await client.request("GET", "/x")
            return client.breaker.state

    assert run(scenario()) == OPEN


def test_idle_connections_expire_before_the_servers_keepalive() -> None:
    """A POST sent just after the server's keep-alive timeout goes on a new connection:
    the pool dropped the idle one first, so the server's close never meets a request."""
    server_keepalive = 0.6

    async def scenario() -> tuple[list[int], list]:
        records: list = []
        behaviour = Behaviour("keepalive", keepalive=server_keepalive)
        async with (
            fake_server(behaviour) as url,
            create_http_session(keepalive_timeout=server_keepalive / 2) as session,
        ):
            client = make_client(url, session, records)
            statuses = []
            for _ in range(3):
                statuses.append((await client.request("POST", "/x", json={})).status)
                await asyncio.sleep(server_keepalive + 0.05)
        return statuses, records

    statuses, records = run(scenario())
    assert statuses == [200, 200, 200]
    assert outcomes(records) == []


def test_a_retry_storm_is_bounded_by_the_budget() -> None:
    """100 keyed POSTs to a service that always answers 503: without a budget that is 300
    attempts; with ratio 0.2 and a reserve of 10, at most 100 + 20 + 10 reach it, and the
    denied retries are counted in the metrics and logged."""

    async def scenario() -> tuple[int, list, float]:
        records: list = []
        behaviour = Behaviour("ok", status=503)
        async with fake_server(behaviour) as url, create_http_session(KEEPALIVE) as session:
            client = make_client(url, session, records, threshold=10_000)
            client.budget = RetryBudget(ratio=0.2, min_retries=10, window=60)
            for number in range(100):
                await client.request(
                    "POST", "/x", json={}, headers=[("Idempotency-Key", f"k{number}")]
                )
            denied = client._metrics.retries_denied.labels("orders", "items")._value.get()
        return behaviour.requests, records, denied

    requests, records, denied = run(scenario())
    assert 100 < requests <= 130
    assert denied >= 70  # most calls wanted a retry the budget refused
    assert any(r["event"] == "retry.budget_exhausted" for r in records)
