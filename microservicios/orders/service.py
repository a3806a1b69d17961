"""Placing an order: a small saga across three services.

1. Write the order as PENDING (this also claims the client's Idempotency-Key).
2. Check the user with the users service.
3. Reserve the stock with the items service, under the order's own reservation id.
4. Mark the order CREATED.

Each step talks to a different service with its own database, so no transaction covers
them. When a step fails, the order is marked FAILED and, if a reservation was requested,
its release is left to the compensation task (`compensation.py`), which retries until the
items service confirms it. A "no" from items (404, 409) does not prove that an earlier,
timed-out attempt did not land, so the release is requested then too: it is idempotent.
"""

import asyncio
import hashlib
import json

from fastapi import FastAPI

from microservicios.common.errors import ServiceUnavailableError
from microservicios.orders import crud, remote
from microservicios.orders.models import PENDING, Order
from microservicios.orders.schemas import OrderCreate

KEY_WAIT_SECONDS = 3.0
KEY_POLL_SECONDS = 0.02


class IdempotencyKeyMismatchError(Exception):
    """The key was already used with a different request body."""


class OrderInProgressError(Exception):
    """A request with the same key is still being placed."""


def fingerprint(data: OrderCreate) -> str:
    canonical = json.dumps(data.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def place_order(
    app: FastAPI, data: OrderCreate, key: str | None = None
) -> tuple[Order, bool]:
    """The order and whether it is a replay of an earlier request with the same key."""
    users, items = app.state.clients["users"], app.state.clients["items"]
    # An open circuit means we already know the answer: say so before doing any work.
    users.ensure_available()
    items.ensure_available()

    claimed = await _claim(app, data, key)
    if claimed.status != PENDING:
        return claimed, True
    order = claimed
    sessionmaker, logger = app.state.sessionmaker, app.state.logger
    reservation_requested = False
    try:
        await remote.check_user_exists(users, user_id=data.user_id)
        reservation_requested = True
        await remote.reserve_stock(
            items, reservation_id=order.reservation_id, sku=data.item_sku, qty=data.qty
        )
        with sessionmaker() as session:
            session.add(order)
            crud.mark_created(session, order=order)
    except BaseException as exc:
        _log_failure(logger, exc, data)
        with sessionmaker() as session:
            session.add(order)
            crud.mark_failed(session, order=order, release_stock=reservation_requested)
        if reservation_requested:
            app.state.compensation_wakeup.set()
        raise
    logger.info("order.created", order_id=order.id, sku=order.item_sku, qty=order.qty)
    return order, False


async def _claim(app: FastAPI, data: OrderCreate, key: str | None) -> Order:
    """A new PENDING order, or the finished order an earlier request with `key` placed."""
    body_print = fingerprint(data) if key else None
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + KEY_WAIT_SECONDS
    while True:
        with app.state.sessionmaker() as session:
            existing = crud.find_by_key(session, key=key) if key else None
            if existing is None:
                try:
                    return crud.claim_order(session, data=data, key=key, fingerprint=body_print)
                except crud.KeyTakenError:
                    continue  # claimed by a racing duplicate a moment ago: look again
        if existing.request_fingerprint != body_print:
            raise IdempotencyKeyMismatchError(key)
        if existing.status != PENDING:
            return existing
        if loop.time() > give_up_at:
            raise OrderInProgressError(key)
        await asyncio.sleep(KEY_POLL_SECONDS)


def _log_failure(logger, exc: BaseException, data: OrderCreate) -> None:  # noqa: ANN001
    if isinstance(exc, remote.UserNotFoundError):
        logger.info("user.not_found", user_id=data.user_id)
    elif isinstance(exc, remote.SkuNotFoundError):
        logger.info("item.not_found", sku=data.item_sku)
    elif isinstance(exc, remote.NotEnoughStockError):
        logger.info("item.no_stock", sku=data.item_sku, qty=data.qty)
    elif isinstance(exc, ServiceUnavailableError):
        logger.warning("order.dependency_unavailable", target=exc.service, reason=exc.reason)
    else:
        logger.error("order.failed", error=type(exc).__name__)


async def cancel_order(app: FastAPI, order_id: int) -> Order:
    """CANCELLED once; the stock goes back now if items answers, else by compensation."""
    with app.state.sessionmaker() as session:
        order = crud.start_cancel(session, order_id=order_id)
    if not await release_now(app, order):
        app.state.compensation_wakeup.set()
    return order


async def release_now(app: FastAPI, order: Order) -> bool:
    """Try once to give an order's stock back; False if items did not confirm it."""
    if not order.release_pending:
        return True
    try:
        await remote.release_stock(app.state.clients["items"], reservation_id=order.reservation_id)
    except ServiceUnavailableError:
        return False
    with app.state.sessionmaker() as session:
        crud.mark_released(session, order_id=order.id)
    order.release_pending = False
    app.state.logger.info("reservation.released", order_id=order.id, status=order.status)
    return True
