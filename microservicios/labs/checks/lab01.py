"""Lab 1: GET /users/search?email= in the users service, seen through the gateway."""

import contextlib
import logging
import re
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TypeGuard

from fastapi import APIRouter
from fastapi.exceptions import ResponseValidationError

from microservicios.cluster import Cluster
from microservicios.labs.checking import Check, CheckFailedError, expect
from microservicios.labs.checks.support import client, throwaway_cluster

# Words that give away an English message ("User not found", "No user with that email").
ENGLISH_WORDS = re.compile(
    r"\b(not|found|user|does|exists?|the|that|with|unknown|no such)\b", re.IGNORECASE
)


# What Python says when code awaits something that is not awaitable, e.g. a User.
NOT_AWAITABLE = "can't be used in 'await' expression"
SYNC_SESSION = (
    "El servicio respondió 500 porque tu ruta hace `await` sobre lo que devuelve la sesión:\n"
    "  {error}\n"
    "En este laboratorio tu SessionDep es sincrónico: sin await. microservicios/users/routes.py "
    "usa otra sesión, la async de los servicios (DbSessionDep), y por eso ahí todo lleva "
    "await; acá es user = session.scalar(select(User).where(...)), sin await."
)

# The beginner's mistake of the 404 step: `return user` with no user found.
RETURNED_NONE = (
    "El servicio respondió 500 porque tu ruta devolvió None{place}: FastAPI no puede "
    "convertir None en un UserRead.\nEs lo que devuelve session.scalar(...) cuando nadie "
    "tiene ese email: si no encontrás el usuario, lanzá HTTPException(status_code=404, "
    "detail='No hay ningún usuario con ese email.') en vez de devolver None."
)


def _returned_none(exc: BaseException) -> TypeGuard[ResponseValidationError]:
    """True if `exc` is FastAPI refusing a route's answer because it was None."""
    return isinstance(exc, ResponseValidationError) and any(
        error.get("input", ...) is None and tuple(error.get("loc", ()))[:1] == ("response",)
        for error in exc.errors()
    )


def _endpoint_place(exc: ResponseValidationError) -> str:
    """` (search_user, busqueda.py, línea N)`: where FastAPI says the route is defined."""
    file, line = getattr(exc, "endpoint_file", None), getattr(exc, "endpoint_line", None)
    if not (file and line):
        return ""
    function = getattr(exc, "endpoint_function", None)
    return f" ({function + ', ' if function else ''}{Path(file).name}, línea {line})"


class _ServerExceptions(logging.Handler):
    """The exceptions the served apps raised: uvicorn logs each one on "uvicorn.error"."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.raised: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.raised.append(record.exc_info[1])


def _where(exc: BaseException, module: ModuleType) -> str:
    """`Type: message (file, línea N)`, at the student's line if the traceback passes there."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [frame for frame in frames if frame.filename == module.__file__] or frames[-1:]
    place = f" ({Path(own[-1].filename).name}, línea {own[-1].lineno})" if own else ""
    return f"{type(exc).__name__}: {exc}{place}"


@contextlib.contextmanager
def _cluster(module: ModuleType) -> Iterator[Cluster]:
    """The cluster with the student's router. The client of a route that raised sees only a
    500: a failing check also says what the route raised, instead of a traceback on stderr."""
    exceptions = _ServerExceptions()
    server_log = logging.getLogger("uvicorn.error")
    server_log.addHandler(exceptions)
    try:
        with throwaway_cluster(app_options={"users": {"routers": (module.router,)}}) as cluster:
            yield cluster
    except CheckFailedError as failure:
        if not exceptions.raised:
            raise
        first = exceptions.raised[0]
        if isinstance(first, TypeError) and NOT_AWAITABLE in str(first):
            raise CheckFailedError(SYNC_SESSION.format(error=_where(first, module))) from failure
        if _returned_none(first):
            place = _endpoint_place(first)
            raise CheckFailedError(RETURNED_NONE.format(place=place)) from failure
        raise CheckFailedError(
            f"{failure.explanation}\nEn el servicio users, tu ruta lanzó {_where(first, module)}."
        ) from failure
    finally:
        server_log.removeHandler(exceptions)


def has_router(module: ModuleType) -> None:
    router = getattr(module, "router", None)
    expect(isinstance(router, APIRouter), "Tu archivo tiene que definir `router = APIRouter(...)`.")
    assert isinstance(router, APIRouter)  # for the type checker: `expect` has said it
    expect(router.prefix == "/users", "El router tiene que tener prefix='/users'.")


def finds_user_via_gateway(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        user = http.post("/users/", json={"name": "Ana", "email": "ana@example.com"}).json()
        answer = http.get("/users/search", params={"email": "ana@example.com"})
        expect(
            answer.status_code == 200,
            f"GET /users/search?email=ana@example.com respondió {answer.status_code}: "
            f"{answer.text[:200]}. Tiene que responder 200 con el usuario.",
        )
        expect(answer.json() == user, f"Esperaba {user} y llegó {answer.json()}.")


def ignores_case(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        http.post("/users/", json={"name": "Ana", "email": "ana@example.com"})
        answer = http.get("/users/search", params={"email": "ANA@Example.COM"})
        expect(
            answer.status_code == 200,
            "Buscar 'ANA@Example.COM' no encontró a 'ana@example.com'. Los emails se guardan "
            "en minúsculas: pasá a minúsculas el que llega antes de buscar.",
        )


def unknown_is_404(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        answer = http.get("/users/search", params={"email": "nadie@example.com"})
        expect(
            answer.status_code == 404,
            f"Un email que no existe respondió {answer.status_code}; tiene que ser 404.",
        )
        detail = answer.json().get("detail", "")
        expect(
            isinstance(detail, str) and detail,
            "El 404 tiene que traer un `detail` en castellano, por ejemplo "
            "'No hay ningún usuario con ese email.'",
        )
        expect(
            not ENGLISH_WORDS.search(detail),
            f"El `detail` del 404 está en inglés ('{detail}'): quien usa la API lee castellano. "
            "Por ejemplo: 'No hay ningún usuario con ese email.'",
        )


def missing_email_is_422(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        answer = http.get("/users/search")
        expect(answer.status_code == 422, f"Sin ?email= respondió {answer.status_code}, no 422.")


def other_routes_still_work(module: ModuleType) -> None:
    with _cluster(module) as cluster, client(cluster.url("gateway")) as http:
        user = http.post("/users/", json={"name": "Ana", "email": "ana@example.com"}).json()
        expect(
            http.get(f"/users/{user['id']}").status_code == 200, "GET /users/{id} dejó de andar."
        )
        expect(http.get("/users/").status_code == 200, "GET /users/ dejó de andar.")


def same_answer_directly(module: ModuleType) -> None:
    with _cluster(module) as cluster:
        with client(cluster.url("gateway")) as http:
            http.post("/users/", json={"name": "Ana", "email": "ana@example.com"})
            via_gateway = http.get("/users/search", params={"email": "ana@example.com"})
        with client(cluster.url("users")) as http:
            direct = http.get("/users/search", params={"email": "ana@example.com"})
        expect(
            (direct.status_code, direct.json()) == (via_gateway.status_code, via_gateway.json()),
            "Directo en el servicio users y a través del gateway tienen que responder lo mismo.",
        )


CHECKS = (
    Check("el archivo define `router` con prefijo /users", has_router),
    Check(
        "GET /users/search?email=… devuelve el usuario a través del gateway", finds_user_via_gateway
    ),
    Check("la búsqueda no distingue mayúsculas de minúsculas", ignores_case),
    Check("un email desconocido da 404 con un mensaje en castellano", unknown_is_404),
    Check("sin el parámetro email la respuesta es 422", missing_email_is_422),
    Check("GET /users/ y GET /users/{id} siguen funcionando", other_routes_still_work),
    Check("directo en users y vía gateway responden lo mismo", same_answer_directly),
)

HINTS = (
    "Mirá cómo está hecho GET /users/{user_id} en microservicios/users/routes.py y "
    "microservicios/users/crud.py: tu ruta es parecida, pero busca por email. Ojo: ahí la "
    "sesión es la async de los servicios (DbSessionDep) y todo lleva await; tu SessionDep es "
    "sincrónico: sin await (con await, la ruta responde 500).",
    "Para buscar por una columna que no es la clave: "
    "session.scalar(select(User).where(User.email == email)), sin await, devuelve el "
    "usuario o None.",
    "Los emails se guardan en minúsculas (mirá users/schemas.py): usá email.lower(). "
    "Si el resultado es None: raise HTTPException(status_code=404, detail='No hay ningún "
    "usuario con ese email.')",
)
