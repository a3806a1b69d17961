"""What the orders API reads and writes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from microservicios.common.pagination import MAX_ID
from microservicios.items.schemas import MAX_QTY, Sku


class OrderCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    user_id: int = Field(ge=1, le=MAX_ID)
    item_sku: str = Sku
    qty: int = Field(ge=1, le=MAX_QTY)


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    item_sku: str
    qty: int
    status: str
    created_at: datetime
