"""Outgoing HTTP calls between services: timeouts, safe retries and a circuit breaker.

`ServiceClient` calls one target service through its app's shared aiohttp session
(keep-alive, one pool per app). For every call it:
1. asks the breaker first: an open circuit refuses at once, without touching the network;
2. sends the attempt with the service token, the request id and a per-attempt timeout;
3. classifies what happened (never sent / sent without answer / answered) and tells the
   breaker (connection errors, timeouts and 5xx are failures; a 4xx is an answer);
4. retries only what the `RetryPolicy` says is safe, with backoff, within an overall
   deadline, never sleeping after the last attempt or while the circuit is open.
Any HTTP answer is returned; a call that got none raises `ServiceUnavailableError`.
"""

import asyncio
import json as jsonlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from microservicios.common.auth import add_service_auth
from microservicios.common.breaker import OPEN, CircuitBreaker
from microservicios.common.errors import CircuitOpenError, ServiceUnavailableError
from microservicios.common.logs import EventLogger, request_id_var
from microservicios.common.metrics import Metrics
from microservicios.common.middleware import REQUEST_ID_HEADER
from microservicios.common.retry import Outcome, RetryPolicy, is_idempotent, parse_retry_after
from microservicios.common.tracing import TRACEPARENT_HEADER, SpanContext, current_span, server_span


@dataclass(frozen=True)
class UpstreamResponse:
    """What a dependency answered: any status, headers as pairs, raw body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


@dataclass(frozen=True)
class CallTimeouts:
    connect: float = 0.25  # to open a connection
    attempt: float = 0.5  # for one attempt, answer included
    deadline: float = 1.5  # for the whole call, retries and waits included


def _call_span() -> SpanContext:
    """A child of the request being served, or a new trace for a call made outside one."""
    parent = current_span.get()
    return parent.child() if parent is not None else server_span(None)


class AttemptFailedError(Exception):
    """One attempt got no HTTP answer; `outcome` says whether the request left."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


def create_http_session() -> aiohttp.ClientSession:
    """One pooled session per app instance; must be created inside the app's event loop."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200),
        # A gateway serves many clients: it must never keep one client's cookies for another.
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    )


class ServiceClient:
    """Calls one target service on behalf of one calling service."""

    def __init__(
        self,
        *,
        caller: str,
        target: str,
        base_url: str,
        session: aiohttp.ClientSession,
        secret: str,
        logger: EventLogger,
        metrics: Metrics | None = None,
        breaker: CircuitBreaker,
        policy: RetryPolicy,
        timeouts: CallTimeouts,
        is_failure: Callable[[int], bool] = lambda status: status >= 500,
    ) -> None:
        self.caller = caller
        self.target = target
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self.policy = policy
        self.timeouts = timeouts
        self.is_failure = is_failure
        self._session = session
        self._secret = secret
        self._logger = logger
        self._metrics = metrics or Metrics(caller)

    def ensure_available(self) -> None:
        """Fail fast, before doing any work, if this dependency's circuit is open."""
        if self.breaker.state == OPEN:
            raise CircuitOpenError(self.target, self.breaker.retry_after())

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: list[tuple[str, str]] | None = None,
        query: str = "",
        idempotent: bool | None = None,
    ) -> UpstreamResponse:
        """Call `method path`; any HTTP answer is returned, no answer at all raises."""
        outgoing = self._outgoing_headers(headers)
        if idempotent is None:
            idempotent = is_idempotent(method, dict(outgoing))
        # Already percent-encoded by the caller: yarl must not re-encode (or decode) it.
        url = URL(self.base_url + path + (f"?{query}" if query else ""), encoded=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeouts.deadline
        attempt = 0
        while True:
            attempt += 1
            if not self.breaker.allow_request():
                self._metrics.observe_call(self.target, "circuit_open")
                raise CircuitOpenError(self.target, self.breaker.retry_after())
            if attempt > 1:
                self._metrics.observe_retry(self.target)
            budget = min(self.timeouts.attempt, deadline - loop.time())
            response, failure = await self._attempt(
                method, url, json, body, outgoing, budget, attempt
            )
            if failure is not None:
                outcome, status, retry_after = failure.outcome, None, None
            else:
                outcome, status = Outcome.ANSWERED, response.status
                retry_after = parse_retry_after(response.header("Retry-After"))
            if not self._worth_retrying(outcome, status, idempotent, attempt):
                break
            delay = self.policy.backoff(attempt, retry_after)
            if loop.time() + delay >= deadline or self.breaker.state == OPEN:
                break
            await asyncio.sleep(delay)
        if failure is not None:
            retry_after = self.breaker.retry_after() or None
            raise ServiceUnavailableError(self.target, failure.reason, retry_after)
        return response

    def _worth_retrying(
        self, outcome: Outcome, status: int | None, idempotent: bool, attempt: int
    ) -> bool:
        if attempt >= self.policy.max_attempts:
            return False
        return self.policy.should_retry(outcome, idempotent=idempotent, status=status)

    def _outgoing_headers(self, headers: list[tuple[str, str]] | None) -> CIMultiDict[str]:
        outgoing = CIMultiDict(headers or [])
        request_id = request_id_var.get()
        if request_id and REQUEST_ID_HEADER not in outgoing:
            outgoing[REQUEST_ID_HEADER] = request_id
        outgoing.update(add_service_auth(None, self._secret))
        return outgoing

    async def _attempt(
        self,
        method: str,
        url: URL,
        json: Any,
        body: bytes | None,
        headers: CIMultiDict[str],
        budget: float,
        attempt: int,
    ) -> tuple[UpstreamResponse | None, AttemptFailedError | None]:
        """One attempt, reported to the breaker, the log and the metrics."""
        span = _call_span()
        headers[TRACEPARENT_HEADER] = span.traceparent()
        started_at, started = time.time(), time.perf_counter()
        try:
            response = await self._send(method, url, json, body, headers, max(budget, 0.001))
        except AttemptFailedError as failure:
            self.breaker.record_failure()
            self._report(span, method, url, attempt, started_at, started, failure.outcome, None)
            return None, failure
        except BaseException:
            self.breaker.record_abandoned()  # cancelled: no verdict on the dependency
            raise
        if self.is_failure(response.status):
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        self._report(span, method, url, attempt, started_at, started, None, response.status)
        return response, None

    async def _send(
        self,
        method: str,
        url: URL,
        json: Any,
        body: bytes | None,
        headers: CIMultiDict[str],
        budget: float,
    ) -> UpstreamResponse:
        timeout = aiohttp.ClientTimeout(
            total=budget, sock_connect=min(self.timeouts.connect, budget)
        )
        try:
            async with self._session.request(
                method,
                url,
                json=json,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                payload = await response.read()
                return UpstreamResponse(response.status, list(response.headers.items()), payload)
        # Order matters: the most specific cause first. When in doubt, assume it was sent.
        except aiohttp.ClientConnectorError as exc:
            raise AttemptFailedError(Outcome.NOT_SENT, "no acepta conexiones") from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise AttemptFailedError(Outcome.NOT_SENT, "no aceptó la conexión a tiempo") from exc
        except TimeoutError as exc:
            raise AttemptFailedError(Outcome.TIMEOUT, "no respondió a tiempo") from exc
        except aiohttp.ClientError as exc:
            raise AttemptFailedError(
                Outcome.DISCONNECTED, "cortó la conexión sin responder"
            ) from exc

    def _report(
        self,
        span: SpanContext,
        method: str,
        url: URL,
        attempt: int,
        started_at: float,
        started: float,
        failure: Outcome | None,
        status: int | None,
    ) -> None:
        """One `http.call` event and metric per attempt: target, outcome, time, breaker."""
        if failure is not None:
            outcome = failure.value
        else:
            outcome = "error_5xx" if status >= 500 else "ok"  # for logs and metrics only
        self._metrics.observe_call(self.target, outcome)
        log = self._logger.info if outcome == "ok" else self._logger.warning
        log(
            "http.call",
            target=self.target,
            method=method,
            path=url.path,
            attempt=attempt,
            outcome=outcome,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            started_at=started_at,
            breaker=self.breaker.state,
            span_id=span.span_id,
            parent_span_id=span.parent_span_id,
        )
