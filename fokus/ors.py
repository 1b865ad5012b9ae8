"""The ORS science of DESIGN §3 and §6: totals, reliable change, the chart's band and the flags.

Everything works on whole tenths (an item of 7,5 is 75, a total of 23,4 is 234), so that the
reliable-change test is exact; targets (RCI, cutoff) come in points, as the unit keeps them.

The flags of a course, each a plain documented rule (no "expected treatment response" curves):
- `over_weeks`: an active course has run more than the target's longest course (16 weeks):
  (today − start) / 7 > weeks_max.
- `near_max_months`: an active course is within 4 weeks of its six months:
  start + max_months calendar months − 28 days ≤ today ≤ start + max_months.
- `over_max_months`: an active course is past its six months: today > start + max_months.
- `no_recent_ors`: an active course has had no ORS for 4 weeks: its latest ORS (or its start,
  when it has none) is 28 days or more before today.
- `reliable_deterioration`: the latest ORS total is at least RCI below the first.
- `no_improvement`: after `NO_IMPROVEMENT_AFTER` ORS measurements (a course's sessions with a
  score), the latest total is still less than RCI above the first.
- `srs_low`: the latest SRS total is below 36 points.
- `srs_drop`: the latest SRS total is lower than the one before it.
The time flags are for active courses only; an ended course keeps its score flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Literal

from fokus.clock import add_months

ITEM_MAX = 100  # tenths: 10,0 on the 10 cm line
TOTAL_MAX = 400  # tenths: four items
NO_IMPROVEMENT_AFTER = 6  # ORS measurements before "no reliable improvement" is flagged
SRS_LOW_BELOW = 360  # tenths: an SRS total under 36 points is a flag (DESIGN §6)
NO_ORS_DAYS = 28
NEAR_MAX_DAYS = 28

FLAGS: tuple[str, ...] = (
    "over_weeks", "near_max_months", "over_max_months", "no_recent_ors",
    "reliable_deterioration", "no_improvement", "srs_low", "srs_drop",
)

Change = Literal["improved", "deteriorated", "unchanged"]


def total(items: Mapping[str, int]) -> int:
    """The total of the four items, in tenths (0–400)."""
    return sum(items.values())


def _tenths(points: float) -> int:
    return round(points * 10)


def reliable_change(first_tenths: int, last_tenths: int, rci_points: float) -> Change:
    """Improved or deteriorated when the change is at least the RCI (in points), else unchanged."""
    return change_class(last_tenths - first_tenths, _tenths(rci_points))


def change_class(change_tenths: int, rci_tenths: int) -> Change:
    """`reliable_change` on a change and an RCI already in whole tenths (the dashboard's grouped pairs)."""
    if change_tenths >= rci_tenths:
        return "improved"
    if change_tenths <= -rci_tenths:
        return "deteriorated"
    return "unchanged"


def band(first_tenths: int, rci_points: float) -> tuple[float, float]:
    """The reliable-change band around the first score, in points, inside the scale's 0–40."""
    first = first_tenths / 10
    return max(0.0, first - rci_points), min(TOTAL_MAX / 10, first + rci_points)


def weeks_elapsed(start: date, day: date) -> float:
    return (day - start).days / 7


def course_flags(
    *,
    start: date,
    end: date | None,
    today: date,
    ors_count: int,
    ors_first: int | None,
    ors_latest: int | None,
    last_ors: date | None,
    srs_latest: int | None,
    srs_previous: int | None,
    weeks_max: int,
    max_months: int,
    rci_points: float,
) -> tuple[str, ...]:
    """The flags of one course (codes of `FLAGS`, in that order); totals in tenths.

    First and latest are by (date, session number, entry order), as in DESIGN §3; `last_ors`
    is the latest ORS date and `srs_previous` the SRS total just before the latest one.
    """
    flags: set[str] = set()
    if end is None:
        if weeks_elapsed(start, today) > weeks_max:
            flags.add("over_weeks")
        limit = add_months(start, max_months)
        if today > limit:
            flags.add("over_max_months")
        elif today >= limit - timedelta(days=NEAR_MAX_DAYS):
            flags.add("near_max_months")
        if (today - (last_ors or start)).days >= NO_ORS_DAYS:
            flags.add("no_recent_ors")
    if ors_count >= 2 and ors_first is not None and ors_latest is not None:
        change = reliable_change(ors_first, ors_latest, rci_points)
        if change == "deteriorated":
            flags.add("reliable_deterioration")
        if ors_count >= NO_IMPROVEMENT_AFTER and change != "improved":
            flags.add("no_improvement")
    if srs_latest is not None:
        if srs_latest < SRS_LOW_BELOW:
            flags.add("srs_low")
        if srs_previous is not None and srs_latest < srs_previous:
            flags.add("srs_drop")
    return tuple(flag for flag in FLAGS if flag in flags)
