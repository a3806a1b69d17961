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

If the process dies mid-saga, the order stays PENDING with nobody to finish it. Recovery
(`recover_stale`) is backward: a PENDING order older than any live request could be is
marked FAILED and its reservation released. Forward recovery (finishing the order) would
need the client's answer to still matter, and nobody is waiting for it any more; releasing
is always safe, because items applies each reservation id once and remembers a release,
so a reservation that arrives late cannot take the stock afterwards.

`OrderSaga` holds the collaborators (the database sessions, the users and items clients,
a logger, the compensation task's wake-up) and receives nothing else: a unit test hands
it fakes.
"""

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from microservicios.common.errors import ServiceUnavailableError
from microservicios.database.sessions import Database
from microservicios.orders import crud, remote
from microservicios.orders.models import PENDING, Order, utc_now
from microservicios.orders.schemas import OrderCreate
from microservicios.telemetry.events import (
    ITEM_NO_STOCK,
    ITEM_NOT_FOUND,
    ORDER_CREATED,
    ORDER_DEPENDENCY_UNAVAILABLE,
    ORDER_FAILED,
    ORDER_RECOVERED,
    RESERVATION_RELEASED,
    USER_NOT_FOUND,
)
from microservicios.telemetry.logs import EventLogger

KEY_WAIT_SECONDS = 3.0
KEY_POLL_SECONDS = 0.02


class IdempotencyKeyMismatchError(Exception):
    """The key was already used with a different request body."""


class OrderInProgressError(Exception):
    """A request with the same key is still being placed."""


def fingerprint(data: OrderCreate) -> str:
    canonical = json.dumps(data.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class OrderSaga:
    """Places and cancels orders, and gives reserved stock back."""

    database: Database
    users: remote.Dependency
    items: remote.Dependency
    logger: EventLogger
    compensation_needed: asyncio.Event  # wakes the compensation task
    stale_after: float = 7.0  # seconds after which a PENDING order cannot be in flight

    async def place(self, data: OrderCreate, key: str | None = None) -> tuple[Order, bool]:
        """The order and whether it is a replay of an earlier request with the same key."""
        # An open circuit means we already know the answer: say so before doing any work.
        self.users.ensure_available()
        self.items.ensure_available()

        order = await self._claim(data, key)
        if order.status != PENDING:
            return order, True
        reservation_requested = False
        try:
            await remote.check_user_exists(self.users, user_id=data.user_id)
            reservation_requested = True
            await remote.reserve_stock(
                self.items, reservation_id=order.reservation_id, sku=data.item_sku, qty=data.qty
            )
            async with self.database.session() as session:
                await crud.mark_created(session, order=order)
        except BaseException as exc:
            self._log_failure(exc, data)
            async with self.database.session() as session:
                await crud.mark_failed(session, order=order, release_stock=reservation_requested)
            if reservation_requested:
                self.compensation_needed.set()
            raise
        self.logger.info(ORDER_CREATED, order_id=order.id, sku=order.item_sku, qty=order.qty)
        return order, False

    async def cancel(self, order_id: int) -> Order:
        """CANCELLED once; the stock goes back now if items answers, else by compensation."""
        async with self.database.session() as session:
            order = await crud.start_cancel(session, order_id=order_id)
        if not await self.release_now(order):
            self.compensation_needed.set()
        return order

    async def release_now(self, order: Order) -> bool:
        """Try once to give an order's stock back; False if items did not confirm it."""
        if not order.release_pending:
            return True
        try:
            await remote.release_stock(self.items, reservation_id=order.reservation_id)
        except ServiceUnavailableError:
            return False
        async with self.database.session() as session:
            await crud.mark_released(session, order_id=order.id)
        order.release_pending = False
        self.logger.info(RESERVATION_RELEASED, order_id=order.id, status=order.status)
        return True

    async def release_pending(self) -> None:
        """One round of compensation: try each pending release, stop if items is not answering."""
        async with self.database.session() as session:
            pending = await crud.orders_to_release(session)
        for order in pending:
            if not await self.release_now(order):
                return  # try again on the next round

    async def recover_stale(self) -> int:
        """Fail every PENDING order older than `stale_after` (its placer died) and wake the
        compensation task to release its stock. Returns how many it recovered."""
        started_before = utc_now() - timedelta(seconds=self.stale_after)
        async with self.database.session() as session:
            recovered = await crud.fail_stale_pending(session, started_before=started_before)
        for order_id in recovered:
            self.logger.warning(ORDER_RECOVERED, order_id=order_id, status="FAILED")
        if recovered:
            self.compensation_needed.set()
        return len(recovered)

    async def pending_release_count(self) -> int:
        async with self.database.session() as session:
            return await crud.count_pending_releases(session)

    async def _claim(self, data: OrderCreate, key: str | None) -> Order:
        """A new PENDING order, or the finished order an earlier request with `key` placed."""
        body_print = fingerprint(data) if key else None
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + KEY_WAIT_SECONDS
        while True:
            async with self.database.session() as session:
                existing = await crud.find_by_key(session, key=key) if key else None
                if existing is None:
                    try:
                        return await crud.claim_order(
                            session, data=data, key=key, fingerprint=body_print
                        )
                    except crud.KeyTakenError:
                        continue  # claimed by a racing duplicate a moment ago: look again
            if existing.request_fingerprint != body_print:
                raise IdempotencyKeyMismatchError(key)
            if existing.status != PENDING:
                return existing
            if loop.time() > give_up_at:
                raise OrderInProgressError(key)
            await asyncio.sleep(KEY_POLL_SECONDS)

    def _log_failure(self, exc: BaseException, data: OrderCreate) -> None:
        if isinstance(exc, remote.UserNotFoundError):
            self.logger.info(USER_NOT_FOUND, user_id=data.user_id)
        elif isinstance(exc, remote.SkuNotFoundError):
            self.logger.info(ITEM_NOT_FOUND, sku=data.item_sku)
        elif isinstance(exc, remote.NotEnoughStockError):
            self.logger.info(ITEM_NO_STOCK, sku=data.item_sku, qty=data.qty)
        elif isinstance(exc, ServiceUnavailableError):
            self.logger.warning(ORDER_DEPENDENCY_UNAVAILABLE, target=exc.service, reason=exc.reason)
        else:
            self.logger.error(ORDER_FAILED, error=type(exc).__name__)
