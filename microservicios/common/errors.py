"""Error answers in Spanish, translated once at the boundary of every app."""

import errno
import math
import socket
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from microservicios.common.context import AppContext, context_of
from microservicios.common.database import DatabaseUnavailableError, unavailable_database
from microservicios.common.db import why_not
from microservicios.common.fields import NOT_BLANK
from microservicios.migrations.schema import migrate_command

# Starlette's own English texts for errors it raises before our code runs.
DEFAULT_DETAILS = MappingProxyType(
    {
        404: "Ruta no encontrada.",
        405: "Método no permitido en esta ruta.",
    }
)

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

# FastAPI's English 400 for a body it cannot even decode (not UTF-8, say): for the client it is
# the same mistake as a body that is not JSON, so it gets the same Spanish 422.
UNPARSEABLE_BODY = "There was an error parsing the body"
BODY_NOT_JSON = "el cuerpo no es JSON válido"
# FastAPI reads a body as JSON only if its Content-Type says so (curl -d sends
# application/x-www-form-urlencoded): any other body reaches the model as raw bytes, and
# pydantic's "must be an object" would blame a body that may well be one.
BODY_NOT_SENT_AS_JSON = (
    "el cuerpo tiene que ir como JSON, con la cabecera Content-Type: application/json "
    "(curl: -H 'Content-Type: application/json')"
)

VALIDATION_MESSAGES = MappingProxyType(
    {
        "missing": "es obligatorio",
        "string_too_short": "es demasiado corto (mínimo {min_chars})",
        "string_too_long": "es demasiado largo (máximo {max_chars})",
        "string_type": "debe ser un texto",
        # JSON can escape half of a UTF-16 pair, \\ud800, which no Unicode text can hold.
        "string_unicode": "tiene un carácter que no existe: la mitad suelta de un par UTF-16 "
        "(como \\ud800)",
        "string_pattern_mismatch": "tiene un formato no válido",
        "control_character": "no puede tener caracteres de control (como saltos de línea o NUL)",
        "invisible_character": "no puede tener caracteres invisibles (tiene {code_point})",
        "int_parsing": "debe ser un número entero",
        "int_type": "debe ser un número entero",
        "bool_type": "debe ser true o false",
        "int_from_float": "debe ser un número entero",
        "greater_than_equal": "debe ser mayor o igual que {ge}",
        "greater_than": "debe ser mayor que {gt}",
        "less_than_equal": "debe ser menor o igual que {le}",
        "less_than": "debe ser menor que {lt}",
        "value_error": "no es válido",
        "model_attributes_type": "debe ser un objeto JSON",
        "dict_type": "debe ser un objeto JSON",
        "extra_forbidden": "no es un campo permitido",
    }
)
# Messages for patterns that mean more than "a format" to whoever reads the error.
PATTERN_MESSAGES = MappingProxyType({NOT_BLANK: "no puede estar en blanco"})


# Nobody knows when a dependency that did not answer will be back: one second, the shortest
# wait a whole-second Retry-After can say. An open breaker knows better (its cool-down).
UNKNOWN_RETRY_AFTER = 1.0


class ServiceUnavailableError(Exception):
    """A dependency could not be reached or did not answer in time; `retry_after` is how
    many seconds the client should wait before trying again."""

    def __init__(self, service: str, reason: str, retry_after: float = UNKNOWN_RETRY_AFTER) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason
        self.retry_after = retry_after


class CircuitOpenError(ServiceUnavailableError):
    """The circuit to a dependency is open: the call was refused without being sent."""

    def __init__(self, service: str, retry_after: float) -> None:
        super().__init__(
            service, "demasiados fallos seguidos, el circuito está abierto", retry_after
        )


def spanish_validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's errors with a Spanish message each, keeping type and location."""
    translated = []
    for error in errors:
        if error.get("type") == "json_invalid":
            # Its location is a character offset ("body", 7): no field to name but the body.
            translated.append({"campo": "cuerpo", "mensaje": BODY_NOT_JSON, "tipo": "json_invalid"})
            continue
        if body_not_sent_as_json(error):
            # Not which Content-Type arrived: through the gateway, a request with none gets
            # the HTTP client's default (application/octet-stream) on its way to the service.
            translated.append(
                {"campo": "cuerpo", "mensaje": BODY_NOT_SENT_AS_JSON, "tipo": "content_type"}
            )
            continue
        location = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        field = ".".join(location) or "cuerpo"
        context = with_character_counts(error.get("ctx") or {})
        template = PATTERN_MESSAGES.get(context.get("pattern")) or VALIDATION_MESSAGES.get(
            error.get("type", "")
        )
        try:
            text = template.format(**context) if template else error.get("msg", "no es válido")
        except (KeyError, IndexError):
            text = error.get("msg", "no es válido")
        translated.append(
            {"campo": field, "mensaje": f"'{field}' {text}", "tipo": error.get("type")}
        )
    return translated


def characters(count: int) -> str:
    """ "1 carácter", "100 caracteres": the count with its noun in the right number."""
    return f"{count} carácter" if count == 1 else f"{count} caracteres"


def with_character_counts(context: dict[str, Any]) -> dict[str, Any]:
    """The error's context plus `min_chars`/`max_chars` ready to read."""
    extra = {
        f"{bound}_chars": characters(context[f"{bound}_length"])
        for bound in ("min", "max")
        if isinstance(context.get(f"{bound}_length"), int)
    }
    return {**context, **extra}


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    """The 422 every app answers for a request it cannot use (`ValidationErrorOut`)."""
    summary = "; ".join(error["mensaje"] for error in errors)
    return JSONResponse(
        status_code=422, content={"detail": f"Datos no válidos: {summary}.", "errors": errors}
    )


def invalid_request(location: tuple[str, str], message: str, kind: str) -> RequestValidationError:
    """A 422 found by our own code, in pydantic's shape, so it reads like any other 422.

    `location` is where the culprit is, e.g. ("body", "reservation_id"); `message` follows the
    field's name ("ya se usó con otro SKU"); `kind` becomes the error's `tipo`.
    """
    return RequestValidationError([{"type": kind, "loc": location, "msg": message}])


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return validation_response(spanish_validation_errors(exc.errors()))


def body_not_sent_as_json(error: dict[str, Any]) -> bool:
    """True for the error of a body FastAPI did not read as JSON (its Content-Type is not
    JSON, or missing): the model was handed the raw bytes."""
    return tuple(error.get("loc", ())) == ("body",) and isinstance(error.get("input"), bytes)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail, headers = exc.detail, dict(exc.headers or {})
    if exc.status_code == 400 and detail == UNPARSEABLE_BODY:
        return validation_response(spanish_validation_errors([{"type": "json_invalid"}]))
    if isinstance(detail, str) and exc.status_code in DEFAULT_DETAILS:
        # Starlette's defaults ("Not Found") are English; our own details are already Spanish.
        if detail in ("Not Found", "Method Not Allowed"):
            detail = DEFAULT_DETAILS[exc.status_code]
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app accepts at this request's path.

    Starlette's own 405 names only the methods of the first route that matched the path,
    and "/users/{user_id}" is three routes (GET, PUT, DELETE); so ask every route about
    every method.
    """
    path, root_path = request.scope["path"], request.scope.get("root_path", "")
    allowed = []
    for method in HTTP_METHODS:
        # A fresh scope: the request's own already carries what routing found for it.
        probe = {"type": "http", "method": method, "path": path, "root_path": root_path}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _service_unavailable(_request: Request, exc: ServiceUnavailableError) -> JSONResponse:
    return service_unavailable_response(exc)


def service_unavailable_response(exc: ServiceUnavailableError) -> JSONResponse:
    """503 with a Spanish detail and, always, a Retry-After saying when to come back."""
    # Whole seconds (RFC 9110), rounded up so a client never comes back too early.
    retry_after = str(max(1, math.ceil(exc.retry_after)))
    return JSONResponse(
        status_code=503,
        content={"detail": f"El servicio '{exc.service}' no está disponible ahora: {exc.reason}."},
        headers={"Retry-After": retry_after},
    )


DATABASE_UNAVAILABLE = "La base de datos no está disponible en este momento; reintentá."
DATABASE_RETRY_AFTER = "1"


def database_detail(context: AppContext, problem: DatabaseUnavailableError) -> str:
    """What a client (and /health) is told about the app's database, in Spanish."""
    if not problem.wrong_schema:
        return DATABASE_UNAVAILABLE
    url = context.settings.database_url(context.service)
    if make_url(url).get_backend_name() == "sqlite":
        # Its tables are created when the file is new, never changed: the file is older.
        return (
            "La base de datos no tiene el esquema esperado: su archivo es de otra versión del "
            "proyecto; movelo (o borralo) y el servicio crea uno nuevo al arrancar."
        )
    return (
        f"La base de datos no tiene el esquema esperado: corré {migrate_command(context.service)}."
    )


def why_database_unusable(exc: BaseException, url: str) -> str | None:
    """Why the database at `url` cannot be used, in Spanish, for whoever ran a command
    (`migrate`): `unavailable_database`'s verdict, with what to do for the usual causes.
    None if `exc` is not about the database being unusable, or is about tables that are not
    the expected ones (the database's own words say which better than a guess)."""
    problem = unavailable_database(exc)
    if problem is None or problem.wrong_schema:
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "").absolute()
        cause = exc if isinstance(exc, OSError | DBAPIError) else None
        return f"{path}: {why_not(path, cause)}" if cause else f"{path}: {problem.reason}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    state = _sqlstate(exc)
    if state == "3D000":
        name = parsed.database
        return (
            f"la base '{name}' no existe en el PostgreSQL de {where}: creala (createdb {name}, "
            f"o CREATE DATABASE {name}; en psql) o corregí su nombre en la URL"
        )
    if state.startswith("28"):
        return (
            f"el PostgreSQL de {where} no deja entrar al usuario '{parsed.username}': revisá "
            "el usuario y la contraseña de la URL"
        )
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return f"nadie contesta en {where}: ¿está corriendo PostgreSQL? ¿Es ése su puerto?"
    if isinstance(exc, socket.gaierror):
        return f"no se encuentra la máquina '{parsed.host}': revisá el host de la URL"
    if isinstance(exc, TimeoutError):
        return f"{where} no contestó a tiempo: ¿es la dirección de un PostgreSQL?"
    if state.startswith("57"):
        return f"el PostgreSQL de {where} está arrancando o apagándose: probá en unos segundos"
    if state.startswith("53"):
        return f"el PostgreSQL de {where} no acepta más conexiones ahora (sin recursos)"
    if state == "25006":
        return f"el PostgreSQL de {where} es de sólo lectura (¿una réplica?)"
    return f"el PostgreSQL de {where} no está disponible ({problem.reason})"


def _sqlstate(exc: BaseException) -> str:
    """PostgreSQL's error code (SQLSTATE) that `exc` carries, or ""."""
    if not isinstance(exc, DBAPIError):
        return ""
    cause = exc.orig.__cause__ or exc.orig  # asyncpg's own exception, as in database.py
    return getattr(exc.orig, "sqlstate", None) or getattr(cause, "sqlstate", None) or ""


async def _database_unavailable(request: Request, exc: DatabaseUnavailableError) -> JSONResponse:
    context = context_of(request.app)
    event = "database.schema_mismatch" if exc.wrong_schema else "database.unavailable"
    context.logger.error(event, reason=exc.reason)
    return JSONResponse(
        status_code=503,
        content={"detail": database_detail(context, exc)},
        headers={"Retry-After": DATABASE_RETRY_AFTER},
    )


async def _database_error(request: Request, exc: OperationalError) -> JSONResponse:
    """An OperationalError from a plain SQLite session (lab 6's `SessionDep`): the service's
    own sessions have already said it as a `DatabaseUnavailableError`."""
    return await _database_unavailable(
        request, unavailable_database(exc) or DatabaseUnavailableError(str(exc))
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ServiceUnavailableError, _service_unavailable)
    app.add_exception_handler(DatabaseUnavailableError, _database_unavailable)
    app.add_exception_handler(OperationalError, _database_error)
