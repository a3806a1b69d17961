"""The orders app's context: the common one plus the saga built from its parts."""

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from microservicios.common.context import AppContext, context_of
from microservicios.orders.compensation import keep_releasing
from microservicios.orders.saga import OrderSaga


@dataclass(kw_only=True)
class OrdersContext(AppContext):
    saga: OrderSaga = field(init=False)

    def __post_init__(self) -> None:
        if self.database is None:
            raise ValueError("El servicio de órdenes necesita su base de datos.")
        self.saga = OrderSaga(
            database=self.database,
            users=self.clients["users"],
            items=self.clients["items"],
            logger=self.logger,
            compensation_needed=asyncio.Event(),
            stale_after=self.settings.pending_order_timeout,
        )


def as_orders_context(context: AppContext) -> OrdersContext:
    """The app's context as the orders one: `build_app` hands every task and health report
    an `AppContext`, and only the orders app builds an `OrdersContext` (its `AppSpec` says)."""
    if not isinstance(context, OrdersContext):
        raise TypeError(f"Se esperaba el contexto de orders, no {type(context).__name__}.")
    return context


def orders_context(app: Any) -> OrdersContext:
    return as_orders_context(context_of(app))


async def run_compensation(context: AppContext) -> None:
    """Background task of the orders app (see `compensation.py`)."""
    await keep_releasing(as_orders_context(context).saga)


async def compensation_health(context: AppContext) -> dict[str, int]:
    """How many orders still wait for their stock to go back (0 when the system is quiet)."""
    return {"pending_releases": await as_orders_context(context).saga.pending_release_count()}


async def get_saga(request: Request) -> OrderSaga:
    return orders_context(request.app).saga


SagaDep = Annotated[OrderSaga, Depends(get_saga)]
