"""The dashboard's periods: rolling 12 months (the default), a year, a quarter, a month, or custom.

A period is [start, end], both days included (DESIGN §3). A year, quarter or month that is
still running ends today: figures "at the period's end" (active courses, the waiting list)
then mean today, never a day that has not come. The previous period to compare with is the
equal period just before (`fokus.metrics.previous_period`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from fokus import fmt
from fokus.clock import add_months
from fokus.errors import ValidationError

Kind = Literal["rolling12", "year", "quarter", "month", "custom"]


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str  # what the page says it shows, e.g. "4. kvartal 2026 (01.10.2026–25.11.2026)"


def rolling_12_months(today: date) -> Period:
    start = today - timedelta(days=364)
    return Period(start, today, f"Seneste 12 måneder ({fmt.period(start, today)})")


def _clipped(start: date, end: date, today: date, name: str) -> Period:
    if start > today:
        raise ValidationError(f"{name} er ikke begyndt endnu: vælg en periode, der er begyndt.", "period")
    end = min(end, today)
    return Period(start, end, f"{name} ({fmt.period(start, end)})")


def year(number: int, today: date) -> Period:
    return _clipped(date(number, 1, 1), date(number, 12, 31), today, f"År {number}")


def quarter(number: int, quarter_no: int, today: date) -> Period:
    if quarter_no not in (1, 2, 3, 4):
        raise ValidationError("Kvartalet skal være 1, 2, 3 eller 4.", "period")
    start = date(number, 3 * quarter_no - 2, 1)
    return _clipped(start, add_months(start, 3) - timedelta(days=1), today, f"{quarter_no}. kvartal {number}")


def month(number: int, month_no: int, today: date) -> Period:
    start = date(number, month_no, 1)
    name = f"{fmt.DANISH_MONTH_NAMES[month_no - 1].capitalize()} {number}"
    return _clipped(start, add_months(start, 1) - timedelta(days=1), today, name)


def custom(start: date | None, end: date | None, today: date) -> Period:
    if start is None or end is None:
        raise ValidationError("Vælg både første og sidste dag i perioden.", "period")
    if start > end:
        raise ValidationError(
            f"Perioden starter {fmt.day(start)}, efter at den slutter {fmt.day(end)}: byt om på datoerne.", "period")
    if end > today:
        raise ValidationError(f"Perioden kan højst gå til i dag ({fmt.day(today)}).", "period")
    return Period(start, end, f"Selvvalgt periode ({fmt.period(start, end)})")


def years(first: date, today: date) -> list[int]:
    """The years to choose from, newest first: from the year of the first data to this year."""
    return list(range(today.year, min(first, today).year - 1, -1))


def quarters(first: date, today: date) -> list[tuple[int, int]]:
    """(year, quarter) to choose from, newest first."""
    found = []
    current = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    while current >= date(first.year, 3 * ((first.month - 1) // 3) + 1, 1):
        found.append((current.year, (current.month - 1) // 3 + 1))
        current = add_months(current, -3)
    return found


def months(first: date, today: date) -> list[tuple[int, int]]:
    """(year, month) to choose from, newest first."""
    found = []
    current = today.replace(day=1)
    while current >= min(first, today).replace(day=1):
        found.append((current.year, current.month))
        current = add_months(current, -1)
    return found
