"""What "today" is: the calendar of Europe/Copenhagen, whatever the server's zone."""

from __future__ import annotations

import bisect
import calendar
from collections.abc import Iterable
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


def busiest_day(spans: Iterable[tuple[date, date | None]], first: date | None = None) -> tuple[int, date | None]:
    """The most of these spans on one day (each [start, end], both days included; no end: still
    running), counting only days from `first` on, and the first day with that many: (0, None) for none.

    A span ending on a day still counts that day, as a group's places and attendance count a course.
    """
    kept = [(start, end) for start, end in spans if first is None or end is None or end >= first]
    starts = sorted(start if first is None else max(start, first) for start, _ in kept)
    ends = sorted(end for _, end in kept if end is not None)
    # on a day: the spans started by then, less those ended before it; the count only rises on a start day
    most, busiest = 0, None
    for day in starts:
        count = bisect.bisect_right(starts, day) - bisect.bisect_left(ends, day)
        if count > most:
            most, busiest = count, day
    return most, busiest
