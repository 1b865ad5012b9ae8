"""Small checks shared by the service functions; each raises a Danish ValidationError."""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime

from fokus.clock import today
from fokus.cpr import refuse_cpr
from fokus.errors import ValidationError


def text(value: object, field: str, label: str, *, max_length: int, required: bool = True) -> str | None:
    """A clean one-line text: trimmed, printable, not too long and no CPR number."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label} skal være tekst.", field)
    cleaned = value.strip()
    if not cleaned:
        if required:
            raise ValidationError(f"Udfyld {label.lower()}.", field)
        return None
    # Control and format characters (NUL, ESC, bidi overrides, zero-width), surrogates, private
    # and unassigned code points, and line or paragraph separators: none belongs in a one-line text.
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in cleaned):
        raise ValidationError(f"{label} indeholder usynlige tegn eller styretegn: skriv det igen.", field)
    if len(cleaned) > max_length:
        raise ValidationError(f"{label} må højst være {max_length} tegn (der er {len(cleaned)}).", field)
    refuse_cpr(cleaned, field, label)
    return cleaned


def required_text(value: object, field: str, label: str, *, max_length: int) -> str:
    cleaned = text(value, field, label, max_length=max_length, required=True)
    assert cleaned is not None
    return cleaned


def code(value: object, allowed: dict[str, str], field: str, label: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(allowed.values())
        raise ValidationError(f"Vælg {label.lower()}: {choices}.", field)
    return value


def a_date(value: object, field: str, label: str) -> date:
    # A datetime is a date too in Python, but comparing it with one raises TypeError.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(f"Angiv {label.lower()} som en dato (dd.mm.åååå).", field)
    if value.year < 1990:
        raise ValidationError(f"{label} ({value:%d.%m.%Y}) er for langt tilbage: ret årstallet.", field)
    return value


def past_date(value: object, field: str, label: str) -> date:
    """A date of something that has happened: not after today (Europe/Copenhagen)."""
    day = a_date(value, field, label)
    if day > today():
        raise ValidationError(
            f"{label} ({day:%d.%m.%Y}) ligger i fremtiden: det kan først registreres, når det er sket.",
            field,
        )
    return day


def planned_date(value: object, field: str, label: str) -> date:
    """A date that may lie ahead, but not absurdly far."""
    day = a_date(value, field, label)
    if day.year > today().year + 5:
        raise ValidationError(f"{label} ({day:%d.%m.%Y}) ligger for langt ude i fremtiden.", field)
    return day


def integer(value: object, field: str, label: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{label} skal være et helt tal fra {low} til {high}.", field)
    if isinstance(value, float) and (math.isnan(value) or not value.is_integer()):
        raise ValidationError(f"{label} skal være et helt tal fra {low} til {high}.", field)
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(f"{label} skal være et helt tal fra {low} til {high} (ikke {number}).", field)
    return number


def boolean(value: object, field: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"Angiv ja eller nej for {label.lower()}.", field)
    return value
