"""Spanish validation messages and the service-token check."""

import pytest
from pydantic import BaseModel, Field, ValidationError

from microservicios.common.auth import SERVICE_TOKEN_HEADER, add_service_auth, token_is_valid
from microservicios.common.validation import spanish_validation_errors


def test_missing_field_is_translated():
    """A missing body field reads "'email' es obligatorio", keeping its type."""
    errors = [{"type": "missing", "loc": ("body", "email"), "msg": "Field required"}]
    assert spanish_validation_errors(errors) == [
        {"campo": "email", "mensaje": "'email' es obligatorio", "tipo": "missing"}
    ]


def test_message_uses_the_error_context():
    """Limits from the error context appear in the Spanish text."""
    errors = [
        {
            "type": "string_too_long",
            "loc": ("body", "name"),
            "msg": "String should have at most 100 characters",
            "ctx": {"max_length": 100},
        },
        {
            "type": "greater_than_equal",
            "loc": ("query", "offset"),
            "msg": "Input should be greater than or equal to 0",
            "ctx": {"ge": 0},
        },
    ]
    messages = [error["mensaje"] for error in spanish_validation_errors(errors)]
    assert messages == [
        "'name' es demasiado largo (máximo 100 caracteres)",
        "'offset' debe ser mayor o igual que 0",
    ]


def test_nested_location_is_dotted_and_empty_location_is_the_body():
    """A nested field is named "a.0.b"; an error on the whole body is named "cuerpo"."""
    errors = [
        {"type": "int_parsing", "loc": ("body", "lines", 0, "qty"), "msg": "x"},
        {"type": "json_invalid", "loc": ("body",), "msg": "x"},
    ]
    fields = [error["campo"] for error in spanish_validation_errors(errors)]
    assert fields == ["lines.0.qty", "cuerpo"]


def test_json_error_names_the_body_not_a_character_offset():
    """FastAPI locates a JSON syntax error at ("body", offset); the answer names the body."""
    errors = [{"type": "json_invalid", "loc": ("body", 7), "msg": "JSON decode error"}]
    assert spanish_validation_errors(errors) == [
        {"campo": "cuerpo", "mensaje": "el cuerpo no es JSON válido", "tipo": "json_invalid"}
    ]


def test_unknown_type_falls_back_to_pydantic_message():
    """An error type without a translation keeps pydantic's own message."""
    errors = [{"type": "something_new", "loc": ("body", "x"), "msg": "Original text"}]
    assert spanish_validation_errors(errors)[0]["mensaje"] == "'x' Original text"


def test_template_without_its_context_does_not_raise():
    """A translation whose placeholder is missing from ctx falls back instead of failing."""
    errors = [{"type": "string_too_short", "loc": ("body", "name"), "msg": "Too short"}]
    assert spanish_validation_errors(errors)[0]["mensaje"] == "'name' Too short"


def test_real_pydantic_errors_are_translated():
    """Errors straight from a pydantic model come out in Spanish, one per problem."""

    class Model(BaseModel):
        name: str = Field(min_length=1)
        qty: int = Field(ge=1)

    with pytest.raises(ValidationError) as caught:
        Model.model_validate({"name": "", "qty": "tres"})
    translated = spanish_validation_errors(caught.value.errors())
    assert {error["campo"]: error["mensaje"] for error in translated} == {
        "name": "'name' es demasiado corto (mínimo 1 carácter)",
        "qty": "'qty' debe ser un número entero",
    }


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("dev-secret", True),
        (None, False),
        ("", False),
        ("dev", False),
        ("dev-secret ", False),
        ("DEV-SECRET", False),
        ("dev-secretñ", False),
    ],
)
def test_token_is_valid_only_for_the_exact_secret(token, expected):
    """Only the exact secret is accepted; None, prefixes and variants are not."""
    assert token_is_valid(token, "dev-secret") is expected


def test_add_service_auth_signs_a_copy():
    """The token is added to a copy; the caller's headers are left untouched."""
    original = {"Accept": "application/json", SERVICE_TOKEN_HEADER: "forged"}
    signed = add_service_auth(original, "s3cret")
    assert signed == {"Accept": "application/json", SERVICE_TOKEN_HEADER: "s3cret"}
    assert original[SERVICE_TOKEN_HEADER] == "forged"
