"""What the users API reads and writes (separate from the table model)."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from microservicios.common.fields import Name

# The pattern browsers use for <input type="email"> (WHATWG HTML): schema and server agree
# on it exactly, which a library's own rules (reserved domains, say) cannot promise.
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
# Addresses are compared case-insensitively, so "Ana@X.com" and "ana@x.com" collide.
Email = Annotated[
    str,
    Field(max_length=254, pattern=EMAIL_PATTERN, examples=["ana@example.com"]),
    AfterValidator(str.lower),
]


class UserCreate(BaseModel):
    name: Name
    email: Email


class UserUpdate(BaseModel):
    """Partial update: only the fields sent are changed."""

    name: Name | None = None
    email: Email | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
