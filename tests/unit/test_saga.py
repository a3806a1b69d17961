"""The orders saga with fake users/items clients and an in-memory database: no sockets."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from microservicios.common.client import UpstreamResponse
from microservicios.common.errors import CircuitOpenError, ServiceUnavailableError
from microservicios.database.sessions import Database, DatabaseUnavailableError, SyncSession
from microservicios.orders import crud
from microservicios.orders.database import open_database
from microservicios.orders.models import CREATED, FAILED, PENDING, Order, utc_now
from microservicios.orders.remote import NotEnoughStockError, SkuNotFoundError, UserNotFoundError
from microservicios.orders.saga import IdempotencyKeyMismatchError, OrderSaga, fingerprint
from microservicios.orders.schemas import OrderCreate
from microservicios.telemetry.logs import EventLogger, LogRecord

ORDER = OrderCreate(user_id=1, item_sku="LAPIZ-1", qty=2)
Answer = int | Exception  # an HTTP status to answer, or the exception a failed call raises


@dataclass
class FakeService:
    """Answers each (method, path) with a status or raises; records every call."""

    target: str
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    calls: list[tuple[str, str, dict | None]] = field(default_factory=list)
    circuit_open: bool = False
    on_call: Callable[[], Awaitable[object]] | None = None  # runs during each call, first

    def ensure_available(self) -> None:
        if self.circuit_open:
            raise CircuitOpenError(self.target, 5.0)

    async def request(self, method, path, *, json=None, headers=None) -> UpstreamResponse:  # noqa: ANN001
        self.calls.append((method, path, json))
        if self.on_call is not None:
            await self.on_call()
        answer = self.answers.get((method, path), 200)
        if isinstance(answer, Exception):
            raise answer
        return UpstreamResponse(answer, [], b"{}")

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.calls]


RESERVE = ("POST", "/items/internal/reserve")
RELEASE = ("POST", "/items/internal/release")
UNREACHABLE = ServiceUnavailableError("items", "no acepta conexiones")


@pytest.fixture
def database() -> Database:
    """orders' tables in an in-memory SQLite, shared by every session."""
    opened = open_database("sqlite://")
    yield opened
    asyncio.run(opened.dispose())


@pytest.fixture
def sessions(database: Database) -> sessionmaker[Session]:
    """Plain sessions on the same database, for the tests' own look at the tables."""
    return database.sync_sessions


@pytest.fixture
def users() -> FakeService:
    return FakeService("users")


@pytest.fixture
def items() -> FakeService:
    return FakeService("items")


@pytest.fixture
def records() -> list[LogRecord]:
    return []


@pytest.fixture
def saga(database, users, items, records) -> OrderSaga:
    return OrderSaga(
        database=database,
        users=users,
        items=items,
        logger=EventLogger("orders", sinks=[records.append]),
        compensation_needed=asyncio.Event(),
    )


def run(coroutine):  # noqa: ANN001, ANN201
    return asyncio.run(coroutine)


def stored(sessions: sessionmaker[Session]) -> list[Order]:
    with sessions() as session:
        return run(crud.list_orders(SyncSession(session), limit=100, offset=0))


def test_places_an_order(saga, sessions, users, items):
    """User found and stock reserved: the order is CREATED, with one check and one reserve."""
    order, replayed = run(saga.place(ORDER))
    assert (order.status, replayed) == (CREATED, False)
    assert users.paths() == ["/users/1"]
    assert items.calls == [
        ("POST", "/items/internal/reserve",
         {"reservation_id": order.reservation_id, "sku": "LAPIZ-1", "qty": 2}),
    ]  # fmt: skip
    assert [(o.status, o.release_pending) for o in stored(sessions)] == [(CREATED, False)]


def test_unknown_user_fails_without_reserving(saga, sessions, users, items):
    """A 404 from users: UserNotFoundError, the order FAILED, items never called."""
    users.answers[("GET", "/users/1")] = 404
    with pytest.raises(UserNotFoundError):
        run(saga.place(ORDER))
    assert items.calls == []
    assert [(o.status, o.release_pending) for o in stored(sessions)] == [(FAILED, False)]
    assert not saga.compensation_needed.is_set()


@pytest.mark.parametrize(("status", "error"), [(404, SkuNotFoundError), (409, NotEnoughStockError)])
def test_items_refusal_fails_and_still_asks_for_a_release(saga, sessions, items, status, error):
    """Unknown SKU or no stock: the order FAILED, and a release is still owed (a timed-out
    earlier attempt may have landed), so the compensation task is woken."""
    items.answers[RESERVE] = status
    with pytest.raises(error):
        run(saga.place(ORDER))
    assert [(o.status, o.release_pending) for o in stored(sessions)] == [(FAILED, True)]
    assert saga.compensation_needed.is_set()


def test_unreachable_users_fails_fast_without_reserving(saga, sessions, users, items):
    """Users cannot be reached: ServiceUnavailableError, FAILED, no reservation, no release."""
    users.answers[("GET", "/users/1")] = ServiceUnavailableError("users", "no acepta conexiones")
    with pytest.raises(ServiceUnavailableError):
        run(saga.place(ORDER))
    assert items.calls == []
    assert [(o.status, o.release_pending) for o in stored(sessions)] == [(FAILED, False)]


def test_open_circuit_refuses_before_writing_anything(saga, sessions, items):
    """With the circuit to items open, the saga refuses at once: no order row, no call."""
    items.circuit_open = True
    with pytest.raises(CircuitOpenError):
        run(saga.place(ORDER))
    assert stored(sessions) == []
    assert items.calls == []


def test_unreachable_items_leaves_a_release_that_compensation_completes(saga, sessions, items):
    """Items unreachable during the reservation: FAILED with a release pending; once items
    answers, one compensation round releases that same reservation id."""
    items.answers[RESERVE] = UNREACHABLE
    with pytest.raises(ServiceUnavailableError):
        run(saga.place(ORDER))
    [order] = stored(sessions)
    assert (order.status, order.release_pending) == (FAILED, True)

    items.answers[RELEASE] = UNREACHABLE
    run(saga.release_pending())
    assert run(saga.pending_release_count()) == 1  # items still down: nothing is lost

    del items.answers[RELEASE]
    run(saga.release_pending())
    assert run(saga.pending_release_count()) == 0
    releases = [json for method, path, json in items.calls if (method, path) == RELEASE]
    assert releases[-1] == {"reservation_id": order.reservation_id}


def fail_when_storing(sessions: sessionmaker[Session], status: str) -> None:
    """Make every UPDATE that would set an order to `status` fail, like a broken disk."""

    def refuse(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        if statement.startswith("UPDATE orders") and status in str(parameters):
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    event.listen(sessions.kw["bind"], "before_cursor_execute", refuse)


def test_failure_storing_after_reservation_releases_it(saga, sessions, items):
    """The stock was reserved but CREATED could not be stored: the order is FAILED and the
    reservation is released by compensation, so no stock is held for a failed order."""
    fail_when_storing(sessions, CREATED)
    with pytest.raises(DatabaseUnavailableError):  # the session says what the error means
        run(saga.place(ORDER))
    [order] = stored(sessions)
    assert (order.status, order.release_pending) == (FAILED, True)
    assert saga.compensation_needed.is_set()

    run(saga.release_pending())
    assert items.calls[-1] == ("POST", "/items/internal/release",
                               {"reservation_id": order.reservation_id})  # fmt: skip
    assert run(saga.pending_release_count()) == 0


def test_same_key_replays_the_first_answer(saga, sessions, items):
    """A repeat with the same Idempotency-Key and body returns the first order, marked as a
    replay, and reserves nothing more."""
    first, first_replayed = run(saga.place(ORDER, key="k-1"))
    again, replayed = run(saga.place(ORDER, key="k-1"))
    assert (first_replayed, replayed) == (False, True)
    assert again.id == first.id
    assert [path for _, path, _ in items.calls] == ["/items/internal/reserve"]
    assert len(stored(sessions)) == 1


def test_key_reused_with_another_body_is_refused(saga, sessions, items):
    """The same key with a different body is IdempotencyKeyMismatchError; nothing new is done."""
    run(saga.place(ORDER, key="k-2"))
    with pytest.raises(IdempotencyKeyMismatchError):
        run(saga.place(OrderCreate(user_id=1, item_sku="LAPIZ-1", qty=3), key="k-2"))
    assert len(items.calls) == 1
    assert len(stored(sessions)) == 1


def test_key_of_a_failed_order_may_be_used_again(saga, sessions, items):
    """A FAILED order frees its key: the retry with the same key places a new order."""
    items.answers[RESERVE] = 409
    with pytest.raises(NotEnoughStockError):
        run(saga.place(ORDER, key="k-3"))
    items.answers[RESERVE] = 200
    order, replayed = run(saga.place(ORDER, key="k-3"))
    assert (order.status, replayed) == (CREATED, False)
    assert [o.status for o in stored(sessions)] == [FAILED, CREATED]


def test_cancel_returns_the_stock_once(saga, sessions, items):
    """Cancelling a CREATED order releases its reservation; cancelling again calls no one."""
    order, _ = run(saga.place(ORDER))
    cancelled = run(saga.cancel(order.id))
    run(saga.cancel(order.id))
    assert cancelled.status == "CANCELLED"
    releases = [json for method, path, json in items.calls if (method, path) == RELEASE]
    assert releases == [{"reservation_id": order.reservation_id}]
    assert run(saga.pending_release_count()) == 0


def orphan(sessions: sessionmaker[Session], key: str, age_seconds: float) -> Order:
    """A PENDING order left behind by a process that died `age_seconds` ago mid-saga."""
    with sessions() as session:
        claim = crud.claim_order(
            SyncSession(session), data=ORDER, key=key, fingerprint=fingerprint(ORDER)
        )
        order = run(claim)
        order.created_at = utc_now() - timedelta(seconds=age_seconds)
        session.commit()
        return order


def test_recovery_fails_a_stale_pending_order_and_releases_it(saga, sessions, items):
    """An order PENDING for longer than any live request can take is FAILED, its
    reservation released, and its Idempotency-Key answers again (a new placement)."""
    order = orphan(sessions, "k-dead", age_seconds=saga.stale_after + 1)
    assert run(saga.recover_stale()) == 1
    [stored_order] = stored(sessions)
    assert (stored_order.status, stored_order.release_pending) == (FAILED, True)
    assert saga.compensation_needed.is_set()
    run(saga.release_pending())
    assert items.calls == [("POST", "/items/internal/release",
                            {"reservation_id": order.reservation_id})]  # fmt: skip
    placed, replayed = run(saga.place(ORDER, key="k-dead"))
    assert (placed.status, replayed) == (CREATED, False)


def test_recovery_leaves_a_recent_pending_order_alone(saga, sessions, items):
    """A PENDING order younger than `stale_after` may still be in flight: untouched."""
    orphan(sessions, "k-young", age_seconds=0)
    assert run(saga.recover_stale()) == 0
    assert [o.status for o in stored(sessions)] == [PENDING]
    assert items.calls == []


def test_an_order_recovered_while_in_flight_is_not_created(saga, sessions, items):
    """If recovery fails the order while its reservation is in flight, the placer cannot
    mark it CREATED afterwards: it reports the failure and the stock goes back."""
    stale_now = OrderSaga(**{**saga.__dict__, "stale_after": -1.0})
    items.on_call = stale_now.recover_stale  # recovery runs while items is answering
    with pytest.raises(crud.OrderNoLongerPendingError):
        run(saga.place(ORDER))
    [order] = stored(sessions)
    assert (order.status, order.release_pending) == (FAILED, True)
    items.on_call = None
    run(saga.release_pending())
    assert run(saga.pending_release_count()) == 0
