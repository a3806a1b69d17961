"""Pydantic's validation errors, in Spanish: one message per field, for every 422 of every
app (and for faults refused by the cluster)."""

from types import MappingProxyType
from typing import Any

from fastapi.exceptions import RequestValidationError

from microservicios.common.fields import NOT_BLANK

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
        template = PATTERN_MESSAGES.get(str(context.get("pattern"))) or VALIDATION_MESSAGES.get(
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


def body_not_sent_as_json(error: dict[str, Any]) -> bool:
    """True for the error of a body FastAPI did not read as JSON (its Content-Type is not
    JSON, or missing): the model was handed the raw bytes."""
    return tuple(error.get("loc", ())) == ("body",) and isinstance(error.get("input"), bytes)


def invalid_request(location: tuple[str, str], message: str, kind: str) -> RequestValidationError:
    """A 422 found by our own code, in pydantic's shape, so it reads like any other 422.

    `location` is where the culprit is, e.g. ("body", "reservation_id"); `message` follows the
    field's name ("ya se usó con otro SKU"); `kind` becomes the error's `tipo`.
    """
    return RequestValidationError([{"type": kind, "loc": location, "msg": message}])
