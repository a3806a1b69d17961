"""Builds each app's outgoing clients: one breaker and one retry policy per target."""

from collections.abc import Callable
from types import MappingProxyType

import aiohttp

from microservicios.common.breaker import BreakerConfig, BreakerTransition, CircuitBreaker
from microservicios.common.client import CallTimeouts, ServiceClient
from microservicios.common.retry import RETRYABLE_STATUSES, RetryPolicy
from microservicios.common.retry_budget import RetryBudget
from microservicios.common.settings import Settings
from microservicios.telemetry.events import BREAKER_CLOSED, BREAKER_HALF_OPEN, BREAKER_OPENED
from microservicios.telemetry.logs import EventLogger
from microservicios.telemetry.metrics import Metrics

BreakerFactory = Callable[..., CircuitBreaker]

TRANSITION_EVENTS = MappingProxyType(
    {
        "open": BREAKER_OPENED,
        "half_open": BREAKER_HALF_OPEN,
        "closed": BREAKER_CLOSED,
    }
)


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
    caller: str,
    targets: tuple[str, ...],
    *,
    settings: Settings,
    logger: EventLogger,
    metrics: Metrics,
    factory: BreakerFactory = CircuitBreaker,
) -> dict[str, CircuitBreaker]:
    """One breaker per target, configured from settings, reporting its transitions."""
    config = BreakerConfig.from_settings(settings)
    hook = report_transitions(logger, metrics)
    return {target: factory(caller, target, config, on_transition=hook) for target in targets}


def build_clients(
    caller: str,
    breakers: dict[str, CircuitBreaker],
    *,
    session: aiohttp.ClientSession,
    settings: Settings,
    logger: EventLogger,
    metrics: Metrics,
    timeouts: CallTimeouts | None = None,
    is_failure: Callable[[int], bool],
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES,
) -> dict[str, ServiceClient]:
    """One client per breaker's target, all sharing the app's HTTP session."""
    return {
        target: ServiceClient(
            caller=caller,
            target=target,
            base_url=settings.service_url(target),
            session=session,
            secret=settings.service_secret.get_secret_value(),
            logger=logger,
            metrics=metrics,
            breaker=breaker,
            policy=RetryPolicy.from_settings(settings, retryable_statuses=retryable_statuses),
            budget=RetryBudget.from_settings(settings),
            timeouts=timeouts or CallTimeouts.from_settings(settings),
            is_failure=is_failure,
        )
        for target, breaker in breakers.items()
    }
