"""Lab 3: the breaker's state machine on a fake clock, then inside a live orders service."""

import time
from types import ModuleType

from microservicios.common.breaker import BreakerConfig
from microservicios.common.headers import RETRY_AFTER_HEADER
from microservicios.labs.checking import Check, expect
from microservicios.labs.checks.support import client, throwaway_cluster


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _breaker(module: ModuleType, threshold: int = 3, reset: float = 5.0, probes: int = 1):  # noqa: ANN202
    clock = FakeClock()
    config = BreakerConfig(
        failure_threshold=threshold, reset_timeout=reset, half_open_max_calls=probes
    )
    seen: list = []
    breaker = module.CircuitBreaker(
        "orders", "items", config, clock=clock, wall_clock=clock, on_transition=seen.append
    )
    return breaker, clock, seen


def _fail(breaker, times: int) -> None:  # noqa: ANN001
    for _ in range(times):
        if breaker.allow_request():
            breaker.record_failure()


def starts_closed(module: ModuleType) -> None:
    breaker, _, _ = _breaker(module)
    expect(
        breaker.state == "closed",
        f"Un breaker nuevo tiene que estar 'closed', no '{breaker.state}'.",
    )
    expect(breaker.allow_request(), "Cerrado, allow_request() tiene que dar True.")


def opens_after_threshold(module: ModuleType) -> None:
    breaker, _, _ = _breaker(module, threshold=3)
    _fail(breaker, 2)
    expect(breaker.state == "closed", "Con 2 fallos (umbral 3) todavía tiene que estar 'closed'.")
    _fail(breaker, 1)
    expect(
        breaker.state == "open",
        f"Al tercer fallo seguido tiene que abrirse; está '{breaker.state}'.",
    )


def spaced_failures_still_open(module: ModuleType) -> None:
    for spacing in (1.5, 60.0):
        breaker, clock, _ = _breaker(module, threshold=3)
        for _ in range(3):
            clock.now += spacing  # against a hung items every call lasts its whole timeout
            if breaker.allow_request():
                breaker.record_failure()
        expect(
            breaker.state == "open",
            f"3 fallos seguidos, uno cada {spacing:g} s (con items colgado, cada llamada tarda "
            f"lo que su timeout), dejaron tu breaker '{breaker.state}' con umbral 3: así deja "
            "pasar todas las llamadas y nunca se abre. Seguidos quiere decir sin un éxito en el "
            "medio, no «cerca en el tiempo»: la cuenta no vence con el reloj; sólo un éxito "
            "reinicia la cuenta.",
        )


def success_resets_count(module: ModuleType) -> None:
    breaker, _, _ = _breaker(module, threshold=3)
    _fail(breaker, 2)
    breaker.allow_request()
    breaker.record_success()
    _fail(breaker, 2)
    expect(
        breaker.state == "closed",
        "Los fallos cuentan SEGUIDOS: un éxito en el medio reinicia la cuenta.",
    )


def open_refuses(module: ModuleType) -> None:
    breaker, clock, _ = _breaker(module, threshold=1, reset=5.0)
    _fail(breaker, 1)
    clock.now += 4.9
    expect(
        not breaker.allow_request(),
        "Abierto y antes de reset_timeout, allow_request() tiene que dar False.",
    )


def half_open_after_cool_down(module: ModuleType) -> None:
    breaker, clock, _ = _breaker(module, threshold=1, reset=5.0)
    _fail(breaker, 1)
    clock.now += 5.0
    expect(
        breaker.state == "half_open",
        f"Pasados reset_timeout segundos tiene que estar 'half_open'; está '{breaker.state}'.",
    )
    expect(breaker.allow_request(), "En half_open la primera llamada de prueba tiene que pasar.")
    expect(
        not breaker.allow_request(),
        "Con half_open_max_calls=1, una segunda prueba simultánea no pasa.",
    )


def probe_success_closes(module: ModuleType) -> None:
    breaker, clock, _ = _breaker(module, threshold=1, reset=5.0)
    _fail(breaker, 1)
    clock.now += 5.0
    breaker.allow_request()
    breaker.record_success()
    expect(breaker.state == "closed", "Si la prueba sale bien, el circuito se cierra.")
    expect(breaker.allow_request(), "Cerrado de nuevo, las llamadas pasan.")


def probe_failure_reopens(module: ModuleType) -> None:
    breaker, clock, seen = _breaker(module, threshold=1, reset=5.0)
    _fail(breaker, 1)
    clock.now += 5.0
    breaker.allow_request()
    breaker.record_failure()
    moves = [(t.from_state, t.to_state) for t in seen]
    reopened = ("half_open", "open") in moves or getattr(breaker, "_state", None) == "open"
    state = breaker.state
    expect(reopened, f"Si la prueba falla, vuelve a 'open'; está '{state}'.")
    expect(
        state == "open",
        "La prueba falló y volviste a 'open', pero sin reiniciar la espera: como la hora de "
        f"apertura es la vieja, ya está '{state}'. Al reabrir, anotá la nueva hora de apertura.",
    )
    clock.now += 4.0
    expect(
        not breaker.allow_request(),
        "…y espera OTRO reset_timeout completo (anotá la nueva hora de apertura).",
    )


def late_probe_failure_reopens_from_now(module: ModuleType) -> None:
    breaker, clock, _ = _breaker(module, threshold=1, reset=5.0)
    _fail(breaker, 1)
    clock.now += 60.0  # long after the wait ended, items still down
    reached = 0
    for _ in range(10):
        if breaker.allow_request():
            reached += 1
            breaker.record_failure()
    expect(
        reached == 1,
        "Se abrió, pasaron 60 s (reset_timeout=5) con items todavía caído y llegaron 10 "
        f"llamadas: {reached} llegaron a items, y tiene que llegar 1 sola (la prueba). Al "
        "fallar la prueba, los 5 s de la nueva espera se cuentan desde que falló la prueba "
        "(self._clock() de ahora), no desde la apertura anterior.",
    )
    clock.now += 4.9
    expect(
        not breaker.allow_request(),
        "Reabierto por una prueba fallida, tiene que rechazar durante un reset_timeout entero "
        "contado desde que falló la prueba; a los 4.9 s dejó pasar una llamada.",
    )


def count_restarts_after_closing(module: ModuleType) -> None:
    breaker, clock, _ = _breaker(module, threshold=3, reset=5.0)
    _fail(breaker, 3)
    clock.now += 5.0
    breaker.allow_request()
    breaker.record_success()
    _fail(breaker, 1)
    expect(
        breaker.state == "closed",
        "Se abrió con 3 fallos, se cerró con una prueba exitosa y un solo fallo lo volvió a "
        "abrir: al cerrarse, la cuenta de fallos tiene que volver a cero.",
    )


def failures_while_open_keep_the_wait(module: ModuleType) -> None:
    breaker, clock, _ = _breaker(module, threshold=1, reset=5.0)
    _fail(breaker, 1)
    clock.now += 3.0
    breaker.record_failure()  # a call let through before opening answers late
    clock.now += 2.0
    expect(
        breaker.state == "half_open",
        "Un fallo que llega con el circuito abierto (de una llamada que salió antes de abrirse) "
        "no tiene que correr la espera: reset_timeout se cuenta desde que se abrió. Pasados 5 s "
        f"está '{breaker.state}' y no 'half_open'.",
    )


def reports_transitions(module: ModuleType) -> None:
    breaker, clock, seen = _breaker(module, threshold=1, reset=1.0)
    _fail(breaker, 1)
    clock.now += 1.0
    breaker.allow_request()
    breaker.record_success()
    moves = [(t.from_state, t.to_state) for t in seen]
    expect(
        moves == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")],
        f"Los cambios de estado avisados fueron {moves}: usá self._move_to(...) en cada cambio.",
    )


def works_in_live_cluster(module: ModuleType) -> None:
    settings = {"breaker_failure_threshold": 3, "breaker_reset_timeout": 0.5}
    with throwaway_cluster(breaker_factory=module.CircuitBreaker, settings=settings) as cluster:
        with client(cluster.url("gateway")) as http:
            user = http.post("/users/", json={"name": "Ana", "email": "ana@example.com"}).json()
            http.post("/items/", json={"name": "Taza", "sku": "TAZA", "stock": 10})
        order = {"user_id": user["id"], "item_sku": "TAZA", "qty": 1}
        with client(cluster.url("orders")) as http:

            def state() -> str:
                return http.get("/health").json()["breakers"]["items"]["state"]

            expect(
                http.post("/orders/", json=order).status_code == 201,
                "Con todo arriba, la orden tiene que salir.",
            )
            cluster.kill("items")
            for _ in range(3):
                http.post("/orders/", json=order)
            expect(
                state() == "open",
                f"Con items caído, tu breaker en orders tiene que abrirse; está '{state()}'.",
            )
            refused = http.post("/orders/", json=order)
            expect(
                refused.status_code == 503 and RETRY_AFTER_HEADER in refused.headers,
                "Abierto, orders tiene que responder 503 con Retry-After enseguida.",
            )
            cluster.revive("items")
            deadline = time.monotonic() + 10
            while state() != "closed" and time.monotonic() < deadline:
                time.sleep(0.2)
                http.post("/orders/", json=order)
            expect(
                state() == "closed",
                "Con items de vuelta, tras la espera y una prueba exitosa, tiene que cerrarse.",
            )


CHECKS = (
    Check("empieza cerrado y deja pasar", starts_closed),
    Check("se abre con failure_threshold fallos seguidos", opens_after_threshold),
    Check(
        "los fallos seguidos cuentan aunque lleguen espaciados (1.5 s, 60 s)",
        spaced_failures_still_open,
    ),
    Check("un éxito reinicia la cuenta de fallos", success_resets_count),
    Check("abierto, rechaza hasta que pasa reset_timeout", open_refuses),
    Check("pasada la espera, half_open deja pasar una sola prueba", half_open_after_cool_down),
    Check("una prueba exitosa cierra el circuito", probe_success_closes),
    Check("al cerrarse, la cuenta de fallos empieza de cero", count_restarts_after_closing),
    Check(
        "los fallos con el circuito abierto no corren la espera", failures_while_open_keep_the_wait
    ),
    Check("una prueba fallida lo reabre por otra espera completa", probe_failure_reopens),
    Check(
        "una prueba fallida mucho después reabre contando desde ahora: pasa 1 llamada, no 10",
        late_probe_failure_reopens_from_now,
    ),
    Check("cada cambio de estado se avisa con _move_to", reports_transitions),
    Check(
        "enchufado en un cluster real: se abre al matar items y se cierra al revivirlo",
        works_in_live_cluster,
    ),
)

HINTS = (
    "Dibujá los tres estados y las flechas entre ellos antes de escribir código. Cada flecha "
    "es un `self._move_to(NUEVO, 'motivo')`.",
    "La transición open → half_open no la dispara una llamada sino el paso del tiempo: "
    "revisala en la propiedad `state` comparando self._clock() con _opened_at + reset_timeout.",
    "allow_request(): usá self.state (no self._state) para que la espera venza. En half_open, "
    "dejá pasar si _probes_in_flight < config.half_open_max_calls, y sumá 1. La versión del "
    "proyecto está en microservicios/common/breaker.py.",
    "record_failure(): la cuenta de fallos seguidos no vence con el tiempo (sólo un éxito la "
    "pone en cero), y si falla una prueba, reabrí anotando la hora de ahora: "
    "self._opened_at = self._clock(), no la de la apertura anterior.",
)
