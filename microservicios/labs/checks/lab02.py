"""Lab 2: full-jitter backoff and a retry loop that repeats only what is safe."""

import asyncio
import random
from types import ModuleType

from microservicios.labs.checking import Check, expect

RETRYABLE = {429, 502, 503, 504}  # what the lab's README asks for


def _script(module: ModuleType, outcomes: list[tuple[str, int | None]]):  # noqa: ANN202
    """A fake `send` that plays `outcomes` in order and counts calls, and a fake sleep."""
    calls: list[str] = []
    sleeps: list[float] = []

    async def send():  # noqa: ANN202
        outcome, status = outcomes[min(len(calls), len(outcomes) - 1)]
        calls.append(outcome)
        return module.Attempt(outcome, status)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return send, sleep, calls, sleeps


def _run(module: ModuleType, outcomes, idempotent: bool, max_attempts: int = 3, seed: int = 1):  # noqa: ANN001, ANN202
    send, sleep, calls, sleeps = _script(module, outcomes)
    result = asyncio.run(
        module.call_with_retries(
            send,
            idempotent=idempotent,
            max_attempts=max_attempts,
            base=0.1,
            cap=1.0,
            sleep=sleep,
            rng=random.Random(seed),
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


def backoff_caps_before_jitter(module: ModuleType) -> None:
    rng = random.Random(5)
    waits = [module.backoff(9, 0.1, 1.0, rng) for _ in range(300)]
    at_cap = sum(wait >= 1.0 - 1e-9 for wait in waits) / len(waits)
    expect(
        at_cap < 0.05,
        f"backoff(9, base=0.1, cap=1.0): el {at_cap:.0%} de tus esperas es exactamente el cap "
        "(1.0). Así los clientes que fallaron juntos vuelven juntos: no queda jitter. Pasa si "
        "el cap se aplica después del azar, min(cap, rng.uniform(0, base * 2 ** 8)). Primero el "
        "techo, después el azar: rng.uniform(0, min(cap, base * 2 ** (attempt - 1))).",
    )
    expect(
        min(waits) < 0.1 and max(waits) > 0.9,
        "Alcanzado el cap, la espera cae al azar en todo [0, cap]: backoff(9, base=0.1, cap=1.0) "
        f"dio valores de {min(waits):.3f} a {max(waits):.3f}.",
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


def _listed(statuses: list[int]) -> str:
    shown = ", ".join(str(status) for status in statuses[:6])
    return shown + ("…" if len(statuses) > 6 else "")


def retryable_statuses(module: ModuleType) -> None:
    retried = {
        status
        for status in range(100, 600)
        if module.should_retry(module.Attempt("answered", status), True)
    }
    missing, extra = sorted(RETRYABLE - retried), sorted(retried - RETRYABLE)
    expect(
        429 not in missing,
        "should_retry no reintenta un 429 en algo idempotente. Un 429 (Too Many Requests) es "
        "el servidor diciendo «ahora no, probá en un rato»: es de los que se reintentan, "
        "esperando el backoff. Los reintentables son 429, 502, 503 y 504 (RETRYABLE_STATUSES).",
    )
    expect(
        not missing,
        f"should_retry no reintenta {_listed(missing)} en algo idempotente: los reintentables "
        "son 429, 502, 503 y 504 (RETRYABLE_STATUSES).",
    )
    expect(
        not extra,
        f"should_retry reintenta {_listed(extra)}: sólo 429, 502, 503 y 504 se reintentan. Un "
        "505 (versión de HTTP no soportada), un 501 o un 507 van a dar lo mismo la próxima vez: "
        "repetirlos sólo suma carga. ¿Usaste status >= 502? Preguntá si está en "
        "RETRYABLE_STATUSES.",
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
    # Many seeded runs: the longest wait before retry n must come close to its ceiling.
    ceilings = [0.1, 0.2, 0.4]
    longest = [0.0, 0.0, 0.0]
    for seed in range(200):
        _, _, sleeps = _run(module, [("not_sent", None)], True, max_attempts=4, seed=seed)
        longest = [max(most, wait) for most, wait in zip(longest, sleeps, strict=False)]
    seen = (
        "En 200 corridas con base=0.1, la espera más larga antes de cada reintento fue "
        f"{', '.join(f'{most:.3f}' for most in longest)}; los techos son 0.1, 0.2 y 0.4."
    )
    expect(
        longest[0] > 0.75 * ceilings[0],
        f"{seen} Tus esperas llegan a la mitad del techo: después del intento 1 va "
        "backoff(1, ...), cuyo techo es base. ¿Numerás los intentos desde 0?",
    )
    expect(
        all(most > 0.75 * ceiling for most, ceiling in zip(longest, ceilings, strict=True)),
        f"{seen} La espera no crece con cada intento: ¿le pasás a backoff siempre el mismo "
        "número? Pasale el del intento que acaba de fallar (1, 2, 3…).",
    )


def same_rng_same_waits(module: ModuleType) -> None:
    first, second = (module.backoff(3, 0.1, 1.0, random.Random(8)) for _ in range(2))
    expect(
        first == second,
        f"backoff(3, 0.1, 1.0, random.Random(8)) dio {first:.4f} y después {second:.4f}: con "
        "un rng igual tiene que dar lo mismo. Sacá el azar del rng que recibís (rng.uniform), "
        "no del módulo random: así una corrida se puede repetir, y probar.",
    )
    runs = [_run(module, [("not_sent", None)], True, max_attempts=4, seed=8)[2] for _ in range(2)]
    expect(
        runs[0] == runs[1],
        "Dos veces call_with_retries(..., rng=random.Random(8)) esperó "
        f"{[round(s, 3) for s in runs[0]]} y {[round(s, 3) for s in runs[1]]}: pasale a backoff "
        "el rng que recibís, y creá uno nuevo sólo si no te pasan ninguno "
        "(rng or random.Random()).",
    )


CHECKS = (
    Check("backoff queda entre 0 y min(cap, base·2^(n-1))", backoff_within_bounds),
    Check("backoff usa todo el rango (full jitter)", backoff_has_full_jitter),
    Check(
        "backoff: el cap va antes del azar (en el intento 9 sigue al azar)",
        backoff_caps_before_jitter,
    ),
    Check("should_retry sólo repite lo que es seguro", classification),
    Check("should_retry repite justo 429, 502, 503 y 504", retryable_statuses),
    Check("reintenta hasta que sale bien", retries_until_success),
    Check(
        "para en max_attempts y no espera después del último",
        stops_at_max_attempts_without_final_sleep,
    ),
    Check("nunca repite un POST que quizás ya se procesó", never_repeats_unsafe_post),
    Check(
        "las esperas crecen: el primer reintento espera backoff(1), el segundo backoff(2)…",
        waits_grow,
    ),
    Check("con el mismo rng, las mismas esperas (se puede repetir)", same_rng_same_waits),
)

HINTS = (
    "El techo del intento n es min(cap, base * 2 ** (n - 1)); la espera es rng.uniform(0, techo). "
    "Primero el techo (con el cap), después el azar, y siempre con el rng que recibís.",
    "En should_retry, empezá por el caso más fácil: 'not_sent' → True. Después los que "
    "dependen de idempotent. Una respuesta se repite sólo si su status está en "
    "RETRYABLE_STATUSES (429, 502, 503, 504): nada de status >= 502. Mirá "
    "microservicios/common/retry.py: es la versión del proyecto.",
    "El bucle: for n in range(1, max_attempts + 1): intento = await send(); si n es el "
    "último o should_retry(...) es False, return intento; si no, await sleep(backoff(n, ...)): "
    "n cuenta desde 1, y crece en cada vuelta.",
)
