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
from sqlalchemy import BigInteger, Integer

# The largest integer a JSON number carries exactly everywhere (JavaScript's
# Number.MAX_SAFE_INTEGER); below SQLite's own limit, 2**63 - 1, where its driver fails.
MAX_ID = 2**53 - 1
# The column type of every id, and of every column that holds one: 64 bits, so that each id
# the API accepts is one the column holds (PostgreSQL's INTEGER stops at 2**31 - 1, and
# asyncpg refused a bigger id with a 500). On SQLite an INTEGER is 64-bit already, and only
# an INTEGER primary key (not a BIGINT one) is the rowid that numbers new rows by itself.
ID_COLUMN = BigInteger().with_variant(Integer, "sqlite")
MAX_QTY = 1_000_000  # units in one order or one reservation
SKU_PATTERN = r"^[A-Za-z0-9._-]+$"
# Unicode's spaces (category Zs: the no-break space, the ideographic space of CJK text...),
# spelled out instead of \s, whose meaning differs between the regex engines of pydantic, of
# Python and of JSON Schema. They are exactly what str.strip() takes off once the control
# characters and the line separators are refused.
BLANKS = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# Control characters (Unicode category Cc: C0, DEL, C1). A NUL cuts strings short in C
# tools, a line break splits log lines and CSV rows, ESC drives terminals: no name needs one.
CONTROLS = r"\x00-\x1f\x7f-\x9f"
# Characters that show nothing: every format character (category Cf as of Unicode 15: zero-width
# space and joiners, the byte order mark, bidirectional overrides, tags), the line and
# paragraph separators, and the Hangul and braille fillers that are letters for Unicode but
# blank on screen. With one of them, "Ana" and "Ana" + U+200B are two different names that
# look the same, and U+200B alone looks empty. Refusing the joiners also refuses emoji built
# with one (a family), which no name needs; plain emoji are fine. The astral ones use
# Python's and Rust's \U escapes (ECMAScript would write \u{E0001}).
INVISIBLES = (
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    r"\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0001\U000e0020-\U000e007f"
    r"\u2028\u2029\u115f\u1160\u3164\uffa0\u2800"
)
# No control or invisible character anywhere, and at least one character that is not a
# space (the blanks other than these spaces are control characters already).
_SHOWN = f"[^{CONTROLS}{INVISIBLES}]"
NOT_BLANK = f"^{_SHOWN}*[^{BLANKS}{CONTROLS}{INVISIBLES}]{_SHOWN}*$"
_CONTROL_CHARACTER = re.compile(f"[{CONTROLS}]")
_INVISIBLE_CHARACTER = re.compile(f"[{INVISIBLES}]")
_BLANKS = re.compile(f"^[{BLANKS}]+|[{BLANKS}]+$")


def whole_float_to_int(value: Any) -> Any:
    """636.0 becomes 636: JSON Schema counts a number with no fraction as an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def strip_blanks(value: str) -> str:
    return _BLANKS.sub("", value)


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


def reject_invisible_characters(value: Any) -> Any:
    """An `invisible_character` error for text with one, naming it (U+200B); it runs before
    the pattern, so a name of zero-width spaces is not called blank."""
    if isinstance(value, str) and (found := _INVISIBLE_CHARACTER.search(value)):
        code_point = f"U+{ord(found[0]):04X}"
        raise PydanticCustomError(
            "invisible_character",
            "contains an invisible character ({code_point})",
            {"code_point": code_point},
        )
    return value


# A name of 1 to 100 characters, no control or invisible characters, not all spaces;
# stored without the spaces around it.
Name = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=NOT_BLANK),
    BeforeValidator(reject_invisible_characters),
    BeforeValidator(reject_control_characters),
    AfterValidator(strip_blanks),
]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Sku = Field(min_length=1, max_length=64, pattern=SKU_PATTERN)
