"""Names that only look filled: Unicode blanks and invisible characters (`fields.Name`)."""

import re
import sys
import unicodedata

import pytest
from pydantic import BaseModel, ValidationError

from microservicios.common.fields import Name


class Named(BaseModel):
    name: Name


PATTERN = Named.model_json_schema()["properties"]["name"]["pattern"]

# Only spaces, of the kinds str.strip() knows: an ideographic space, a no-break space...
BLANK = ["\u3000", "\u00a0", "\u2003\u202f", " \u3000 ", "\u1680", "\u205f\u2009"]
# Characters that show nothing at all, alone or next to a letter.
INVISIBLE = [
    "\u200b",  # zero width space
    "\u200b\u200b",
    "\ufeffA",  # byte order mark, then one letter
    "Ana\u200d",  # zero width joiner
    "\u2060Ana",  # word joiner
    "A\u00adna",  # soft hyphen
    "Ana\u202e",  # right-to-left override: reverses what follows on screen
    "\U000e0041\U000e006e\U000e0061",  # tag characters
    "\u3164",  # Hangul filler: a letter for Unicode, shows as nothing
    "\uffa0",
    "\u2800",  # braille pattern blank
    "Ana\u2028Pérez",  # line separator
]
REAL = ["José Núñez", "Zoë", "李小龙", "Ана", "محمد", "O'Brien", "Jose\u0301", "Ana 🙂"]


def error_types(name: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Named(name=name)
    return [error["type"] for error in caught.value.errors()]


@pytest.mark.parametrize("name", BLANK, ids=ascii)
def test_a_name_of_unicode_spaces_is_blank(name):
    """A name made only of Unicode spaces (not just ASCII ones) is refused as blank."""
    assert error_types(name) == ["string_pattern_mismatch"]


@pytest.mark.parametrize("name", INVISIBLE, ids=ascii)
def test_a_name_with_an_invisible_character_is_refused(name):
    """Zero-width, format and filler characters are refused anywhere in a name."""
    assert error_types(name) == ["invisible_character"]


@pytest.mark.parametrize("name", REAL, ids=ascii)
def test_real_names_are_kept_as_written(name):
    """Accents, other scripts, combining accents and emoji are names like any other."""
    assert Named(name=name).name == name


def test_unicode_spaces_around_a_name_are_stripped():
    """The spaces str.strip() knows are taken off both ends, as ASCII spaces were."""
    assert Named(name="\u3000 José Núñez\u00a0\u2003").name == "José Núñez"


def test_every_format_character_is_refused():
    """Every character of Unicode category Cf (in this Python's tables) is refused."""
    format_characters = [
        chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"
    ]
    assert len(format_characters) > 100
    accepted = [ascii(c) for c in format_characters if _accepted(f"Ana{c}Pérez")]
    assert accepted == []


@pytest.mark.parametrize("name", BLANK + INVISIBLE + REAL + ["Ana\x00", " "], ids=ascii)
def test_the_schema_pattern_says_what_is_accepted(name):
    """/docs' pattern for a name matches exactly the names the service accepts."""
    assert bool(re.search(PATTERN, name)) == _accepted(name)


def _accepted(name: str) -> bool:
    try:
        Named(name=name)
    except ValidationError:
        return False
    return True
