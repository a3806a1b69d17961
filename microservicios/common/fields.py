"""Field types shared by more than one service, so no service imports another's schemas."""

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_ID = 2**63 - 1  # SQLite's largest integer: beyond it the driver itself fails.
MAX_QTY = 1_000_000  # units in one order or one reservation
SKU_PATTERN = r"^[A-Za-z0-9._-]+$"

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Sku = Field(min_length=1, max_length=64, pattern=SKU_PATTERN)
