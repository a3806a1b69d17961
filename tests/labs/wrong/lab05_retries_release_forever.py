"""Laboratorio 5, mal: reintenta la liberación hasta que funcione (quien llamó espera para siempre)."""

import asyncio
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
        raise


async def _compensate(release: Step) -> None:
    # Releasing is idempotent: keep trying until items confirms it.
    delay = 0.1
    while True:
        try:
            await release()
            return
        except UnavailableError:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
