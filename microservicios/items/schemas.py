"""What the items API reads and writes."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from microservicios.common.fields import MAX_QTY, SKU_PATTERN, PlainText, Sku

MAX_STOCK = 1_000_000_000
ReservationId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class ItemCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: PlainText = Field(min_length=1, max_length=100)
    sku: str = Sku
    stock: int = Field(default=0, ge=0, le=MAX_STOCK, strict=True)


class ItemUpdate(BaseModel):
    """Partial update: only the fields sent are changed."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: PlainText | None = Field(default=None, min_length=1, max_length=100)
    sku: str | None = Field(default=None, min_length=1, max_length=64, pattern=SKU_PATTERN)
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK, strict=True)


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    sku: str
    stock: int


class ReserveRequest(BaseModel):
    reservation_id: str = ReservationId
    sku: str = Sku
    qty: int = Field(ge=1, le=MAX_QTY, strict=True)


class ReleaseRequest(BaseModel):
    reservation_id: str = ReservationId


class ReservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reservation_id: str = Field(validation_alias="id")
    item_id: int | None
    qty: int
    status: Literal["reserved", "released"]
