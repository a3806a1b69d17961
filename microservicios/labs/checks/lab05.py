"""Lab 5: the compensating release of a saga, with fakes and against a real items service."""

import asyncio
import time
import uuid
from types import ModuleType

import httpx

from microservicios.common.headers import SERVICE_TOKEN_HEADER
from microservicios.labs.checking import Check, expect
from microservicios.labs.checks.support import client, throwaway_cluster
from microservicios.labs.saga_errors import NoStockError, StoreError, UnavailableError


class Saga:
    """Fake steps that record what was called; each can be told to fail."""

    def __init__(self, reserve_error=None, store_error=None, release_error=None) -> None:  # noqa: ANN001
        self.calls: list[str] = []
        self.errors = {"reserve": reserve_error, "store": store_error, "release": release_error}

    def step(self, name: str, result=None):  # noqa: ANN001, ANN202
        async def run():  # noqa: ANN202
            self.calls.append(name)
            if self.errors[name] is not None:
                raise self.errors[name]
            return result

        return run

    def place(self, module: ModuleType):  # noqa: ANN202
        return asyncio.run(
            module.place_order(
                reserve=self.step("reserve"),
                release=self.step("release"),
                store=self.step("store", {"id": 1, "status": "CREATED"}),
            )
        )


def _raises(module: ModuleType, saga: Saga, error: type[Exception]) -> None:
    try:
        saga.place(module)
    except error:
        return
    except Exception as exc:  # noqa: BLE001
        expect(False, f"Esperaba que se propagara {error.__name__} y llegó {type(exc).__name__}.")
    expect(False, f"Esperaba que se propagara {error.__name__}, pero place_order no lanzó nada.")


def happy_path(module: ModuleType) -> None:
    saga = Saga()
    order = saga.place(module)
    expect(
        order == {"id": 1, "status": "CREATED"},
        "Si todo sale bien, devolvé la orden que da store().",
    )
    expect(saga.calls == ["reserve", "store"], f"Llamadas: {saga.calls}; esperaba reserve y store.")


def no_stock_stores_nothing(module: ModuleType) -> None:
    saga = Saga(reserve_error=NoStockError())
    _raises(module, saga, NoStockError)
    expect("store" not in saga.calls, "Sin reserva nunca se guarda la orden.")


def store_failure_releases(module: ModuleType) -> None:
    saga = Saga(store_error=StoreError())
    _raises(module, saga, StoreError)
    expect(
        saga.calls.count("release") == 1,
        f"Si store() falla hay que liberar la reserva una vez; llamadas: {saga.calls}.",
    )


def unanswered_reserve_releases(module: ModuleType) -> None:
    saga = Saga(reserve_error=UnavailableError())
    _raises(module, saga, UnavailableError)
    expect(
        "release" in saga.calls,
        "Si reserve() no contestó, la reserva quizás se hizo: liberala igual (es idempotente).",
    )
    expect("store" not in saga.calls, "Si la reserva no se confirmó, no guardes la orden.")


def unexpected_failure_releases(module: ModuleType) -> None:
    saga = Saga(store_error=RuntimeError("se cortó la conexión con la base de órdenes"))
    _raises(module, saga, RuntimeError)
    expect(
        saga.calls.count("release") == 1,
        "store() falló con un RuntimeError (no un StoreError) y no liberaste la reserva: el "
        "stock quedó tomado para siempre. Cualquier falla después de reservar deja la reserva "
        "hecha: liberá con `except Exception`, no sólo con `except StoreError`.",
    )
    saga = Saga(reserve_error=ConnectionResetError("items cortó la conexión"))
    _raises(module, saga, ConnectionResetError)
    expect(
        "release" in saga.calls,
        "reserve() falló con un ConnectionResetError (no un UnavailableError) y no liberaste: "
        "la reserva quizás se hizo. Si no es un NoStockError (un 'no' claro), liberá igual.",
    )
    expect("store" not in saga.calls, "Si la reserva no se confirmó, no guardes la orden.")


def original_error_wins(module: ModuleType) -> None:
    saga = Saga(store_error=StoreError(), release_error=UnavailableError())
    try:
        saga.place(module)
    except UnavailableError:
        expect(
            False,
            "store() falló, release() también, y el UnavailableError de release() tapó el "
            "StoreError original: atrapá el error de la compensación y volvé a lanzar el original.",
        )
    except StoreError:
        return
    expect(False, "store() falló y release() también: place_order tiene que lanzar StoreError.")


def _items_steps(items_url: str, reservation_id: str, timeout: float, secret: str):  # noqa: ANN202
    headers = {SERVICE_TOKEN_HEADER: secret}

    async def reserve() -> None:
        body = {"reservation_id": reservation_id, "sku": "LIBRO", "qty": 2}
        try:
            async with httpx.AsyncClient(timeout=timeout) as http:
                answer = await http.post(
                    f"{items_url}/items/internal/reserve", json=body, headers=headers
                )
        except httpx.TimeoutException as exc:
            raise UnavailableError() from exc
        if answer.status_code in (404, 409):
            raise NoStockError()
        answer.raise_for_status()

    async def release() -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            answer = await http.post(
                f"{items_url}/items/internal/release",
                json={"reservation_id": reservation_id},
                headers=headers,
            )
        answer.raise_for_status()

    async def store() -> None:
        raise StoreError("la base de órdenes no está disponible")

    return reserve, release, store


def _stock_after(module: ModuleType, latency: float, timeout: float) -> int:
    with throwaway_cluster() as cluster, client(cluster.url("items")) as http:
        item = http.post("/items/", json={"name": "Libro", "sku": "LIBRO", "stock": 10}).json()
        if latency:
            cluster.inject("items", latency=latency)
        assert cluster.settings is not None  # a started cluster has its settings
        secret = cluster.settings.service_secret.get_secret_value()
        reserve, release, store = _items_steps(
            cluster.url("items"), uuid.uuid4().hex, timeout, secret
        )
        try:
            asyncio.run(module.place_order(reserve=reserve, release=release, store=store))
        except (StoreError, UnavailableError):
            pass
        time.sleep(latency * 2)  # let a late reservation land before looking
        cluster.heal("items")
        return http.get(f"/items/{item['id']}").json()["stock"]


def real_items_stock_comes_back(module: ModuleType) -> None:
    stock = _stock_after(module, latency=0.0, timeout=5)
    expect(
        stock == 10,
        f"Con el servicio items real, después de fallar store() el stock quedó en "
        f"{stock} y no en 10: la reserva no se liberó.",
    )


def late_reservation_is_undone(module: ModuleType) -> None:
    stock = _stock_after(module, latency=0.6, timeout=0.2)
    expect(
        stock == 10,
        f"items tardó más que el timeout y la reserva llegó tarde: el stock quedó en "
        f"{stock} y no en 10. Un timeout no dice si la reserva se hizo.",
    )


FAKES_TIME_LIMIT_S = 10.0  # the fake steps answer at once: a few retries fit easily
PLACE_ORDER_ENDS = "que place_order terminara (los pasos de prueba contestan al instante)"
RELEASE_KEEPS_FAILING = (
    "que place_order terminara con release() fallando siempre. ¿Reintentás para siempre? "
    "Quien llamó sigue esperando la respuesta: reintentá pocas veces (o ninguna) y lanzá el "
    "error original; la liberación que quedó pendiente es trabajo de una tarea aparte "
    "(en el proyecto, orders/compensation.py)"
)
REAL_ITEMS = (
    "que terminara la saga contra un cluster de prueba con items real (arrancarlo, reservar, "
    "liberar y apagarlo)"
)


def _fakes(description: str, run, waits_for: str = PLACE_ORDER_ENDS) -> Check:  # noqa: ANN001
    return Check(description, run, waits_for=waits_for, time_limit_s=FAKES_TIME_LIMIT_S)


CHECKS = (
    _fakes("si todo sale bien, reserva, guarda y devuelve la orden", happy_path),
    _fakes("si items dice que no hay stock, no guarda nada", no_stock_stores_nothing),
    _fakes("si guardar falla, libera la reserva", store_failure_releases),
    _fakes("si reservar no contestó, libera igual (quizás se hizo)", unanswered_reserve_releases),
    _fakes(
        "si falla otra cosa después de pedir la reserva, también libera",
        unexpected_failure_releases,
    ),
    _fakes(
        "si la compensación también falla, quien llama ve el error original",
        original_error_wins,
        waits_for=RELEASE_KEEPS_FAILING,
    ),
    Check(
        "con el servicio items real, el stock vuelve a su valor",
        real_items_stock_comes_back,
        waits_for=REAL_ITEMS,
    ),
    Check(
        "una reserva que llega tarde (timeout) tampoco se pierde",
        late_reservation_is_undone,
        waits_for=REAL_ITEMS,
    ),
)

HINTS = (
    "Separá los dos pasos en dos try/except: uno alrededor de reserve() y otro alrededor de store().",
    "NoStockError es un 'no' claro: no hay nada que deshacer. Cualquier otra falla (un "
    "UnavailableError es un 'no sé') puede haber dejado la reserva hecha: liberá (release es "
    "idempotente) y volvé a lanzar el error con `raise`. Alrededor de store(), `except "
    "Exception`: no sólo StoreError.",
    "Para que el error original gane: llamá a release() dentro de su propio try/except "
    "UnavailableError que no haga nada, y después `raise`. No reintentes release() para siempre: "
    "quien llamó está esperando. La versión del proyecto deja la liberación pendiente a una "
    "tarea aparte: microservicios/orders/saga.py y orders/compensation.py.",
)
