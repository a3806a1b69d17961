"""Lab 6: a fifth service, started by the cluster and routed by the gateway."""

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.pool import Pool

from microservicios.cluster import Cluster
from microservicios.labs.checking import Check, CheckFailedError, expect
from microservicios.labs.checks.support import client, throwaway_cluster
from microservicios.serve.errors import ClusterError

NOTE = MappingProxyType({"user_id": 1, "message": "Tu pedido salió"})
DATABASE_FILE = "notifications.db"


@contextlib.contextmanager
def _cluster(module: ModuleType) -> Iterator[Cluster]:
    """The cluster with the student's service; a service that never gets healthy is explained."""
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(
                throwaway_cluster(factories={"notifications": module.create_app})
            )
        except ClusterError as exc:
            raise CheckFailedError(
                f"El cluster no pudo arrancar tu servicio: {exc} ¿Armaste la app con "
                "build_app(...)? Ella trae /health (lo que el cluster espera), /metrics y la base."
            ) from exc
        yield cluster


def builds_an_app(module: ModuleType) -> None:
    expect(callable(getattr(module, "create_app", None)), "Falta la función create_app(settings).")
    expect(
        isinstance(module.create_app(), FastAPI), "create_app() tiene que devolver una app FastAPI."
    )


def starts_with_health(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("notifications")) as http:
        health = http.get("/health").json()
        expect(
            health.get("service") == "notifications" and health.get("status") == "ok",
            f"GET /health respondió {health}; esperaba service='notifications', status='ok'.",
        )


def create_and_list_via_gateway(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        created = http.post("/notifications/", json=dict(NOTE))
        expect(
            created.status_code != 404,
            "POST /notifications/ vía gateway respondió 404: el gateway manda /notifications/… "
            "al servicio, así que el router tiene que tener prefix='/notifications'.",
        )
        expect(
            created.status_code == 201,
            f"POST /notifications/ vía gateway respondió {created.status_code}: {created.text[:200]}",
        )
        body = created.json()
        expect(
            body.get("message") == NOTE["message"] and "id" in body,
            f"La notificación creada tiene que traer id y message; llegó {body}.",
        )
        listed = http.get("/notifications/")
        expect(
            listed.status_code == 200 and listed.json() == [body],
            f"GET /notifications/ tendría que listar la creada; dio {listed.status_code} {listed.text[:200]}",
        )


@contextlib.contextmanager
def _unordered_selects_reversed() -> Iterator[None]:
    """Every SQLite connection to a notifications.db opened meanwhile returns the rows of a
    SELECT without ORDER BY backwards (PRAGMA reverse_unordered_selects: SQLite's own tool
    for code that relies on an order nobody asked for)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list")]
        if any(Path(file).name == DATABASE_FILE for file in files if file):
            dbapi_connection.execute("PRAGMA reverse_unordered_selects = ON")

    event.listen(Pool, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Pool, "connect", on_connect)


def _ids(answer: httpx.Response) -> list[int]:
    expect(
        answer.status_code == 200 and isinstance(answer.json(), list),
        f"GET {answer.url.path}?{answer.url.query.decode()} respondió {answer.status_code}: "
        f"{answer.text[:200]}",
    )
    return [note.get("id") for note in answer.json()]


def paginates_in_id_order(module: ModuleType) -> None:
    with (
        _unordered_selects_reversed(),
        _cluster(module) as cluster,
        client(cluster.url("gateway")) as http,
    ):
        created = [
            http.post("/notifications/", json={**NOTE, "message": f"Aviso {n}"}).json()["id"]
            for n in range(1, 6)
        ]
        listed = _ids(http.get("/notifications/"))
        expect(
            listed == created or sorted(listed) != sorted(created),
            f"GET /notifications/ devolvió los ids {listed}, no {created}: sin order_by la base "
            "no promete ningún orden, y las páginas no son estables (en PostgreSQL, una fila "
            "que se actualiza cambia de lugar: una página repite filas y otra se las saltea). "
            "Esta comprobación le pide a SQLite que lo muestre (PRAGMA reverse_unordered_selects). "
            "Ordená: select(Notification).order_by(Notification.id).",
        )
        expect(
            listed == created,
            f"GET /notifications/ devolvió los ids {listed}, y en este cluster recién "
            f"arrancado, con la base vacía, se crearon {created}.",
        )
        pages = {
            offset: _ids(http.get("/notifications/", params={"limit": 2, "offset": offset}))
            for offset in (0, 2, 4)
        }
        expected = {0: created[0:2], 2: created[2:4], 4: created[4:]}
        expect(
            pages[0] == created[:2],
            f"GET /notifications/?limit=2 dio los ids {pages[0]}; esperaba {created[:2]}. "
            "Respetá la paginación: .limit(page.limit).offset(page.offset).",
        )
        expect(
            pages[2] != created[4:],
            f"GET /notifications/?limit=2&offset=2 dio los ids {pages[2]}; esperaba "
            f"{created[2:4]}. offset es cuántas notificaciones saltear, no un número de página: "
            ".offset(page.offset), sin multiplicar por limit.",
        )
        expect(
            pages == expected,
            f"Con limit=2 y offset 0, 2 y 4 esperaba los ids {list(expected.values())}; "
            f"llegaron {list(pages.values())}. Respetá la paginación: "
            ".limit(page.limit).offset(page.offset).",
        )


def same_answer_directly(module: ModuleType) -> None:
    with _cluster(module) as cluster:
        with client(cluster.url("gateway")) as http:
            http.post("/notifications/", json=dict(NOTE))
            via_gateway = http.get("/notifications/").json()
        with client(cluster.url("notifications")) as http:
            expect(
                http.get("/notifications/").json() == via_gateway,
                "Directo en el servicio y vía gateway tienen que responder lo mismo.",
            )


def validates_in_spanish(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        answer = http.post("/notifications/", json={"user_id": 0, "message": ""})
        expect(
            answer.status_code == 422, f"Datos inválidos respondieron {answer.status_code}, no 422."
        )
        expect(
            "Datos no válidos" in answer.json().get("detail", ""),
            "El 422 tiene que explicar el error en castellano (lo da build_app si lo usás).",
        )


def _messages_in(database: Path) -> list[str]:
    """The messages stored in the notifications table of `database` (none if no table)."""
    connection = sqlite3.connect(database)
    try:
        return [row[0] for row in connection.execute("SELECT message FROM notifications")]
    except sqlite3.OperationalError:
        return []
    finally:
        connection.close()


def own_database(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        http.post("/notifications/", json=dict(NOTE))
        database = Path(cluster.data_dir) / DATABASE_FILE
        expect(
            database.exists(),
            "El servicio tiene que guardar en su propia base, notifications.db, en data_dir.",
        )
        # The file alone proves nothing: build_app opens it even if the routes never use it.
        expect(
            NOTE["message"] in _messages_in(database),
            "Creaste una notificación a través del gateway y no está en notifications.db, la "
            "base que build_app le abre a tu servicio en data_dir: tu servicio guarda en otra "
            "base. Usá la de la app: open_database(url) con la url que recibe, y "
            "`session: SessionDep` en cada ruta (nada de un engine propio).",
        )


def gateway_knows_it(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        breakers = http.get("/health").json().get("breakers", {})
        expect(
            "notifications" in breakers,
            f"El gateway tiene que tener un breaker hacia notifications; tiene {sorted(breakers)}.",
        )
        cluster.kill("notifications")
        down = http.get("/notifications/")
        expect(
            down.status_code == 503,
            f"Con notifications caído el gateway responde 503, no {down.status_code}.",
        )


CHECKS = (
    Check("create_app() construye una app FastAPI", builds_an_app),
    Check("el cluster lo arranca y /health responde", starts_with_health),
    Check("POST y GET /notifications/ andan a través del gateway", create_and_list_via_gateway),
    Check("guarda en su propia base, la que abre build_app", own_database),
    Check("GET /notifications/ pagina con limit y offset, en orden de id", paginates_in_id_order),
    Check("directo y vía gateway responden lo mismo", same_answer_directly),
    Check("los datos inválidos dan 422 en castellano", validates_in_spanish),
    Check("el gateway lo conoce: breaker propio y 503 si se cae", gateway_knows_it),
)

HINTS = (
    "Copiá la forma de microservicios/users/routes.py: una función async por ruta, con "
    "@router.get('/') y @router.post('/', status_code=201).",
    "Para listar: select(Notification).order_by(Notification.id).limit(page.limit)"
    ".offset(page.offset), y devolvé list(session.scalars(query)). Sin order_by las páginas "
    "no son estables; offset es cuántas saltear, no un número de página.",
    "Para crear: Notification(user_id=data.user_id, message=data.message), session.add(...), "
    "session.commit() y devolvé el objeto: response_model=NotificationOut lo convierte.",
)
