"""What the users API reads and writes (separate from the table model)."""

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from microservicios.common.fields import PlainText

Name = Field(min_length=1, max_length=100)


def _normalize_email(email: str | None) -> str | None:
    # Addresses are compared case-insensitively, so "Ana@X.com" and "ana@x.com" collide.
    return email.lower() if email is not None else None


class UserCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: PlainText = Name
    email: EmailStr

    _email = field_validator("email")(_normalize_email)


class UserUpdate(BaseModel):
    """Partial update: only the fields sent are changed."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: PlainText | None = Field(default=None, min_length=1, max_length=100)
    email: EmailStr | None = None

    _email = field_validator("email")(_normalize_email)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
