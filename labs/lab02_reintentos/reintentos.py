"""Laboratorio 2: reintentos que sólo repiten lo que es seguro repetir.

Un intento termina de una de estas formas (`Attempt.outcome`):
- "not_sent":     no se pudo conectar; el servidor no recibió nada.
- "timeout":      se envió, pero la respuesta no llegó a tiempo; quizás se procesó.
- "disconnected": se envió y se cortó la conexión; la misma duda.
- "answered":     llegó una respuesta HTTP, con su `status`.

Completá las tres funciones y comprobá con:  python -m microservicios.labs check 2
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

RETRYABLE_STATUSES = {429, 502, 503, 504}


@dataclass(frozen=True)
class Attempt:
    outcome: str  # "not_sent" | "timeout" | "disconnected" | "answered"
    status: int | None = None


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Segundos a esperar después del intento fallido número `attempt` (1, 2, 3…).

    "Full jitter": un valor al azar entre 0 y min(cap, base * 2 ** (attempt - 1)).
    """
    # TODO: calculá el techo exponencial y elegí un valor al azar con rng.uniform(...)
    return base


def should_retry(attempt: Attempt, idempotent: bool) -> bool:
    """¿Es seguro repetir este intento?"""
    # TODO: "not_sent" siempre; "timeout"/"disconnected" sólo si es idempotente;
    #       una respuesta, sólo si es idempotente y su status está en RETRYABLE_STATUSES.
    return True


async def call_with_retries(
    send: Callable[[], Awaitable[Attempt]],
    *,
    idempotent: bool,
    max_attempts: int = 3,
    base: float = 0.05,
    cap: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> Attempt:
    """Llama a `send()` hasta que salga bien o no convenga seguir; devuelve el último intento.

    Nunca esperes después del último intento: sería tiempo perdido.
    """
    rng = rng or random.Random()
    # TODO: un bucle de hasta max_attempts intentos, usando should_retry y backoff.
    return await send()
