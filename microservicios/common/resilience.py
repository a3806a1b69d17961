"""Builds each app's outgoing clients: one breaker and one retry policy per target."""

from collections.abc import Callable

import aiohttp
from fastapi import FastAPI

from microservicios.common.breaker import BreakerConfig, BreakerTransition, CircuitBreaker
from microservicios.common.client import CallTimeouts, ServiceClient
from microservicios.common.logs import EventLogger
from microservicios.common.metrics import Metrics
from microservicios.common.retry import RetryPolicy
from microservicios.common.settings import Settings

BreakerFactory = Callable[..., CircuitBreaker]

TRANSITION_EVENTS = {
    "open": "breaker.opened",
    "half_open": "breaker.half_open",
    "closed": "breaker.closed",
}


def report_transitions(
    logger: EventLogger, metrics: Metrics
) -> Callable[[BreakerTransition], None]:
    """Every breaker transition becomes a log event and a metric."""

    def on_transition(transition: BreakerTransition) -> None:
        metrics.observe_breaker(transition.target, transition.to_state, transitioned=True)
        logger.warning(
            TRANSITION_EVENTS[transition.to_state],
            caller=transition.caller,
            target=transition.target,
            from_state=transition.from_state,
            to_state=transition.to_state,
            at=transition.timestamp,
            at_epoch=transition.at,
            reason=transition.reason,
        )

    return on_transition


def build_breakers(
    app: FastAPI, targets: tuple[str, ...], factory: BreakerFactory = CircuitBreaker
) -> dict[str, CircuitBreaker]:
    settings: Settings = app.state.settings
    config = BreakerConfig(
        failure_threshold=settings.breaker_failure_threshold,
        reset_timeout=settings.breaker_reset_timeout,
        half_open_max_calls=settings.breaker_half_open_max_calls,
    )
    hook = report_transitions(app.state.logger, app.state.metrics)
    return {
        target: factory(app.state.service, target, config, on_transition=hook) for target in targets
    }


def call_timeouts(settings: Settings) -> CallTimeouts:
    return CallTimeouts(
        connect=settings.http_connect_timeout,
        attempt=settings.http_attempt_timeout,
        deadline=settings.http_deadline,
    )


def build_clients(app: FastAPI, session: aiohttp.ClientSession) -> dict[str, ServiceClient]:
    settings: Settings = app.state.settings
    timeouts = app.state.call_timeouts
    return {
        target: ServiceClient(
            caller=app.state.service,
            target=target,
            base_url=settings.service_url(target),
            session=session,
            secret=settings.service_secret.get_secret_value(),
            logger=app.state.logger,
            metrics=app.state.metrics,
            breaker=breaker,
            policy=RetryPolicy(
                max_attempts=settings.retry_max_attempts,
                base_delay=settings.retry_base_delay,
                max_delay=settings.retry_max_delay,
                retry_after_cap=settings.retry_after_cap,
            ),
            timeouts=timeouts,
            is_failure=app.state.is_failure,
        )
        for target, breaker in app.state.breakers.items()
    }


def server_error(status: int) -> bool:
    """For a service calling its dependencies: any 5xx answer counts against the target."""
    return status >= 500


def breakers_health(app: FastAPI) -> dict:
    """The `breakers` part of /health."""
    return {"breakers": {target: b.snapshot() for target, b in app.state.breakers.items()}}
