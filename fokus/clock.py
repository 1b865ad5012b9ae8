"""What "today" is: the calendar of Europe/Copenhagen, whatever the server's zone."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def today() -> date:
    return datetime.now(COPENHAGEN).date()


def now_utc() -> datetime:
    return datetime.now(UTC)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, clipped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))
