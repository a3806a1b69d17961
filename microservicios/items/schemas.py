"""What the items API reads and writes."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from microservicios.common.fields import SKU_PATTERN, WHOLE_NUMBER, Name, Qty, Sku

MAX_STOCK = 1_000_000_000
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK), *WHOLE_NUMBER]
ReservationId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class ItemCreate(BaseModel):
    name: Name
    sku: str = Sku
    stock: Stock = 0


class ItemUpdate(BaseModel):
    """Partial update: only the fields sent are changed."""

    name: Name | None = None
    sku: str | None = Field(default=None, min_length=1, max_length=64, pattern=SKU_PATTERN)
    stock: Stock | None = None


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    sku: str
    stock: int


class ReserveRequest(BaseModel):
    reservation_id: str = ReservationId
    sku: str = Sku
    qty: Qty


class ReleaseRequest(BaseModel):
    reservation_id: str = ReservationId


class ReservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reservation_id: str = Field(validation_alias="id")
    item_id: int | None
    qty: int
    status: Literal["reserved", "released"]
