"""Lab 4: an idempotent payments endpoint, proven by concurrent duplicates."""

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

from microservicios.labs.checking import Check, expect
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
        url = f"sqlite:///{(Path(folder) / 'pagos.db').as_posix()}"
        with (
            served(lambda: module.create_app(url)) as base,
            httpx.Client(base_url=base, timeout=10) as http,
        ):
            scenario(http, base)


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
        headers = {"Idempotency-Key": "pago-1"}
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
        headers = {"Idempotency-Key": "pago-2"}
        http.post("/payments/", json=dict(PAYMENT), headers=headers)
        other = http.post("/payments/", json={**PAYMENT, "amount": 99}, headers=headers)
        expect(
            other.status_code == 422,
            f"Misma clave con otros datos respondió {other.status_code}: tiene que ser 422. "
            "¿comparás la huella (fingerprint) de los datos con la del pago guardado?",
        )
        expect(len(http.get("/payments/").json()) == 1, "Ese pedido no tiene que guardar nada.")

    _with_app(module, scenario)


def concurrent_duplicates_pay_once(module: ModuleType) -> None:
    def scenario(_http, base) -> None:  # noqa: ANN001
        def pay(_: int) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=10) as http:
                return http.post(
                    "/payments/", json=dict(PAYMENT), headers={"Idempotency-Key": "carrera"}
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


def different_keys_are_different_payments(module: ModuleType) -> None:
    def scenario(http, _base) -> None:  # noqa: ANN001
        for key in ("a", "b", "c"):
            http.post("/payments/", json=dict(PAYMENT), headers={"Idempotency-Key": key})
        expect(len(http.get("/payments/").json()) == 3, "Claves distintas son pagos distintos.")

    _with_app(module, scenario)


CHECKS = (
    Check("sin Idempotency-Key, cada POST es un pago", without_key_each_post_pays),
    Check(
        "misma clave y mismos datos: el mismo pago, cobrado una vez", same_key_returns_same_payment
    ),
    Check("misma clave con otros datos: 422", same_key_other_body_is_422),
    Check("20 duplicados simultáneos cobran una sola vez", concurrent_duplicates_pay_once),
    Check("claves distintas son pagos distintos", different_keys_are_different_payments),
)

HINTS = (
    "Primero lo secuencial: si llega una clave, buscá session.scalar(select(Payment).where("
    "Payment.idempotency_key == key)). Si existe, devolvelo en vez de crear otro.",
    "Guardá la huella (fingerprint(data)) junto al pago; si la clave existe con otra huella, "
    "raise HTTPException(422, detail='Esa Idempotency-Key ya se usó con otros datos.').",
    "La carrera: dos hilos no encuentran la clave y los dos insertan. La columna es UNIQUE, "
    "así que el segundo commit lanza IntegrityError: session.rollback() y buscá el pago ganador. "
    "Mirá microservicios/orders/saga.py (_claim) para la versión del proyecto.",
)
