"""The CPR guard: no Danish civil registration number may be stored in fokus.

A CPR number is ddmmyy-nnnn, written with a dash, a space or nothing between the parts. We
refuse any ten digits whose first six form a real calendar date (day 01–31 valid for the
month, any two-digit year), unless they are part of a longer run of digits. We do not use the
modulus-11 check: numbers issued since 2007 need not satisfy it.

The dash may be any dash a keyboard or a word processor produces (Word turns "-" into "–"),
with or without spaces around it; text is NFKC-normalised first, so full-width digits count.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from fokus.errors import ValidationError

# Hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SEPARATOR = rf"(?:[^\S\r\n]*[{_DASHES}][^\S\r\n]*|\s)?"
_CPR_LIKE = re.compile(rf"(?<!\d)(\d{{2}})(\d{{2}})(\d{{2}}){_SEPARATOR}(\d{{4}})(?!\d)")


def _is_calendar_date(day: int, month: int, year2: int) -> bool:
    # 2000 is a leap year, so 29 February is accepted for every two-digit year: a CPR
    # number of someone born 29.02.1900 would otherwise slip through.
    try:
        date(2000 if month == 2 and day == 29 else 2000 + year2, month, day)
    except ValueError:
        return False
    return True


def looks_like_cpr(text: str) -> bool:
    """True when the text contains something written like a CPR number."""
    for match in _CPR_LIKE.finditer(unicodedata.normalize("NFKC", text)):
        day, month, year2 = (int(g) for g in match.groups()[:3])
        if _is_calendar_date(day, month, year2):
            return True
    return False


def refuse_cpr(text: str | None, field: str, label: str) -> None:
    """Raise a Danish validation error when a text field holds a CPR-like number."""
    if text and looks_like_cpr(text):
        raise ValidationError(
            f"{label} ligner et CPR-nummer. fokus må ikke gemme CPR-numre: "
            "brug sagsnummeret eller en lokal kode i stedet.",
            field=field,
        )
