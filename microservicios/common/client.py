"""Outgoing HTTP calls between services: timeouts, safe retries and a circuit breaker.

`ServiceClient` calls one target service through its app's shared aiohttp session
(keep-alive, one pool per app). For every call it:
1. asks the breaker first: an open circuit refuses at once, without touching the network;
2. sends the attempt with the service token, the request id and a per-attempt timeout;
3. classifies what happened (never sent / sent without answer / answered) and tells the
   breaker (connection errors, timeouts and 5xx are failures; a 4xx is an answer);
4. retries only what the `RetryPolicy` says is safe, with backoff, within an overall
   deadline and the client's `RetryBudget`, never sleeping after the last attempt or
   while the circuit is open.
Each attempt is described by one frozen `Attempt` record, which is logged and judged.
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
from microservicios.common.errors import (
    UNKNOWN_RETRY_AFTER,
    CircuitOpenError,
    ServiceUnavailableError,
)
from microservicios.common.headers import REQUEST_ID_HEADER, RETRY_AFTER_HEADER, TRACEPARENT_HEADER
from microservicios.common.retry import Outcome, RetryPolicy, is_idempotent, parse_retry_after
from microservicios.common.retry_budget import RetryBudget
from microservicios.common.settings import Settings
from microservicios.telemetry.events import HTTP_CALL, RETRY_BUDGET_EXHAUSTED
from microservicios.telemetry.logs import EventLogger, request_id_var
from microservicios.telemetry.metrics import Metrics
from microservicios.telemetry.tracing import SpanContext, current_span, server_span


@dataclass(frozen=True)
class UpstreamResponse:
    """What a dependency answered: any status, headers as pairs, raw body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    # The same headers as bytes on the wire: aiohttp decodes them as UTF-8, which cannot
    # give back a Latin-1 byte. The gateway forwards these.
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


@dataclass(frozen=True)
class CallTimeouts:
    """Seconds allowed for one call; built from `Settings`, the one source of defaults."""

    connect: float  # to open a connection
    attempt: float  # for one attempt, answer included
    deadline: float  # for the whole call, retries and waits included

    @classmethod
    def from_settings(cls, settings: Settings) -> "CallTimeouts":
        return cls(
            connect=settings.http_connect_timeout,
            attempt=settings.http_attempt_timeout,
            deadline=settings.http_deadline,
        )


@dataclass(frozen=True)
class OutgoingRequest:
    """One call as the caller asked for it; every attempt sends the same."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    json: Any = None
    body: bytes | None = None


@dataclass(frozen=True)
class Attempt:
    """What one attempt gave: an HTTP answer, or an outcome saying why there was none."""

    number: int  # 1 for the first attempt
    outcome: Outcome
    response: UpstreamResponse | None  # None unless outcome is ANSWERED
    reason: str  # why there was no answer, in Spanish ("" when answered)
    started_at: float  # wall clock, seconds since the epoch
    duration: float  # seconds
    span: SpanContext

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None

    @property
    def retry_after(self) -> float | None:
        if self.response is None:
            return None
        return parse_retry_after(self.response.header(RETRY_AFTER_HEADER))


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


def create_http_session(keepalive_timeout: float) -> aiohttp.ClientSession:
    """One pooled session per app instance; must be created inside the app's event loop.

    `keepalive_timeout` must be shorter than the servers' own keep-alive timeout: a request
    sent on a connection the server is closing at that moment is lost, and for a POST we
    cannot know whether it was processed (see Settings.client_keepalive_timeout).
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=keepalive_timeout),
        # A gateway serves many clients: it must never keep one client's cookies for another.
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    )


def server_error(status: int) -> bool:
    """For a service calling its dependencies: any 5xx answer counts against the target."""
    return status >= 500


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
        budget: RetryBudget,
        is_failure: Callable[[int], bool] = server_error,
    ) -> None:
        self.caller = caller
        self.target = target
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self.policy = policy
        self.timeouts = timeouts
        self.is_failure = is_failure
        self.budget = budget
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
        call = OutgoingRequest(method, url, outgoing, json, body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeouts.deadline
        self.budget.record_request()
        number = 0
        while True:
            number += 1
            self._admit(number)
            budget = min(self.timeouts.attempt, deadline - loop.time())
            attempt = await self._attempt(call, number, budget)
            if not self._worth_retrying(attempt, idempotent):
                break
            delay = self.policy.backoff(number, attempt.retry_after)
            if loop.time() + delay >= deadline or self.breaker.state == OPEN:
                break
            if not self.budget.try_spend():
                self._metrics.observe_retry_denied(self.target)
                self._logger.warning(RETRY_BUDGET_EXHAUSTED, target=self.target, attempt=number)
                break
            await asyncio.sleep(delay)
        if attempt.response is None:
            # The breaker may have opened on this very call: then its cool-down is the wait.
            retry_after = self.breaker.retry_after() or UNKNOWN_RETRY_AFTER
            raise ServiceUnavailableError(self.target, attempt.reason, retry_after)
        return attempt.response

    def _admit(self, number: int) -> None:
        """Ask the breaker before each attempt: an open circuit refuses without sending."""
        if not self.breaker.allow_request():
            self._metrics.observe_call(self.target, "circuit_open")
            raise CircuitOpenError(self.target, self.breaker.retry_after())
        if number > 1:
            self._metrics.observe_retry(self.target)

    def _worth_retrying(self, attempt: Attempt, idempotent: bool) -> bool:
        if attempt.number >= self.policy.max_attempts:
            return False
        return self.policy.should_retry(
            attempt.outcome, idempotent=idempotent, status=attempt.status
        )

    def _outgoing_headers(self, headers: list[tuple[str, str]] | None) -> CIMultiDict[str]:
        outgoing = CIMultiDict(headers or [])
        request_id = request_id_var.get()
        if request_id and REQUEST_ID_HEADER not in outgoing:
            outgoing[REQUEST_ID_HEADER] = request_id
        outgoing.update(add_service_auth(None, self._secret))
        return outgoing

    async def _attempt(self, call: OutgoingRequest, number: int, budget: float) -> Attempt:
        """One attempt, judged by the breaker and reported to the log and the metrics."""
        span = _call_span()
        headers = call.headers.copy()
        headers[TRACEPARENT_HEADER] = span.traceparent()
        started_at, started = time.time(), time.perf_counter()
        response: UpstreamResponse | None = None
        try:
            answered = await self._send(call, headers, max(budget, 0.001))
        except AttemptFailedError as failure:
            self.breaker.record_failure()
            outcome, reason = failure.outcome, failure.reason
        except BaseException:
            self.breaker.record_abandoned()  # cancelled: no verdict on the dependency
            raise
        else:
            if self.is_failure(answered.status):
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            outcome, response, reason = Outcome.ANSWERED, answered, ""
        attempt = Attempt(
            number=number,
            outcome=outcome,
            response=response,
            reason=reason,
            started_at=started_at,
            duration=time.perf_counter() - started,
            span=span,
        )
        self._report(call, attempt)
        return attempt

    async def _send(
        self, call: OutgoingRequest, headers: CIMultiDict[str], budget: float
    ) -> UpstreamResponse:
        timeout = aiohttp.ClientTimeout(
            total=budget, sock_connect=min(self.timeouts.connect, budget)
        )
        try:
            async with self._session.request(
                call.method,
                call.url,
                json=call.json,
                data=call.body,
                headers=headers,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                payload = await response.read()
                return UpstreamResponse(
                    response.status,
                    list(response.headers.items()),
                    payload,
                    response.raw_headers,
                )
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

    def _report(self, call: OutgoingRequest, attempt: Attempt) -> None:
        """One `http.call` event and metric per attempt: target, outcome, time, breaker."""
        if attempt.response is None:
            outcome = attempt.outcome.value
        else:  # for logs and metrics only
            outcome = "error_5xx" if attempt.response.status >= 500 else "ok"
        self._metrics.observe_call(self.target, outcome)
        log = self._logger.info if outcome == "ok" else self._logger.warning
        log(
            HTTP_CALL,
            target=self.target,
            method=call.method,
            path=call.url.path,
            attempt=attempt.number,
            outcome=outcome,
            status=attempt.status,
            duration_ms=round(attempt.duration * 1000, 3),
            started_at=attempt.started_at,
            breaker=self.breaker.state,
            span_id=attempt.span.span_id,
            parent_span_id=attempt.span.parent_span_id,
        )
