"""Field types shared by more than one service, so no service imports another's schemas.

Each type's JSON Schema (what /docs shows) says exactly which values the service accepts:
a value the schema allows is accepted, one it forbids gets a 422. The contract test
(tests/e2e/test_contract.py) checks that promise with schemathesis.
"""

import re
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

# The largest integer a JSON number carries exactly everywhere (JavaScript's
# Number.MAX_SAFE_INTEGER); below SQLite's own limit, 2**63 - 1, where its driver fails.
MAX_ID = 2**53 - 1
MAX_QTY = 1_000_000  # units in one order or one reservation
SKU_PATTERN = r"^[A-Za-z0-9._-]+$"
# Spelled out instead of \s, whose meaning differs between the regex engines of pydantic,
# of Python and of JSON Schema (ECMAScript).
BLANKS = " \t\n\r\f\v"
# Control characters (Unicode category Cc: C0, DEL, C1). A NUL cuts strings short in C
# tools, a line break splits log lines and CSV rows, ESC drives terminals: no name needs one.
CONTROLS = r"\x00-\x1f\x7f-\x9f"
# No control character anywhere, and at least one character that is not a blank (the
# blanks other than the space are control characters already).
NOT_BLANK = rf"^[^{CONTROLS}]*[^ {CONTROLS}][^{CONTROLS}]*$"
_CONTROL_CHARACTER = re.compile(f"[{CONTROLS}]")


def whole_float_to_int(value: Any) -> Any:
    """636.0 becomes 636: JSON Schema counts a number with no fraction as an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def strip_blanks(value: str) -> str:
    return value.strip(BLANKS)


# JSON integers: 5 and 5.0 are accepted; 5.5, true and "5" are not. The bounds go before the
# validator, or pydantic leaves them out of the JSON Schema of an optional field.
WHOLE_NUMBER = (Strict(), BeforeValidator(whole_float_to_int))
Qty = Annotated[int, Field(ge=1, le=MAX_QTY), *WHOLE_NUMBER]
UserId = Annotated[int, Field(ge=1, le=MAX_ID), *WHOLE_NUMBER]


def reject_control_characters(value: Any) -> Any:
    """A `control_character` error (translated in errors.py) for text that has one; it runs
    before the pattern, so the client is told the real reason."""
    if isinstance(value, str) and _CONTROL_CHARACTER.search(value):
        raise PydanticCustomError("control_character", "contains a control character")
    return value


# A name of 1 to 100 characters, no control characters, not all blank; stored without
# blanks around it.
Name = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=NOT_BLANK),
    BeforeValidator(reject_control_characters),
    AfterValidator(strip_blanks),
]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Sku = Field(min_length=1, max_length=64, pattern=SKU_PATTERN)
