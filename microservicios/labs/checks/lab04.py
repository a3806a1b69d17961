"""Lab 4: an idempotent payments endpoint, proven by concurrent duplicates and by replicas.

A replica is a second copy of the student's file, loaded afresh (its own module-level dicts
and locks, as in another process) and served against the same database.
"""

import contextlib
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType, ModuleType

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from microservicios.common.headers import IDEMPOTENCY_KEY_HEADER
from microservicios.labs.checking import Check, expect, load_module
from microservicios.labs.checks.support import served

PAYMENT = MappingProxyType({"amount": 1500, "concept": "Cuota de marzo"})
RACE_WAIT_S = 2.0


def _looks_up_a_key(statement: str) -> bool:
    head, _, condition = statement.partition("WHERE")
    return head.lstrip().upper().startswith("SELECT") and "idempotency_key" in condition


@contextlib.contextmanager
def lookups_meet(parties: int = 2) -> Iterator[None]:
    """Hold the first `parties` key lookups until all of them have run, as in a real race.

    Each request has then seen "no payment with that key yet" before any of them inserts, so
    the second insert always hits the UNIQUE column. A solution that serializes requests in
    another way (a lock) never brings them together: the wait ends after RACE_WAIT_S.
    """
    barrier = threading.Barrier(parties)
    held = 0
    count_lock = threading.Lock()

    def after_execute(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        nonlocal held
        if not _looks_up_a_key(statement):
            return
        with count_lock:
            if held >= parties:
                return
            held += 1
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(RACE_WAIT_S)

    event.listen(Engine, "after_cursor_execute", after_execute)
    try:
        yield
    finally:
        event.remove(Engine, "after_cursor_execute", after_execute)
        barrier.abort()


def _with_app(module: ModuleType, scenario) -> None:  # noqa: ANN001
    with tempfile.TemporaryDirectory() as folder:
        url = _database_url(folder)
        with (
            served(lambda: module.create_app(url)) as base,
            httpx.Client(base_url=base, timeout=10) as http,
        ):
            scenario(http, base)


def _database_url(folder: str) -> str:
    return f"sqlite:///{(Path(folder) / 'pagos.db').as_posix()}"


def _with_replicas(module: ModuleType, scenario) -> None:  # noqa: ANN001
    """`scenario(first_url, second_url)`: two copies of the service sharing one database."""
    twin = load_module(Path(module.__file__ or ""))  # loaded from a file: it has one
    with tempfile.TemporaryDirectory() as folder:
        url = _database_url(folder)
        with (
            served(lambda: module.create_app(url)) as first,
            served(lambda: twin.create_app(url)) as second,
        ):
            scenario(first, second)


def _post(base: str, body: dict, key: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=10) as http:
        return http.post("/payments/", json=body, headers={IDEMPOTENCY_KEY_HEADER: key})


def _stored(base: str) -> list[dict]:
    with httpx.Client(base_url=base, timeout=10) as http:
        return http.get("/payments/").json()


def without_key_each_post_pays(module: ModuleType) -> None:
    def scenario(http, _base) -> None:  # noqa: ANN001
        first, second = (
            http.post("/payments/", json=dict(PAYMENT)),
            http.post("/payments/", json=dict(PAYMENT)),
        )
        expect(
            first.status_code == 201 and second.status_code == 201,
            f"Sin clave, los POST tienen que dar 201 (dieron {first.status_code}, {second.status_code}).",
        )
        expect(
            first.json()["id"] != second.json()["id"], "Sin clave, cada POST es un pago distinto."
        )

    _with_app(module, scenario)


def same_key_returns_same_payment(module: ModuleType) -> None:
    def scenario(http, _base) -> None:  # noqa: ANN001
        headers = {IDEMPOTENCY_KEY_HEADER: "pago-1"}
        first = http.post("/payments/", json=dict(PAYMENT), headers=headers)
        again = http.post("/payments/", json=dict(PAYMENT), headers=headers)
        expect(
            again.status_code in (200, 201),
            f"El reintento con la misma clave y los mismos datos respondió {again.status_code}: "
            "tiene que devolver el pago original.",
        )
        expect(
            again.json()["id"] == first.json()["id"],
            "Con la misma clave y los mismos datos tenés que devolver el MISMO pago, no uno nuevo.",
        )
        stored = http.get("/payments/").json()
        expect(len(stored) == 1, f"Se guardaron {len(stored)} pagos: el cliente pagó de más.")

    _with_app(module, scenario)


def same_key_other_body_is_422(module: ModuleType) -> None:
    def scenario(http, _base) -> None:  # noqa: ANN001
        headers = {IDEMPOTENCY_KEY_HEADER: "pago-2"}
        http.post("/payments/", json=dict(PAYMENT), headers=headers)
        other = http.post("/payments/", json={**PAYMENT, "amount": 99}, headers=headers)
        expect(
            other.status_code == 422,
            f"Misma clave con otros datos respondió {other.status_code}: tiene que ser 422. "
            "¿comparás la huella (fingerprint) de los datos con la del pago guardado?",
        )
        other = http.post("/payments/", json={**PAYMENT, "concept": "Otra cosa"}, headers=headers)
        expect(
            other.status_code == 422,
            f"Misma clave, mismo importe y otro concepto respondió {other.status_code}: tiene que "
            "ser 422. La huella tiene que cubrir TODOS los datos del pago (amount y concept), "
            "no sólo el importe.",
        )
        expect(len(http.get("/payments/").json()) == 1, "Ese pedido no tiene que guardar nada.")

    _with_app(module, scenario)


def concurrent_duplicates_pay_once(module: ModuleType) -> None:
    def scenario(_http, base) -> None:  # noqa: ANN001
        def pay(_: int) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=10) as http:
                return http.post(
                    "/payments/", json=dict(PAYMENT), headers={IDEMPOTENCY_KEY_HEADER: "carrera"}
                )

        with lookups_meet(), ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(pay, range(20)))
        statuses = sorted(answer.status_code for answer in answers)
        expect(
            500 not in statuses,
            f"20 peticiones iguales a la vez respondieron {statuses}. Dos buscaron la clave, no "
            "la encontraron e insertaron: la segunda chocó con la columna UNIQUE "
            "(IntegrityError) y respondió 500. Atrapá el IntegrityError, hacé rollback y "
            "devolvé el pago ganador.",
        )
        expect(
            set(statuses) <= {200, 201},
            f"20 peticiones iguales a la vez respondieron {statuses}: todas tienen que "
            "devolver el mismo pago.",
        )
        ids = {answer.json()["id"] for answer in answers}
        expect(len(ids) == 1, f"Las 20 peticiones iguales devolvieron {len(ids)} pagos distintos.")
        with httpx.Client(base_url=base, timeout=10) as http:
            stored = http.get("/payments/").json()
        expect(len(stored) == 1, f"Se guardaron {len(stored)} pagos para una sola clave.")

    _with_app(module, scenario)


def concurrent_other_body_is_422(module: ModuleType) -> None:
    def scenario(_http, base) -> None:  # noqa: ANN001
        bodies = (dict(PAYMENT), {**PAYMENT, "amount": 99})
        with lookups_meet(), ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda body: _post(base, body, "carrera-distinta"), bodies))
        statuses = sorted(answer.status_code for answer in answers)
        expect(
            statuses == [201, 422],
            f"Dos peticiones a la vez con la misma clave y otros datos (importes 1500 y 99) "
            f"respondieron {statuses}; tiene que ser [201, 422]. La que perdió la carrera "
            "(IntegrityError) devolvió el pago ganador sin comparar la huella: también ahí, "
            "si los datos no son los mismos, 422.",
        )
        expect(len(_stored(base)) == 1, "Para una sola clave se guarda un solo pago.")

    _with_app(module, scenario)


def another_replica_knows_the_key(module: ModuleType) -> None:
    def scenario(first, second) -> None:  # noqa: ANN001
        original = _post(first, dict(PAYMENT), "replica")
        again = _post(second, dict(PAYMENT), "replica")
        stored = _stored(first)
        expect(
            again.status_code in (200, 201)
            and again.json().get("id") == original.json().get("id")
            and len(stored) == 1,
            f"El mismo pago (misma clave, mismos datos) llegó a una copia de tu servicio y "
            f"después a otra con la misma base (dos réplicas, o un reinicio): respondió "
            f"{again.status_code} y se guardaron {len(stored)} pagos. ¿Guardás las claves en "
            "la memoria del proceso (un dict)? Otra réplica no la ve: la clave va en la base, "
            "junto al pago.",
        )

    _with_replicas(module, scenario)


def concurrent_replicas_pay_once(module: ModuleType) -> None:
    def scenario(first, second) -> None:  # noqa: ANN001
        with lookups_meet(), ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(
                pool.map(lambda base: _post(base, dict(PAYMENT), "dos-replicas"), (first, second))
            )
        statuses = sorted(answer.status_code for answer in answers)
        expect(
            500 not in statuses,
            f"Dos réplicas (dos copias de tu servicio con la misma base) recibieron el mismo "
            f"pago a la vez y respondieron {statuses}: la segunda chocó con la columna UNIQUE "
            "(IntegrityError). Un threading.Lock sólo ordena los hilos de UN proceso; entre "
            "réplicas lo único compartido es la base: atrapá el IntegrityError, hacé rollback "
            "y devolvé el pago ganador.",
        )
        stored = _stored(first)
        expect(
            set(statuses) <= {200, 201}
            and len({answer.json()["id"] for answer in answers}) == 1
            and len(stored) == 1,
            f"Dos réplicas con el mismo pago a la vez respondieron {statuses} y guardaron "
            f"{len(stored)} pagos: tienen que devolver el mismo pago, cobrado una vez.",
        )

    _with_replicas(module, scenario)


def different_keys_are_different_payments(module: ModuleType) -> None:
    def scenario(http, _base) -> None:  # noqa: ANN001
        for key in ("a", "b", "c"):
            http.post("/payments/", json=dict(PAYMENT), headers={IDEMPOTENCY_KEY_HEADER: key})
        expect(len(http.get("/payments/").json()) == 3, "Claves distintas son pagos distintos.")

    _with_app(module, scenario)


ANSWERS = (
    "las respuestas de tu servicio de pagos (¿una ruta que no termina, o un lock que nunca "
    "se suelta?)"
)


def _payments(description: str, run) -> Check:  # noqa: ANN001
    return Check(description, run, waits_for=ANSWERS, time_limit_s=60.0)


CHECKS = (
    _payments("sin Idempotency-Key, cada POST es un pago", without_key_each_post_pays),
    _payments(
        "misma clave y mismos datos: el mismo pago, cobrado una vez", same_key_returns_same_payment
    ),
    _payments("misma clave con otros datos: 422", same_key_other_body_is_422),
    _payments("20 duplicados simultáneos cobran una sola vez", concurrent_duplicates_pay_once),
    _payments(
        "misma clave con otros datos a la vez: 422 también en la carrera",
        concurrent_other_body_is_422,
    ),
    _payments("claves distintas son pagos distintos", different_keys_are_different_payments),
    _payments("otra réplica con la misma base reconoce la clave", another_replica_knows_the_key),
    _payments(
        "dos réplicas a la vez con la misma clave cobran una vez", concurrent_replicas_pay_once
    ),
)

HINTS = (
    "Primero lo secuencial: si llega una clave, buscá session.scalar(select(Payment).where("
    "Payment.idempotency_key == key)). Si existe, devolvelo en vez de crear otro.",
    "Guardá la huella (fingerprint(data), que cubre todos los campos) junto al pago, en la "
    "base; si la clave existe con otra huella, "
    "raise HTTPException(422, detail='Esa Idempotency-Key ya se usó con otros datos.').",
    "La carrera: dos hilos no encuentran la clave y los dos insertan. La columna es UNIQUE, "
    "así que el segundo commit lanza IntegrityError: session.rollback(), buscá el pago ganador "
    "y pasalo por la misma comparación de huella (otros datos: 422). Nada de threading.Lock ni "
    "de dicts: con dos réplicas lo único compartido es la base. Mirá "
    "microservicios/orders/saga.py (_claim) para la versión del proyecto.",
)
