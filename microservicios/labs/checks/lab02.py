"""Lab 2: full-jitter backoff and a retry loop that repeats only what is safe."""

import asyncio
import random
from types import ModuleType

from microservicios.labs.checking import Check, expect


def _script(module: ModuleType, outcomes: list[tuple[str, int | None]]):  # noqa: ANN202
    """A fake `send` that plays `outcomes` in order and counts calls, and a fake sleep."""
    calls, sleeps = [], []

    async def send():  # noqa: ANN202
        outcome, status = outcomes[min(len(calls), len(outcomes) - 1)]
        calls.append(outcome)
        return module.Attempt(outcome, status)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return send, sleep, calls, sleeps


def _run(module: ModuleType, outcomes, idempotent: bool, max_attempts: int = 3):  # noqa: ANN001, ANN202
    send, sleep, calls, sleeps = _script(module, outcomes)
    result = asyncio.run(
        module.call_with_retries(
            send,
            idempotent=idempotent,
            max_attempts=max_attempts,
            base=0.1,
            cap=1.0,
            sleep=sleep,
            rng=random.Random(1),
        )
    )
    return result, calls, sleeps


def backoff_within_bounds(module: ModuleType) -> None:
    rng = random.Random(3)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (5, 1.0), (9, 1.0)]:
        waits = [module.backoff(attempt, 0.1, 1.0, rng) for _ in range(300)]
        expect(
            all(0 <= wait <= ceiling + 1e-9 for wait in waits),
            f"backoff({attempt}, base=0.1, cap=1.0) dio valores fuera de [0, {ceiling}]: "
            f"por ejemplo {max(waits):.3f}.",
        )


def backoff_has_full_jitter(module: ModuleType) -> None:
    rng = random.Random(4)
    waits = [module.backoff(3, 0.1, 1.0, rng) for _ in range(300)]
    expect(
        min(waits) < 0.08 and max(waits) > 0.32 and len(set(waits)) > 100,
        "Con full jitter la espera cae en todo el rango [0, techo], al azar. Tus valores "
        f"van de {min(waits):.3f} a {max(waits):.3f}: ¿usaste rng.uniform(0, techo)?",
    )


def classification(module: ModuleType) -> None:
    cases = [
        (("not_sent", None), False, True, "una conexión rechazada no llegó: se puede repetir"),
        (("timeout", None), True, True, "un GET que no respondió a tiempo se puede repetir"),
        (("timeout", None), False, False, "un POST sin respuesta NO se repite: quizás ya se hizo"),
        (("disconnected", None), False, False, "un POST con la conexión cortada NO se repite"),
        (("answered", 503), True, True, "un 503 en algo idempotente se puede repetir"),
        (("answered", 503), False, False, "un 503 en un POST sin clave NO se repite"),
        (("answered", 404), True, False, "un 404 es una respuesta: repetirlo da lo mismo"),
        (("answered", 500), True, False, "un 500 no está entre los códigos reintentables"),
        (("answered", 200), True, False, "un 200 no se repite"),
    ]
    for (outcome, status), idempotent, expected, why in cases:
        got = module.should_retry(module.Attempt(outcome, status), idempotent)
        expect(
            got == expected,
            f"should_retry({outcome}, {status}, idempotent={idempotent}) dio {got}: {why}.",
        )


def retries_until_success(module: ModuleType) -> None:
    result, calls, sleeps = _run(module, [("not_sent", None), ("answered", 200)], idempotent=False)
    expect(len(calls) == 2, f"Tras un 'not_sent' y un 200 esperaba 2 llamadas; hubo {len(calls)}.")
    expect(result.status == 200, "Tenés que devolver el último intento (el 200).")
    expect(len(sleeps) == 1, f"Entre los dos intentos va una espera; hubo {len(sleeps)}.")


def stops_at_max_attempts_without_final_sleep(module: ModuleType) -> None:
    result, calls, sleeps = _run(module, [("not_sent", None)], idempotent=True, max_attempts=3)
    expect(len(calls) == 3, f"Con max_attempts=3 esperaba 3 llamadas; hubo {len(calls)}.")
    expect(
        len(sleeps) == 2,
        f"Hubo {len(sleeps)} esperas para 3 intentos: después del último no se espera.",
    )
    expect(result.outcome == "not_sent", "Devolvé el último intento aunque haya fallado.")


def never_repeats_unsafe_post(module: ModuleType) -> None:
    _, calls, sleeps = _run(module, [("timeout", None)], idempotent=False)
    expect(
        calls == ["timeout"], f"Un POST con timeout se envió {len(calls)} veces: tiene que ser 1."
    )
    expect(not sleeps, "Si no vas a reintentar, no esperes.")
    _, calls, _ = _run(module, [("answered", 404)], idempotent=True)
    expect(len(calls) == 1, "Un 404 no se reintenta.")


def waits_grow(module: ModuleType) -> None:
    _, _, sleeps = _run(module, [("not_sent", None)], idempotent=True, max_attempts=6)
    caps = [min(1.0, 0.1 * 2**n) for n in range(len(sleeps))]
    expect(
        all(0 <= wait <= cap + 1e-9 for wait, cap in zip(sleeps, caps, strict=True)),
        f"Las esperas {[round(s, 3) for s in sleeps]} no respetan el backoff exponencial "
        f"(techos {caps}). ¿Le pasás a backoff el número de intento correcto?",
    )


CHECKS = (
    Check("backoff queda entre 0 y min(cap, base·2^(n-1))", backoff_within_bounds),
    Check("backoff usa todo el rango (full jitter)", backoff_has_full_jitter),
    Check("should_retry sólo repite lo que es seguro", classification),
    Check("reintenta hasta que sale bien", retries_until_success),
    Check(
        "para en max_attempts y no espera después del último",
        stops_at_max_attempts_without_final_sleep,
    ),
    Check("nunca repite un POST que quizás ya se procesó", never_repeats_unsafe_post),
    Check("las esperas crecen con cada intento", waits_grow),
)

HINTS = (
    "El techo del intento n es min(cap, base * 2 ** (n - 1)); la espera es rng.uniform(0, techo).",
    "En should_retry, empezá por el caso más fácil: 'not_sent' → True. Después los que "
    "dependen de idempotent. Mirá microservicios/common/retry.py: es la versión del proyecto.",
    "El bucle: for n in range(1, max_attempts + 1): intento = await send(); si n es el "
    "último o should_retry(...) es False, return intento; si no, await sleep(backoff(n, ...)).",
)
