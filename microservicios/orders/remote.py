"""Calls from the orders service to the users and items services.

A dependency's business answers (404, 409) are answers: they become domain errors here.
Only a failure to get an answer, or a 5xx, makes the dependency "unavailable".
"""

from typing import Any, Protocol

from microservicios.common.client import UpstreamResponse
from microservicios.common.errors import ServiceUnavailableError
from microservicios.common.headers import IDEMPOTENCY_KEY_HEADER


class Dependency(Protocol):
    """What the saga needs of a service it calls: `ServiceClient` in the app, a fake in tests."""

    target: str

    def ensure_available(self) -> None: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> UpstreamResponse: ...


class UserNotFoundError(Exception):
    pass


class SkuNotFoundError(Exception):
    pass


class NotEnoughStockError(Exception):
    pass


async def check_user_exists(users: Dependency, *, user_id: int) -> None:
    response = await users.request("GET", f"/users/{user_id}")
    if response.status == 404:
        raise UserNotFoundError(user_id)
    _expect_success(users, response)


async def reserve_stock(items: Dependency, *, reservation_id: str, sku: str, qty: int) -> None:
    # The reservation id makes this POST safe to repeat: items applies each id once.
    body = {"reservation_id": reservation_id, "sku": sku, "qty": qty}
    response = await items.request(
        "POST", "/items/internal/reserve", json=body, headers=_key(reservation_id)
    )
    if response.status == 404:
        raise SkuNotFoundError(sku)
    if response.status == 409:
        raise NotEnoughStockError(sku)
    _expect_success(items, response)


async def release_stock(items: Dependency, *, reservation_id: str) -> None:
    response = await items.request(
        "POST",
        "/items/internal/release",
        json={"reservation_id": reservation_id},
        headers=_key(reservation_id),
    )
    _expect_success(items, response)


def _key(reservation_id: str) -> list[tuple[str, str]]:
    return [(IDEMPOTENCY_KEY_HEADER, reservation_id)]


def _expect_success(client: Dependency, response: UpstreamResponse) -> None:
    if response.status >= 500:
        raise ServiceUnavailableError(client.target, f"respondió con error {response.status}")
    if response.status >= 300:
        # A 4xx we did not expect means the two services disagree: report it, do not hide it.
        raise ServiceUnavailableError(
            client.target, f"respondió {response.status} a una llamada interna"
        )
