"""Placing an order: check the user, reserve the stock, store the order.

This is a small saga: each step talks to a different service with its own database, so
there is no transaction around them. If a later step fails, the earlier ones are undone
by a compensating call (releasing the reservation).
"""

import uuid

from fastapi import FastAPI

from microservicios.common.errors import ServiceUnavailableError
from microservicios.orders import crud, remote
from microservicios.orders.models import Order
from microservicios.orders.schemas import OrderCreate


async def place_order(app: FastAPI, data: OrderCreate) -> Order:
    logger = app.state.logger
    users, items = app.state.clients["users"], app.state.clients["items"]

    try:
        await remote.check_user_exists(users, user_id=data.user_id)
    except remote.UserNotFoundError:
        logger.info("user.not_found", user_id=data.user_id)
        raise

    reservation_id = uuid.uuid4().hex
    try:
        await remote.reserve_stock(
            items, reservation_id=reservation_id, sku=data.item_sku, qty=data.qty
        )
    except remote.SkuNotFoundError:
        logger.info("item.not_found", sku=data.item_sku)
        raise
    except remote.NotEnoughStockError:
        logger.info("item.no_stock", sku=data.item_sku, qty=data.qty)
        raise
    except ServiceUnavailableError:
        # The reservation may have been applied even though no answer came back.
        await _compensate(app, reservation_id)
        raise

    try:
        order = crud.store_order(app.state.sessionmaker, data=data, reservation_id=reservation_id)
    except Exception:
        await _compensate(app, reservation_id)
        raise
    logger.info("order.created", order_id=order.id, sku=order.item_sku, qty=order.qty)
    return order


async def _compensate(app: FastAPI, reservation_id: str) -> None:
    """Release a reservation whose order will not exist. Releasing is idempotent."""
    logger = app.state.logger
    try:
        await remote.release_stock(app.state.clients["items"], reservation_id=reservation_id)
    except ServiceUnavailableError as exc:
        logger.error("reservation.release_failed", reservation_id=reservation_id, reason=exc.reason)
        return
    logger.warning("reservation.released", reservation_id=reservation_id)
