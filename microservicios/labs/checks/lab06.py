"""Lab 6: a fifth service, started by the cluster and routed by the gateway."""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType, ModuleType

from fastapi import FastAPI

from microservicios.cluster import Cluster
from microservicios.cluster.runner import ClusterError
from microservicios.labs.checking import Check, CheckFailedError, expect
from microservicios.labs.checks.support import client, throwaway_cluster

NOTE = MappingProxyType({"user_id": 1, "message": "Tu pedido salió"})


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
        second = http.post("/notifications/", json={**NOTE, "message": "Llegó tu pedido"}).json()
        pages = [
            http.get("/notifications/", params=params).json()
            for params in ({"limit": 1}, {"limit": 1, "offset": 1})
        ]
        expect(
            pages == [[body], [second]],
            "GET /notifications/?limit=1 y ?limit=1&offset=1 tienen que dar una notificación "
            f"cada uno; dieron {pages}. Respetá la paginación: .limit(page.limit).offset(page.offset).",
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


def own_database(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        http.post("/notifications/", json=dict(NOTE))
        expect(
            (Path(cluster.data_dir) / "notifications.db").exists(),
            "El servicio tiene que guardar en su propia base, notifications.db, en data_dir.",
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
    Check("directo y vía gateway responden lo mismo", same_answer_directly),
    Check("los datos inválidos dan 422 en castellano", validates_in_spanish),
    Check("usa su propia base de datos", own_database),
    Check("el gateway lo conoce: breaker propio y 503 si se cae", gateway_knows_it),
)

HINTS = (
    "Copiá la forma de microservicios/users/routes.py: una función async por ruta, con "
    "@router.get('/') y @router.post('/', status_code=201).",
    "Para listar: select(Notification).order_by(Notification.id).limit(page.limit)"
    ".offset(page.offset), y devolvé list(session.scalars(query)).",
    "Para crear: Notification(user_id=data.user_id, message=data.message), session.add(...), "
    "session.commit() y devolvé el objeto: response_model=NotificationOut lo convierte.",
)
