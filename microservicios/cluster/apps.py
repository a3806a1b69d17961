"""Which factory builds each service, in start-up order (dependencies first)."""

from collections.abc import Callable

from fastapi import FastAPI

from microservicios.gateway.main import create_app as create_gateway
from microservicios.items.main import create_app as create_items
from microservicios.orders.main import create_app as create_orders
from microservicios.users.main import create_app as create_users

AppFactory = Callable[..., FastAPI]

APP_FACTORIES: dict[str, AppFactory] = {
    "users": create_users,
    "items": create_items,
    "orders": create_orders,
    "gateway": create_gateway,
}
