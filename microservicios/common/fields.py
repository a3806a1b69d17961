"""Field types shared by more than one service, so no service imports another's schemas."""

import re
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1  # SQLite's largest integer: beyond it the driver itself fails.
MAX_QTY = 1_000_000  # units in one order or one reservation
SKU_PATTERN = r"^[A-Za-z0-9._-]+$"

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Sku = Field(min_length=1, max_length=64, pattern=SKU_PATTERN)

# Control characters (Unicode category Cc: C0, DEL, C1). A NUL cuts strings short in C
# tools, a line break splits log lines and CSV rows, ESC drives terminals: no name needs one.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def reject_control_characters(value: str) -> str:
    """`value` as it is, or a `control_character` validation error (translated in errors)."""
    if _CONTROL_CHARACTER.search(value):
        raise PydanticCustomError("control_character", "contains a control character")
    return value


# Free text a person writes (names): any character but a control one.
PlainText = Annotated[str, AfterValidator(reject_control_characters)]
