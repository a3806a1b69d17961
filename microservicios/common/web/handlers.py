"""Error answers in Spanish, translated once at the boundary of every app: the exception
handlers `build_app` installs."""

import math
from collections.abc import Awaitable, Callable
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from microservicios.common.context import context_of
from microservicios.common.errors import ServiceUnavailableError
from microservicios.common.headers import ALLOW_HEADER, RETRY_AFTER_HEADER
from microservicios.common.validation import spanish_validation_errors
from microservicios.database.advice import DATABASE_RETRY_AFTER, database_detail
from microservicios.database.sessions import DatabaseUnavailableError, unavailable_database
from microservicios.telemetry.events import DATABASE_SCHEMA_MISMATCH, DATABASE_UNAVAILABLE

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


def validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    """The 422 every app answers for a request it cannot use (`ValidationErrorOut`)."""
    summary = "; ".join(error["mensaje"] for error in errors)
    return JSONResponse(
        status_code=422, content={"detail": f"Datos no válidos: {summary}.", "errors": errors}
    )


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return validation_response(spanish_validation_errors(exc.errors()))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail, headers = exc.detail, dict(exc.headers or {})
    if exc.status_code == 400 and detail == UNPARSEABLE_BODY:
        return validation_response(spanish_validation_errors([{"type": "json_invalid"}]))
    if isinstance(detail, str) and exc.status_code in DEFAULT_DETAILS:
        # Starlette's defaults ("Not Found") are English; our own details are already Spanish.
        if detail in ("Not Found", "Method Not Allowed"):
            detail = DEFAULT_DETAILS[exc.status_code]
    if exc.status_code == 405:
        headers[ALLOW_HEADER] = ", ".join(allowed_methods(request))
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
        headers={RETRY_AFTER_HEADER: retry_after},
    )


async def _database_unavailable(request: Request, exc: DatabaseUnavailableError) -> JSONResponse:
    context = context_of(request.app)
    event = DATABASE_SCHEMA_MISMATCH if exc.wrong_schema else DATABASE_UNAVAILABLE
    context.logger.error(event, reason=exc.reason)
    return JSONResponse(
        status_code=503,
        content={"detail": database_detail(context.service, context.database_url, exc)},
        headers={RETRY_AFTER_HEADER: DATABASE_RETRY_AFTER},
    )


async def _database_error(request: Request, exc: OperationalError) -> JSONResponse:
    """An OperationalError from a plain SQLite session (lab 6's `SessionDep`): the service's
    own sessions have already said it as a `DatabaseUnavailableError`."""
    return await _database_unavailable(
        request, unavailable_database(exc) or DatabaseUnavailableError(str(exc))
    )


# Each handler receives its own exception class (Starlette types them all as `Exception`).
ERROR_HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[JSONResponse]]] = {
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
    ServiceUnavailableError: _service_unavailable,
    DatabaseUnavailableError: _database_unavailable,
    OperationalError: _database_error,
}


def install_error_handlers(app: FastAPI) -> None:
    for exception_class, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(exception_class, handler)
