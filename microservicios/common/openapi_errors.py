"""The error answers every app documents in its OpenAPI: one Spanish shape for all of them.

`errors.py` builds these answers; this module describes them, so that `/docs` shows what
a client really gets. Routes list the errors they can give with `responses=`, e.g.
`responses={**not_found("No existe el usuario."), **UNAVAILABLE}`.
"""

from typing import Any

from pydantic import BaseModel, Field

from microservicios.common.headers import ETAG_HEADER, IF_MATCH_HEADER, RETRY_AFTER_HEADER

Responses = dict[int | str, dict[str, Any]]


class ErrorOut(BaseModel):
    """Every error answer: one sentence in Spanish that says what went wrong."""

    detail: str = Field(examples=["Usuario no encontrado."])


class FieldErrorOut(BaseModel):
    """One problem found in the request: which field, what is wrong, pydantic's error type."""

    campo: str = Field(examples=["email"])
    mensaje: str = Field(examples=["'email' es obligatorio"])
    tipo: str = Field(examples=["missing"])


class ValidationErrorOut(ErrorOut):
    """A 422: the summary in `detail` and each problem in `errors`."""

    errors: list[FieldErrorOut]


RETRY_AFTER = {
    RETRY_AFTER_HEADER: {
        "description": "Segundos que conviene esperar antes de reintentar.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
ETAG = {
    ETAG_HEADER: {
        "description": f"La versión de lo que viene en el cuerpo: mandala en `{IF_MATCH_HEADER}` "
        "para que tu cambio se haga sólo si nadie lo cambió desde entonces.",
        "schema": {"type": "string"},
    }
}


def error(status: int, description: str, *, retry_after: bool = False) -> Responses:
    """One entry of a route's `responses=`: an `ErrorOut` answer with this description."""
    entry: dict[str, Any] = {"model": ErrorOut, "description": description}
    if retry_after:
        entry["headers"] = RETRY_AFTER
    return {status: entry}


def not_found(description: str) -> Responses:
    return error(404, description)


def conflict(description: str, *, retry_after: bool = False) -> Responses:
    return error(409, description, retry_after=retry_after)


def with_etag(status: int = 200) -> Responses:
    """The success entry of a route that answers an `ETag` header (merged with its model)."""
    return {status: {"headers": ETAG}}


def precondition_failed(description: str) -> Responses:
    """The 412 entry of a route that honours If-Match."""
    return error(412, description)


def invalid(description: str) -> Responses:
    """The 422 entry: every 422 of this project is a `ValidationErrorOut`."""
    return {422: {"model": ValidationErrorOut, "description": description}}


INVALID = invalid(
    "Datos no válidos: el cuerpo no es JSON, o un campo o parámetro no cumple el esquema. "
    "`errors` dice qué campo y por qué."
)
UNAUTHORIZED = error(401, "Falta la cabecera X-Service-Token o no es válida (ruta interna).")
UNAVAILABLE = error(
    503,
    "Una dependencia (la base de datos u otro servicio) no está disponible ahora; "
    "reintentá más tarde. `Retry-After` dice cuántos segundos esperar.",
    retry_after=True,
)
