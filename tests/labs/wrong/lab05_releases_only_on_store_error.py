"""Laboratorio 5, mal: si store() falla con algo que no es StoreError, no libera."""

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from microservicios.labs.saga_errors import NoStockError, StoreError, UnavailableError

Step = Callable[[], Awaitable[Any]]


async def place_order(*, reserve: Step, release: Step, store: Step) -> Any:
    try:
        await reserve()
    except NoStockError:
        raise  # a clear "no": nothing was reserved, nothing to undo
    except Exception:
        await _compensate(release)  # no answer, or an unexpected failure: it may have been applied
        raise
    try:
        return await store()
    except StoreError:
        await _compensate(release)
        raise


async def _compensate(release: Step) -> None:
    # If releasing fails too, the caller must still see the original error.
    with contextlib.suppress(UnavailableError):
        await release()
