"""Laboratorio 5, mal: si store() falla libera, pero se traga el error."""

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from microservicios.labs.saga_errors import NoStockError, UnavailableError

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
    except Exception:  # StoreError or any other failure: the stock is reserved, give it back
        await _compensate(release)
        return None


async def _compensate(release: Step) -> None:
    # If releasing fails too, the caller must still see the original error.
    with contextlib.suppress(UnavailableError):
        await release()
