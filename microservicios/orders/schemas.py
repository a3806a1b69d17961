"""What the orders API reads and writes."""

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, field_validator

from microservicios.common.fields import Qty, Sku, UserId


class OrderCreate(BaseModel):
    user_id: UserId
    item_sku: str = Sku
    qty: Qty


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    item_sku: str
    qty: int
    status: str
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        # SQLite keeps no time zone: the stored value is UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)
