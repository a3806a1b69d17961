"""Plausible wrong solutions: the checker must reject each one, naming the real mistake."""

from pathlib import Path

import pytest

from microservicios.labs.catalog import get_lab
from microservicios.labs.checking import run_checks

WRONG = Path(__file__).parent / "wrong"

# file in wrong/ -> (the check that must catch it, a phrase its explanation must contain)
CASES = {
    "lab01_english_detail": ("mensaje en castellano", "está en inglés"),
    "lab01_case_sensitive": ("mayúsculas de minúsculas", "pasá a minúsculas"),
    "lab01_wrong_prefix": ("prefijo /users", "prefix='/users'"),
    "lab01_awaits_sync_session": ("a través del gateway", "tu SessionDep es sincrónico"),
    "lab01_returns_none": ("mensaje en castellano", "tu ruta devolvió None"),
    "lab02_retries_unsafe_post": (
        "sólo repite lo que es seguro",
        "un POST sin respuesta NO se repite",
    ),
    "lab02_sleeps_after_last": ("no espera después del último", "después del último no se espera"),
    "lab02_no_jitter": ("full jitter", "rng.uniform(0, techo)"),
    "lab02_cap_after_jitter": ("el cap va antes del azar", "rng.uniform(0, min(cap, "),
    "lab02_no_retry_429": ("justo 429, 502, 503 y 504", "un 429"),
    "lab02_retries_any_5xx": ("justo 429, 502, 503 y 504", "505"),
    "lab02_attempts_from_zero": (
        "el primer reintento espera backoff(1",
        "¿Numerás los intentos desde 0?",
    ),
    "lab02_backoff_never_grows": ("el primer reintento espera backoff(1", "no crece"),
    "lab02_ignores_rng": ("mismas esperas", "el rng que recibís"),
    "lab02_new_rng_each_call": ("mismas esperas", "el rng que recibís"),
    "lab03_keeps_count_after_close": ("la cuenta de fallos empieza de cero", "un solo fallo"),
    "lab03_failures_push_wait": ("no corren la espera", "no tiene que correr la espera"),
    "lab03_reopen_keeps_wait": ("otra espera completa", "sin reiniciar la espera"),
    "lab03_failures_expire": ("aunque lleguen espaciados", "sólo un éxito reinicia la cuenta"),
    "lab03_reopen_from_old_time": ("contando desde ahora", "desde que falló la prueba"),
    "lab04_dedupes_without_key": (
        "sin Idempotency-Key",
        "Sin clave, cada POST es un pago distinto",
    ),
    "lab04_key_not_stored": ("el mismo pago", "tenés que devolver el MISMO pago"),
    "lab04_key_ignores_body": ("otros datos: 422", "¿comparás la huella"),
    "lab04_race_unhandled": ("duplicados simultáneos", "Atrapá el IntegrityError"),
    "lab04_fingerprint_amount_only": ("otros datos: 422", "amount y concept"),
    "lab04_race_ignores_body": ("422 también en la carrera", "sin comparar la huella"),
    "lab04_keys_in_memory": ("otra réplica", "¿Guardás las claves en la memoria"),
    "lab04_lock_instead_of_unique": ("dos réplicas a la vez", "Un threading.Lock sólo ordena"),
    "lab05_release_hides_error": ("el error original", "tapó el StoreError original"),
    "lab05_swallows_error": ("si guardar falla", "no lanzó nada"),
    "lab05_no_release_after_timeout": ("si reservar no contestó", "quizás se hizo"),
    "lab05_releases_only_on_store_error": ("falla otra cosa", "no sólo con `except StoreError`"),
    "lab05_reserve_releases_only_on_timeout": ("falla otra cosa", "no es un NoStockError"),
    "lab05_retries_release_forever": ("el error original", "¿Reintentás para siempre?"),
    "lab06_no_build_app": ("/health responde", "build_app"),
    "lab06_wrong_prefix": ("a través del gateway", "prefix='/notifications'"),
    "lab06_ignores_pagination": ("pagina con limit y offset", "paginación"),
    "lab06_offset_as_page": ("pagina con limit y offset", "no un número de página"),
    "lab06_no_order_by": ("pagina con limit y offset", "sin order_by"),
    "lab06_own_database": ("su propia base", "guarda en otra base"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_checker_rejects_wrong_solution(name: str) -> None:
    """Run the lab's checks in order up to the one that must catch the mistake: it fails first."""
    expected_check, phrase = CASES[name]
    checks = list(get_lab(int(name[3:5])).checks)
    catching = next(i for i, check in enumerate(checks) if expected_check in check.description)
    report = run_checks(checks[: catching + 1], WRONG / f"{name}.py")
    assert report.failed == checks[catching].description, (report.failed, report.explanation)
    assert phrase in report.explanation, report.explanation


def test_every_lab_keeps_three_wrong_solutions() -> None:
    """Each of the six labs has at least three wrong solutions, and every file is listed."""
    assert sorted(path.stem for path in WRONG.glob("lab*.py")) == sorted(CASES)
    for number in range(1, 7):
        assert sum(name.startswith(f"lab{number:02d}") for name in CASES) >= 3
