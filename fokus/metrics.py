"""The metric definitions of DESIGN §3: one implementation for every view and for `fokus kpi`.

Every figure is for the units the actor may see, intersected with the units asked for, never
wider. Counts are aggregated in SQL; only the few per-course rows that medians and the ORS
pairs need (courses started or ended in the period) come back to Python. Nothing is rounded
here: rounding is for display, in `fokus.fmt`.

Rules decided here, beyond the letter of §3:
- RCI and clinical cutoff: each ORS pair is judged by the targets of *its own course's unit*
  in force on the period's last day (the latest `valid_from` on or before it; the defaults 5 and
  25 points when a unit has none). Units with different targets therefore never borrow each
  other's, and one unit alone gives exactly its own figures.
- `share_12_16_weeks` and `over_6_months` use the fixed 12–16 weeks and 6 months their names
  promise; the unit's dated targets (`targets_for`) are what the figures are shown against.
- `capacity` counts staff whose `active` flag is set: staff carry no dated history, so "active
  on the period's last day" is read as "active now".
- The previous equal period of [start, end] is `previous_period(start, end)`: as many days,
  ending the day before `start`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import chain
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, func, select

from fokus import codes, db, fmt, ors, summaries
from fokus.actor import SYSTEM, Actor
from fokus.clock import add_months
from fokus.errors import NotFoundError, ValidationError
from fokus.models import (
    Attendance,
    Course,
    Group,
    GroupSession,
    NetworkMeeting,
    Referral,
    Staff,
    Target,
    Unit,
)

# The keys of `compute_kpis`, in the order of DESIGN §3 (a contract with `fokus kpi --json`).
KPI_KEYS: tuple[str, ...] = (
    "referrals", "by_referrer", "by_target_group", "from_sel85",
    "courses_started", "courses_ended", "active_at_end", "waiting_at_end", "capacity", "intake_12m",
    "group_share", "median_wait_days", "median_weeks", "share_12_16_weeks", "over_6_months",
    "ors_pairs", "ors_progress_pct", "reliable_improvement_share", "reliable_deterioration_share",
    "clinically_significant_share", "effect_size",
    "next_step_share", "further_measure_share", "network_meetings", "courses_with_network_meeting",
)

INTAKE_WINDOW_DAYS = 365
WEEKS_BAND = (12, 16)
MAX_MONTHS = 6

Scope = frozenset[int] | None  # the units to count; None is every unit


# ---------------------------------------------------------------------------------------
# Targets

@dataclass(frozen=True)
class Targets:
    """The targets a figure is shown against.

    For several units the intake band is the sum of theirs (intake adds up over units) and the
    jobcenter quota the sum of those units that have one; a target that does not add up is the
    units' common value, or None where they differ (each figure is judged per unit, see above).
    """

    intake_min: int
    intake_max: int
    group_share: float | None
    weeks_min: int | None
    weeks_max: int | None
    max_months: int | None
    ors_cutoff: float | None
    rci: float | None
    jobcenter_quota: int | None


DEFAULT_TARGETS = Targets(
    intake_min=150, intake_max=200, group_share=0.70, weeks_min=12, weeks_max=16, max_months=6,
    ors_cutoff=25.0, rci=5.0, jobcenter_quota=120,
)


def _from_row(row: Target) -> Targets:
    return Targets(
        intake_min=row.intake_min, intake_max=row.intake_max, group_share=row.group_share,
        weeks_min=row.weeks_min, weeks_max=row.weeks_max, max_months=row.max_months,
        ors_cutoff=row.ors_cutoff, rci=row.rci, jobcenter_quota=row.jobcenter_quota,
    )


def targets_by_unit(session: Session, scope: Scope, day: date) -> dict[int, Targets]:
    """Each unit's targets in force on `day` (the latest valid_from on or before it), in one query."""
    unit_ids = session.exec(select(Unit.id).where(_within(col(Unit.id), scope))).all()
    found: dict[int, Targets] = dict.fromkeys((uid for uid in unit_ids if uid is not None), DEFAULT_TARGETS)
    rows = session.exec(
        select(Target)
        .where(Target.valid_from <= day, _within(col(Target.unit_id), scope))
        .order_by(col(Target.unit_id), col(Target.valid_from))
    ).all()
    for row in rows:  # ordered by valid_from, so the latest one stays
        found[row.unit_id] = _from_row(row)
    return found


def _common(values: list[Any]) -> Any:
    return values[0] if values and all(value == values[0] for value in values) else None


def targets_for(session: Session, unit_ids: Collection[int] | None, day: date) -> Targets:
    """The targets in force on `day` for these units (None: every unit), combined for display."""
    per_unit = list(targets_by_unit(session, _scope_of(None, unit_ids), day).values())
    if not per_unit:
        return DEFAULT_TARGETS
    if len(per_unit) == 1:
        return per_unit[0]
    quotas = [t.jobcenter_quota for t in per_unit if t.jobcenter_quota is not None]
    return Targets(
        intake_min=sum(t.intake_min for t in per_unit),
        intake_max=sum(t.intake_max for t in per_unit),
        group_share=_common([t.group_share for t in per_unit]),
        weeks_min=_common([t.weeks_min for t in per_unit]),
        weeks_max=_common([t.weeks_max for t in per_unit]),
        max_months=_common([t.max_months for t in per_unit]),
        ors_cutoff=_common([t.ors_cutoff for t in per_unit]),
        rci=_common([t.rci for t in per_unit]),
        jobcenter_quota=sum(quotas) if quotas else None,
    )


# ---------------------------------------------------------------------------------------
# Scope and small helpers

def _scope_of(actor: Actor | None, unit_ids: Collection[int] | None) -> Scope:
    """The actor's units intersected with those asked for."""
    seen = actor.unit_ids if actor is not None else None
    if unit_ids is None:
        return seen
    wanted = frozenset(unit_ids)
    return wanted if seen is None else wanted & seen


def visible_unit_ids(actor: Actor, unit_ids: Collection[int] | None = None) -> Scope:
    """The units these figures are for: the actor's, narrowed to `unit_ids` (None: every unit)."""
    return _scope_of(actor, unit_ids)


def _within(column: Any, scope: Scope) -> sa.ColumnElement[bool]:
    return sa.true() if scope is None else column.in_(sorted(scope))


def _between(column: Any, start: date, end: date) -> sa.ColumnElement[bool]:
    return sa.and_(column >= start, column <= end)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _median(counts: dict[int, int]) -> float | None:
    """The median of values given as value → how many times (as statistics.median of the list)."""
    n = sum(counts.values())
    if not n:
        return None
    low_rank, high_rank = (n - 1) // 2, n // 2  # positions of the middle value(s), from 0
    low: int | None = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]  # positions [seen - count, seen) hold this value
        if low is None and seen > low_rank:
            low = value
        if seen > high_rank:
            assert low is not None
            return (low + value) / 2
    raise AssertionError("unreachable: the counts add up to n")


class MonthOf(FunctionElement[str]):
    """A date's month as "YYYY-MM" text, cheaply: SQLite keeps dates as ISO text, so the first
    seven characters (STRFTIME costs twice the whole grouped query); TO_CHAR elsewhere."""

    type = sa.String()
    inherit_cache = True


@compiles(MonthOf, "sqlite")
def _month_of_on_sqlite(element: MonthOf, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(MonthOf)
def _month_of(element: MonthOf, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


def _count(session: Session, table: Any, *where: sa.ColumnElement[bool]) -> int:
    return int(session.exec(select(func.count()).select_from(table).where(*where)).one())


def _last_start_over(day: date, months: int) -> date:
    """The latest start whose start + `months` calendar months lies before `day`.

    `add_months` never decreases as the start grows, so every earlier start is over too.
    Five days past the naive answer is always too late, whatever the clipping.
    """
    candidate = add_months(day, -months) + timedelta(days=5)
    while add_months(candidate, months) >= day:
        candidate -= timedelta(days=1)
    return candidate


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters; an empty set means every value.

    Referrer and target group belong to the referral, so they narrow referrals and the courses
    started from them alike. Form and contact person belong to a course: they narrow the course
    figures, and the contact person also the capacity (that person's own maximum); referral
    figures (received, waiting) follow referrer and target group only, since a waiting
    referral has neither a form nor a contact person yet.
    """

    referrers: frozenset[str] = frozenset()
    target_groups: frozenset[str] = frozenset()
    forms: frozenset[str] = frozenset()
    staff_ids: frozenset[int] = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.referrers or self.target_groups or self.forms or self.staff_ids)

    @property
    def reads_contacts(self) -> bool:
        """Whether what they select depends on who a course's contact person is."""
        return bool(self.staff_ids)


NO_FILTERS = Filters()


@dataclass(frozen=True)
class Selection:
    """What to count: the units in scope and the filters, as SQL conditions per table."""

    scope: Scope
    filters: Filters = NO_FILTERS

    def referrals(self) -> sa.ColumnElement[bool]:
        f = self.filters
        return sa.and_(
            _within(col(Referral.unit_id), self.scope),
            col(Referral.referrer).in_(sorted(f.referrers)) if f.referrers else sa.true(),
            col(Referral.target_group).in_(sorted(f.target_groups)) if f.target_groups else sa.true(),
        )

    @property
    def reads_contacts(self) -> bool:
        return self.filters.reads_contacts

    @property
    def narrows_courses(self) -> bool:
        return self.scope is not None or self.filters.active

    def courses(self) -> sa.ColumnElement[bool]:
        f = self.filters
        from_referral = (
            col(Course.referral_id).in_(select(Referral.id).where(self.referrals()))
            if f.referrers or f.target_groups else sa.true()
        )
        return sa.and_(
            _within(col(Course.unit_id), self.scope),
            col(Course.form).in_(sorted(f.forms)) if f.forms else sa.true(),
            col(Course.contact_person_id).in_(sorted(f.staff_ids)) if f.staff_ids else sa.true(),
            from_referral,
        )

    def staff(self) -> sa.ColumnElement[bool]:
        f = self.filters
        return sa.and_(
            _within(col(Staff.unit_id), self.scope),
            col(Staff.id).in_(sorted(f.staff_ids)) if f.staff_ids else sa.true(),
        )


def _check_period(start: date, end: date) -> None:
    if start > end:
        raise ValidationError(
            f"Perioden starter {fmt.day(start)}, efter at den slutter {fmt.day(end)}: byt om på datoerne.", "start"
        )


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The equal period just before [start, end]: as many days, ending the day before start."""
    length = end - start + timedelta(days=1)
    return start - length, start - timedelta(days=1)


# ---------------------------------------------------------------------------------------
# Readings in pieces kept across saves
#
# The readings of a period below are sums over its days, so each is read as pieces of the
# period, a piece kept across transactions on the key of its last day (`db.settled`): a save
# reaches back only to its earliest day (`DataChange.since`; a score: its course's start), and
# the pieces before that day are not read again. Readings that do not read ORS scores are also
# kept through saves of scores alone. The pieces are the period's last 8 months one by one (a
# save on an open course reaches back to its start, at most 6 months and a little ago), then
# the rest of its last year, then whole years: a save reaching back k months reads about k
# months again.

PIECE_CUTS = (0, 1, 2, 3, 4, 5, 6, 7, 12)  # months before the first of the end's month
T = TypeVar("T")


def pieces(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] cut at the first of the months `PIECE_CUTS` before `end`'s month and at every
    1 January before the last of those: (first day, last day) of each piece, in order."""
    month = end.replace(day=1)
    recent = [add_months(month, -k) for k in PIECE_CUTS]
    years = [date(year, 1, 1) for year in range(start.year + 1, recent[-1].year + 1) if date(year, 1, 1) < recent[-1]]
    cuts = sorted(day for day in {*recent, *years} if start < day <= end)
    bounds = [start, *cuts, end + timedelta(days=1)]
    return [(bounds[k], bounds[k + 1] - timedelta(days=1)) for k in range(len(bounds) - 1)]


def _in_pieces(session: Session, name: str, sel: Selection, start: date, end: date,
               read: Callable[[date, date], T], *, scores: bool, extra: Hashable = None) -> list[T]:
    """`read(first, last)` for each of `pieces(start, end)`, each kept on its last day's key;
    `scores`: whether the reading reads ORS scores; `extra`: anything else it depends on. Only a
    selection narrowed to contact people reads who they are (`Selection.courses`)."""
    return [
        db.settled(session, (name, sel, first, last, extra), lambda first=first, last=last: read(first, last),
                   until=last, scores=scores, contacts=sel.reads_contacts)
        for first, last in pieces(start, end)
    ]


def _summed(parts: Iterable[Iterable[tuple[Any, ...]]], width: int) -> tuple[tuple[Any, ...], ...]:
    """Rows of `parts` with the same first `width` values merged, their other values summed."""
    merged: dict[tuple[Any, ...], list[int]] = {}
    for row in chain.from_iterable(parts):
        sums = merged.get(row[:width])
        if sums is None:
            merged[row[:width]] = list(row[width:])
        else:
            for k, value in enumerate(row[width:]):
                sums[k] += value
    return tuple((*key, *sums) for key, sums in merged.items())


# ---------------------------------------------------------------------------------------
# The figures, one group at a time

ReferralRow = tuple[int, int, str, str, int, int]


def _referral_rows(session: Session, sel: Selection, start: date, end: date) -> tuple[ReferralRow, ...]:
    """Referrals received in the period as (year, month, referrer, target group, how many, of
    them from §85); read once per transaction for the figures and the monthly series alike."""
    def read(first: date, last: date) -> tuple[ReferralRow, ...]:
        month = MonthOf(col(Referral.received))
        return tuple(
            (int(ym[:4]), int(ym[5:7]), referrer, target_group, int(count), int(sel85 or 0))
            for ym, referrer, target_group, count, sel85 in session.exec(
                select(month, Referral.referrer, Referral.target_group, func.count(),
                       func.sum(sa.case((col(Referral.from_sel85), 1), else_=0)))
                .where(_between(col(Referral.received), first, last), sel.referrals())
                .group_by(month, col(Referral.referrer), col(Referral.target_group))
            ).all()
        )
    # Pieces never split a month, so each month's rows come from one piece.
    return db.remembered(session, ("referrals", sel, start, end), lambda: tuple(chain.from_iterable(
        _in_pieces(session, "referrals", sel, start, end, read, scores=False))))


def _referral_figures(session: Session, sel: Selection, start: date, end: date) -> dict[str, Any]:
    by_referrer = dict.fromkeys(codes.REFERRERS, 0)
    by_target_group = dict.fromkeys(codes.TARGET_GROUPS, 0)
    from_sel85 = 0
    for _, _, referrer, target_group, count, sel85 in _referral_rows(session, sel, start, end):
        by_referrer[referrer] += count
        by_target_group[target_group] += count
        from_sel85 += sel85
    return {
        "referrals": sum(by_referrer.values()),
        "by_referrer": by_referrer,
        "by_target_group": by_target_group,
        "from_sel85": from_sel85,
    }


def _capacity(session: Session, sel: Selection) -> int:
    return int(session.exec(
        select(func.coalesce(func.sum(Staff.max_active_courses), 0))
        .where(col(Staff.active).is_(True), sel.staff())
    ).one())


def _active_on(day: date) -> sa.ColumnElement[bool]:
    return sa.and_(col(Course.start) <= day, sa.or_(col(Course.end).is_(None), col(Course.end) > day))


def _open_on(session: Session, table: Any, opened: Any, closed: Any, day: date,
             *where: sa.ColumnElement[bool]) -> int:
    """Rows opened on or before `day` and not closed by it (closed empty, or after the day).

    Counted as "still open" plus "closed after the day": two index ranges on `closed` that hold
    only open and recent rows, however many years lie behind them.
    """
    return (_count(session, table, closed.is_(None), opened <= day, *where)
            + _count(session, table, closed > day, opened <= day, *where))


def _load_figures(session: Session, sel: Selection, end: date) -> dict[str, Any]:
    """The load on `end`: courses and referrals open then, the staff's capacity, the intake of the
    12 months up to it. Kept across saves on `end`'s key (rows dated after it leave these counts);
    no ORS scores are read. Shared: callers copy it."""
    in_scope = sel.courses()
    start, stop = col(Course.start), col(Course.end)

    def read() -> dict[str, Any]:
        return {
            "active_at_end": _open_on(session, Course, start, stop, end, in_scope),
            "waiting_at_end": _open_on(session, Referral, col(Referral.received), col(Referral.decided), end,
                                       sel.referrals()),
            "capacity": _capacity(session, sel),
            "intake_12m": _count(
                session, Course, _between(start, end - timedelta(days=INTAKE_WINDOW_DAYS - 1), end), in_scope
            ),
            "active_over_6_months": _open_on(
                session, Course, start, stop, end, in_scope, start <= _last_start_over(end, MAX_MONTHS)
            ),
        }
    return db.settled(session, ("load", sel, end), read, until=end, scores=False, contacts=sel.reads_contacts)


StartedRow = tuple[int, int, str, int, int]


def _started_rows(session: Session, sel: Selection, start: date, end: date) -> tuple[StartedRow, ...]:
    """Courses started in the period as (year, month, form, wait days, how many); read once per
    transaction for the figures, the monthly starts and the quarters alike."""
    def read(first: date, last: date) -> tuple[StartedRow, ...]:
        month = MonthOf(col(Course.start))
        return tuple(
            (int(ym[:4]), int(ym[5:7]), form, wait_days, int(count))
            for ym, form, wait_days, count in session.exec(
                select(month, Course.form, Course.wait_days, func.count())
                .where(_between(col(Course.start), first, last), sel.courses())
                .group_by(month, col(Course.form), col(Course.wait_days))
            ).all()
        )
    return db.remembered(session, ("started", sel, start, end), lambda: tuple(chain.from_iterable(
        _in_pieces(session, "started", sel, start, end, read, scores=False))))


def _started_figures(session: Session, sel: Selection, start: date, end: date) -> dict[str, Any]:
    waits: dict[int, int] = {}
    started = group_starts = 0
    for _, _, form, wait_days, count in _started_rows(session, sel, start, end):
        started += count
        group_starts += count if form == "group" else 0
        waits[wait_days] = waits.get(wait_days, 0) + count
    return {
        "courses_started": started,
        "group_share": _share(group_starts, started),
        "median_wait_days": _median(waits),
    }


def _month_span_days(months: int) -> tuple[int, int]:
    """The fewest and most days `months` calendar months can last (over a whole leap cycle)."""
    first = date(2024, 1, 1)
    spans = [(add_months(day, months) - day).days for day in (first + timedelta(days=k) for k in range(4 * 366))]
    return min(spans), max(spans)


_MAX_MONTHS_DAYS = _month_span_days(MAX_MONTHS)


def _ended_over_months(session: Session, sel: Selection, start: date, end: date, days: dict[int, int]) -> int:
    """Courses ended in the period that lasted over MAX_MONTHS calendar months (end > start + 6
    months). Durations beyond the longest 6 months are over, those within the shortest are not;
    only the few in between are read and judged by their dates."""
    shortest, longest = _MAX_MONTHS_DAYS
    over = sum(count for length, count in days.items() if length > longest)
    if any(shortest < length <= longest for length in days):
        spans = session.exec(
            select(Course.start, Course.end)
            .where(_between(col(Course.end), start, end), sel.courses(),
                   col(Course.duration_days) > shortest, col(Course.duration_days) <= longest)
        ).all()
        over += sum(1 for started, ended in spans if ended > add_months(started, MAX_MONTHS))
    return over


@dataclass(frozen=True)
class Ended:
    """Courses ended in a period: how many lasted each number of days, how many went on to each
    next step (those with one), and how many had a network meeting."""

    days: dict[int, int] = field(hash=False)  # duration in days → courses
    steps: dict[str, int] = field(hash=False)  # next step → courses
    with_meeting: int


def _ended(session: Session, sel: Selection, start: date, end: date) -> Ended:
    """Courses ended in the period (`Ended`); read once per transaction for the figures, the
    duration histogram and the next steps alike. Callers must not change it."""
    had_meeting = col(Course.network_meetings) > 0

    def read(first: date, last: date) -> Ended:
        days: dict[int, int] = {}
        steps: dict[str, int] = {}
        with_meeting = 0
        for length, step, meeting, count in session.exec(
            select(Course.duration_days, Course.next_step, had_meeting, func.count())
            .where(_between(col(Course.end), first, last), sel.courses())
            .group_by(col(Course.duration_days), col(Course.next_step), had_meeting)
        ).all():
            days[int(length)] = days.get(int(length), 0) + int(count)
            if step is not None:
                steps[step] = steps.get(step, 0) + int(count)
            with_meeting += int(count) if meeting else 0
        return Ended(days, steps, with_meeting)

    def merged() -> Ended:
        parts = _in_pieces(session, "ended", sel, start, end, read, scores=False)
        days: dict[int, int] = {}
        steps: dict[str, int] = {}
        for part in parts:
            for length, count in part.days.items():
                days[length] = days.get(length, 0) + count
            for step, count in part.steps.items():
                steps[step] = steps.get(step, 0) + count
        return Ended(days, steps, sum(part.with_meeting for part in parts))
    return db.remembered(session, ("ended", sel, start, end), merged)


def _ended_figures(session: Session, sel: Selection, start: date, end: date) -> dict[str, Any]:
    found = _ended(session, sel, start, end)
    days = found.days
    step_counts = {code: found.steps.get(code, 0) for code in codes.NEXT_STEPS}
    ended = sum(days.values())
    steps = sum(step_counts.values())
    median_days = _median(days)
    low, high = (weeks * 7 for weeks in WEEKS_BAND)
    return {
        "courses_ended": ended,
        "median_weeks": None if median_days is None else median_days / 7,
        "share_12_16_weeks": _share(sum(count for d, count in days.items() if low <= d <= high), ended),
        "ended_over_6_months": _ended_over_months(session, sel, start, end, days),
        "next_step_share": {code: _share(count, steps) for code, count in step_counts.items()},
        "further_measure_share": _share(sum(step_counts[code] for code in codes.FURTHER_MEASURES), steps),
        "courses_with_network_meeting": found.with_meeting,
    }


def _tenths(points: float | None, default: float) -> int:
    return round((default if points is None else points) * 10)


def _thresholds(targets: Targets) -> tuple[int, int]:
    """A unit's RCI and clinical cutoff in tenths (the defaults 5 and 25 points when unset)."""
    return _tenths(targets.rci, 5.0), _tenths(targets.ors_cutoff, 25.0)


@dataclass(frozen=True)
class OrsGroup:
    """ORS pairs with the same change and the same side of the cutoff, judged by one RCI.

    A pair is a course ended in the period with ≥ 2 scores: its first and last total in the
    course's order (`fokus.summaries.ORS_ORDER`), as stored on the course, in tenths. Each pair
    is judged by the targets of its own course's unit in force on the period's last day.
    """

    rci: int  # tenths
    change: int  # last − first, tenths
    below: bool  # first total below the unit's clinical cutoff
    pairs: int
    first_sum: int  # Σ first totals, tenths
    last_sum: int
    first_squares: int  # Σ first², for the spread of the first totals
    ends_at_or_above: int  # of these pairs, how many end at or above the cutoff

    @property
    def change_class(self) -> str:
        """Improved, deteriorated or unchanged by at least the RCI (`fokus.ors.change_class`)."""
        return ors.change_class(self.change, self.rci)


def _ors_groups(session: Session, sel: Selection, start: date, end: date) -> tuple[OrsGroup, ...]:
    """The ORS pairs of the period summed in SQL by change and cutoff side, one query per set of
    thresholds among the units in scope; read once per transaction for the figures and the chart."""
    def read() -> tuple[OrsGroup, ...]:
        units_by_thresholds: dict[tuple[int, int], list[int]] = {}
        for unit, unit_targets in targets_by_unit(session, sel.scope, end).items():
            units_by_thresholds.setdefault(_thresholds(unit_targets), []).append(unit)
        thresholds = tuple((rci, cutoff, tuple(sorted(units)))
                           for (rci, cutoff), units in sorted(units_by_thresholds.items()))
        parts = _in_pieces(session, "ors", sel, start, end, lambda a, b: _ors_rows(session, sel, a, b, thresholds),
                           scores=True, extra=thresholds)
        return tuple(OrsGroup(*row) for row in sorted(_summed(parts, 3)))
    return db.remembered(session, ("ors", sel, start, end), read)


OrsRow = tuple[int, int, bool, int, int, int, int, int]  # the fields of an `OrsGroup`


def _ors_rows(session: Session, sel: Selection, start: date, end: date,
              thresholds: tuple[tuple[int, int, tuple[int, ...]], ...]) -> tuple[OrsRow, ...]:
    """`_ors_groups`' rows of the courses ended in [start, end]: per (RCI, cutoff, their units)."""
    first, last = col(Course.ors_first), col(Course.ors_last)
    change = last - first
    found: list[OrsRow] = []
    for rci, cutoff, units in thresholds:
        # One set of thresholds for every unit in scope needs no list of units.
        units_of = sa.true() if len(thresholds) == 1 else col(Course.unit_id).in_(units)
        below = first < cutoff
        found.extend(
            (rci, int(diff), bool(is_below), int(n), int(firsts), int(lasts), int(squares), int(above))
            for diff, is_below, n, firsts, lasts, squares, above in session.exec(
                select(change, below, func.count(), func.sum(first), func.sum(last), func.sum(first * first),
                       func.sum(sa.case((last >= cutoff, 1), else_=0)))
                .where(_between(col(Course.end), start, end), sel.courses(), col(Course.ors_count) >= 2, units_of)
                .group_by(change, below)
            ).all()
        )
    return tuple(found)


def _ors_figures(groups: tuple[OrsGroup, ...]) -> dict[str, Any]:
    n = sum(g.pairs for g in groups)
    sum_first, sum_last = sum(g.first_sum for g in groups), sum(g.last_sum for g in groups)
    squares = sum(g.first_squares for g in groups)
    improved = sum(g.pairs for g in groups if g.change_class == "improved")
    deteriorated = sum(g.pairs for g in groups if g.change_class == "deteriorated")
    below = sum(g.pairs for g in groups if g.below)
    recovered = sum(g.ends_at_or_above for g in groups if g.below and g.change_class == "improved")
    # The sample standard deviation of the first totals, from exact integer sums.
    spread = math.sqrt((n * squares - sum_first * sum_first) / (n * (n - 1))) if n >= 2 else 0.0
    return {
        "ors_pairs": n,
        # Means of tenths: the ratio and the effect size are the same in points.
        "ors_progress_pct": (sum_last - sum_first) / sum_first * 100 if sum_first else None,
        "reliable_improvement_share": _share(improved, n),
        "reliable_deterioration_share": _share(deteriorated, n),
        "clinically_significant_share": _share(recovered, below),
        "effect_size": (sum_last - sum_first) / n / spread if spread else None,
    }


def _network_figures(session: Session, sel: Selection, start: date, end: date) -> dict[str, Any]:
    meetings = select(func.count()).select_from(NetworkMeeting).where(_between(col(NetworkMeeting.date), start, end))
    if sel.narrows_courses:  # every course of every unit needs no join: the date index alone counts
        meetings = meetings.join(Course, col(Course.id) == col(NetworkMeeting.course_id)).where(sel.courses())
    return {"network_meetings": int(session.exec(meetings).one())}


def compute_kpis(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> dict[str, Any]:
    """The figures of DESIGN §3 for [start, end], both days included: exactly `KPI_KEYS`."""
    _check_period(start, end)
    scope = _scope_of(actor, unit_ids)
    sel = Selection(scope, filters)
    figures: dict[str, Any] = {
        **_referral_figures(session, sel, start, end),
        **_load_figures(session, sel, end),
        **_started_figures(session, sel, start, end),
        **_ended_figures(session, sel, start, end),
        **_ors_figures(_ors_groups(session, sel, start, end)),
        **_network_figures(session, sel, start, end),
    }
    figures["over_6_months"] = figures.pop("ended_over_6_months") + figures.pop("active_over_6_months")
    return {key: figures[key] for key in KPI_KEYS}


# ---------------------------------------------------------------------------------------
# Starts per month (the dashboard's intake chart; Danmarks Statistik's monthly list)

def _months(start: date, end: date) -> Iterable[date]:
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = add_months(month, 1)


def monthly_starts(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> list[tuple[date, int, int]]:
    """(first day of the month, starts, group starts) for every month that [start, end] touches.

    Only starts inside [start, end] count, so a month cut by the period shows its part of it.
    """
    sel = Selection(_scope_of(actor, unit_ids), filters)
    counted: dict[tuple[int, int], tuple[int, int]] = {}
    for y, m, form, _, count in _started_rows(session, sel, start, end):
        starts, groups = counted.get((y, m), (0, 0))
        counted[(y, m)] = (starts + count, groups + (count if form == "group" else 0))
    return [(first, *counted.get((first.year, first.month), (0, 0))) for first in _months(start, end)]


# ---------------------------------------------------------------------------------------
# Series for the dashboard's charts
#
# One DataFrame per chart, with exactly the columns of `SERIES_COLUMNS` (issue 5's contract
# with `fokus.charts`), scoped and filtered as `compute_kpis` is and agreeing with it wherever
# the two overlap. A value with nothing to compute it from is None (the column then holds
# Python objects, so None stays None rather than becoming NaN); counts of nothing are 0.
#
# Rules decided here, beyond the letter of the contract:
# - `load_over_time` counts "active on d" as the courses started on or before d minus those
#   ended on or before d (an end is never before its start), and "waiting on d" likewise from
#   received and decided: two cumulative counts per table, not a days × courses join.
# - `ors_by_session`: the band is not clipped to 0–40; the chart's axis is.
# - `group_activity`: referrer and target group narrow the members and the attendance counted
#   (they belong to the members' referrals); the sessions held are the group's, unfiltered.

SERIES_COLUMNS: dict[str, tuple[str, ...]] = {
    "load_over_time": ("day", "active", "waiting", "capacity"),
    "group_share_by_quarter": ("quarter", "starts", "group_starts", "group_share"),
    "ors_pairs_frame": ("change", "change_class", "below_cutoff", "pairs", "first_sum", "last_sum"),
    "ors_by_session": ("session", "n", "mean", "low", "high"),
    "duration_histogram": ("weeks_from", "weeks_to", "courses"),
    "referrals_by_month": ("month", "dimension", "code", "count"),
    "next_steps": ("code", "courses", "share"),
    "group_activity": ("name", "capacity", "members", "sessions", "attendance_share"),
}

# Column types: "date" and "optional" columns hold Python objects (datetime.date; float or None).
_DTYPES: dict[str, str] = {
    "day": "date", "quarter": "date", "month": "date",
    "active": "int64", "waiting": "int64", "capacity": "int64", "starts": "int64", "group_starts": "int64",
    "n": "int64", "session": "int64", "weeks_from": "int64", "weeks_to": "int64", "courses": "int64",
    "count": "int64", "members": "int64", "sessions": "int64", "pairs": "int64",
    "first_sum": "float64", "last_sum": "float64", "change": "float64", "mean": "float64",
    "group_share": "optional", "low": "optional", "high": "optional", "share": "optional",
    "attendance_share": "optional",
    "change_class": "str", "dimension": "str", "code": "str", "name": "str",
    "below_cutoff": "bool",
}

# Duration bins of two weeks up to 26 weeks ("6 måneder"), then one open bin.
DURATION_BIN_WEEKS = 2
DURATION_OPEN_FROM = 26
DURATION_OPEN_TO = 999  # "26 uger og derover"
LOAD_SUNDAYS_UP_TO_DAYS = 92  # a period this long or shorter gets a point every Sunday
ORS_SESSIONS_SHOWN = 20

# t(0.975, df) for df = 1..30 (two-sided 95 %); above 30 the normal 1.96.
_T_975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)


def t_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with `df` degrees of freedom (1.96 above 30)."""
    return _T_975[df - 1] if df <= len(_T_975) else 1.96


def _frame(name: str, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    columns = SERIES_COLUMNS[name]
    data = {}
    for index, column in enumerate(columns):
        kind = _DTYPES[column]
        data[column] = pd.Series([row[index] for row in rows], dtype=object if kind in ("date", "optional") else kind)
    return pd.DataFrame(data, columns=list(columns))


def _series_selection(actor: Actor, start: date, end: date, unit_ids: Collection[int] | None,
                      filters: Filters) -> Selection:
    _check_period(start, end)
    return Selection(_scope_of(actor, unit_ids), filters)


def load_days(start: date, end: date) -> list[date]:
    """The days `load_over_time` counts on: every Sunday of a period of at most 92 days, else
    the last day of every month in it; always ending with `end` itself."""
    if (end - start).days + 1 <= LOAD_SUNDAYS_UP_TO_DAYS:
        sunday = start + timedelta(days=(6 - start.weekday()) % 7)
        days = [sunday + timedelta(weeks=k) for k in range((end - sunday).days // 7 + 1)] if sunday <= end else []
    else:
        days = [last for last in (add_months(m, 1) - timedelta(days=1) for m in _months(start, end)) if last <= end]
    return days if days and days[-1] == end else [*days, end]


def _open_series(session: Session, sel: Selection, which: str, days: list[date]) -> list[int]:
    """For each of `days` (ascending), the courses (`which` "courses") or referrals waiting
    ("referrals") open on it (as `_open_on`): those open on the first day, plus those opened,
    minus those closed, after it; read per day, in pieces (`_in_pieces`)."""
    if which == "courses":
        table, opened, closed, where = Course, col(Course.start), col(Course.end), sel.courses()
    else:
        table, opened, closed, where = Referral, col(Referral.received), col(Referral.decided), sel.referrals()
    running = db.settled(session, ("open on", which, sel, days[0]),
                         lambda: _open_on(session, table, opened, closed, days[0], where), until=days[0], scores=False,
                         contacts=sel.reads_contacts)

    def per_day(first: date, last: date) -> tuple[tuple[date, int], ...]:
        def counted(column: Any, sign: int) -> list[tuple[date, int]]:
            return [(day, sign * int(count)) for day, count in session.exec(
                select(column, func.count()).where(_between(column, first, last), where).group_by(column)
            ).all()]
        return (*counted(opened, 1), *counted(closed, -1))

    changes = sorted(chain.from_iterable(_in_pieces(
        session, f"{which} opened and closed", sel, days[0] + timedelta(days=1), days[-1], per_day, scores=False,
    ))) if days[-1] > days[0] else []
    counts, index = [], 0
    for day in days:
        while index < len(changes) and changes[index][0] <= day:
            running += changes[index][1]
            index += 1
        counts.append(running)
    return counts


def load_over_time(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """Active courses and the waiting list on each of `load_days`, beside the capacity.

    The last row equals compute_kpis' active_at_end, waiting_at_end and capacity.
    """
    sel = _series_selection(actor, start, end, unit_ids, filters)
    days = load_days(start, end)
    active = _open_series(session, sel, "courses", days)
    waiting = _open_series(session, sel, "referrals", days)
    capacity = _capacity(session, sel)
    return _frame("load_over_time", [
        (day, a, w, capacity) for day, a, w in zip(days, active, waiting, strict=True)
    ])


def _quarter_of(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def group_share_by_quarter(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """Starts, group starts and the group share of every quarter [start, end] touches.

    Only starts inside [start, end] count; summed from `monthly_starts`, so the quarters add up
    to compute_kpis' courses_started.
    """
    _check_period(start, end)
    quarters: dict[date, tuple[int, int]] = {}
    for month, starts, group_starts in monthly_starts(session, actor, start, end, unit_ids, filters):
        so_far = quarters.get(_quarter_of(month), (0, 0))
        quarters[_quarter_of(month)] = (so_far[0] + starts, so_far[1] + group_starts)
    return _frame("group_share_by_quarter", [
        (quarter, starts, groups, _share(groups, starts)) for quarter, (starts, groups) in quarters.items()
    ])


def ors_pairs_frame(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """compute_kpis' ORS pairs counted by change (points), reliable-change class and whether the
    first total was below the cutoff (each pair judged by its own unit's targets on the
    period's last day, as compute_kpis judges it), with the sums of their first and last totals
    (points): one row per kind of pair, not per pair, so its size does not grow with the data."""
    sel = _series_selection(actor, start, end, unit_ids, filters)
    merged: dict[tuple[int, str, bool], list[int]] = {}
    for g in _ors_groups(session, sel, start, end):
        sums = merged.setdefault((g.change, g.change_class, g.below), [0, 0, 0])
        sums[0] += g.pairs
        sums[1] += g.first_sum
        sums[2] += g.last_sum
    return _frame("ors_pairs_frame", [
        (change / 10, change_class, below, pairs, first_sum / 10, last_sum / 10)
        for (change, change_class, below), (pairs, first_sum, last_sum) in sorted(merged.items())
    ])


def ors_by_session(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """The mean ORS total by measurement number with its 95 % confidence band.

    Over courses started in the period, each with its whole series of measurements (also those
    after the period's end). `session` is the ordinal in the course's order (1 = its first
    measurement), not the typed session number; the first 20 ordinals that have a measurement.
    The band is mean ± t(0.975, n − 1) · sd / √n, None for n < 2. Sums in whole tenths are
    exact integers, so the variance is exact too.
    """
    sel = _series_selection(actor, start, end, unit_ids, filters)
    ordinals = [getattr(Course, name) for name in summaries.ORDINAL_COLUMNS[:ORS_SESSIONS_SHOWN]]

    def read(first: date, last: date) -> tuple[int, ...]:
        return tuple(int(value or 0) for value in session.exec(
            select(*(aggregate for total in ordinals
                     for aggregate in (func.count(total), func.sum(total), func.sum(total * total))))
            .where(_between(col(Course.start), first, last), sel.courses())
        ).one())
    sums = [sum(column) for column in zip(*_in_pieces(session, "ors by session", sel, start, end, read, scores=True),
                                           strict=True)]
    rows = []
    for ordinal in range(1, len(ordinals) + 1):
        n, total, squares = (int(value or 0) for value in sums[3 * (ordinal - 1):3 * ordinal])
        if not n:
            continue
        mean = total / n / 10
        low = high = None
        if n >= 2:
            spread = math.sqrt((n * squares - total * total) / (n * (n - 1))) / 10
            half = t_975(n - 1) * spread / math.sqrt(n)
            low, high = mean - half, mean + half
        rows.append((ordinal, n, mean, low, high))
    return _frame("ors_by_session", rows)


def duration_histogram(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """Courses ended in the period by weeks (days / 7) in two-week bins [0, 2), … [24, 26) and
    [26, 999); every bin present. The bins add up to compute_kpis' courses_ended."""
    sel = _series_selection(actor, start, end, unit_ids, filters)
    last_bin = DURATION_OPEN_FROM // DURATION_BIN_WEEKS
    counts = [0] * (last_bin + 1)
    for days, count in _ended(session, sel, start, end).days.items():
        counts[min(days // (7 * DURATION_BIN_WEEKS), last_bin)] += count
    return _frame("duration_histogram", [
        (k * DURATION_BIN_WEEKS, DURATION_OPEN_TO if k == last_bin else (k + 1) * DURATION_BIN_WEEKS, count)
        for k, count in enumerate(counts)
    ])


def referrals_by_month(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """Referrals received per month, by referrer and by target group: every month the period
    touches × every code, 0 where none. Per dimension the counts add up to compute_kpis'
    referrals (only days inside [start, end] count)."""
    sel = _series_selection(actor, start, end, unit_ids, filters)
    counted: dict[tuple[int, int, str, str], int] = {}
    for y, m, referrer, target_group, count, _ in _referral_rows(session, sel, start, end):
        for key in ((y, m, "referrer", referrer), (y, m, "target_group", target_group)):
            counted[key] = counted.get(key, 0) + count
    dimensions = (("referrer", codes.REFERRERS), ("target_group", codes.TARGET_GROUPS))
    return _frame("referrals_by_month", [
        (first, dimension, code, counted.get((first.year, first.month, dimension, code), 0))
        for first in _months(start, end) for dimension, labels in dimensions for code in labels
    ])


def next_steps(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """Courses ended in the period with a next step, per next step (every code, in order) and
    their share, which equals compute_kpis' next_step_share."""
    sel = _series_selection(actor, start, end, unit_ids, filters)
    found = _ended(session, sel, start, end).steps
    whole = sum(int(count) for count in found.values())
    return _frame("next_steps", [
        (code, int(found.get(code, 0)), _share(int(found.get(code, 0)), whole)) for code in codes.NEXT_STEPS
    ])


def group_activity(
    session: Session, actor: Actor, start: date, end: date, unit_ids: Collection[int] | None = None,
    filters: Filters = NO_FILTERS,
) -> pd.DataFrame:
    """The groups running in the period (start ≤ its end, and no end or end ≥ its start), by
    start then name (with its unit's, "Hold 3 · Enhed A", when the groups are of several units):
    places, members active on `end`, sessions held in the period and the share
    present of the attendance registered at them. No contact-person filter (a group has no
    contact person); the form filter "individual" alone leaves no groups."""
    sel = _series_selection(actor, start, end, unit_ids, filters)
    if filters.forms and "group" not in filters.forms:
        return _frame("group_activity", [])
    members_of = Selection(sel.scope, replace(filters, staff_ids=frozenset())).courses()
    running = sa.and_(_within(col(Group.unit_id), sel.scope), col(Group.start) <= end,
                      sa.or_(col(Group.end).is_(None), col(Group.end) >= start))

    # The running groups and their members active on `end`: rows dated on or before `end`, no
    # scores and no contact people read, so kept across saves on `end`'s key.
    def read_groups() -> tuple[tuple[tuple[int, str, int], ...], dict[int, int]]:
        found = session.exec(
            select(Group.id, Group.name, Group.capacity, Unit.name).join(Unit, col(Unit.id) == col(Group.unit_id))
            .where(running).order_by(col(Group.start), col(Group.name), col(Unit.name))
        ).all()
        # Units name their groups alike ("Hold 15/2026 B"): where groups of several units are shown,
        # each is named with its unit, so that no two groups share a bar.
        several_units = len({unit for *_, unit in found}) > 1
        groups = tuple((int(group_id), f"{name} · {unit}" if several_units else name, int(capacity))
                       for group_id, name, capacity, unit in found)
        # Members active on `end`, one grouped count for all running groups (not one subquery per
        # group): still open, or ended after it (two index ranges, as `_open_on`).
        # `group_id + 0`: SQLite would otherwise walk the whole group_id index to spare a sort.
        group_of = col(Course.group_id) + 0
        members: dict[int, int] = {}
        if groups:
            for still_open in (col(Course.end).is_(None), col(Course.end) > end):
                for group_id, count in session.exec(
                    select(group_of, func.count())
                    .where(still_open, col(Course.start) <= end, group_of.is_not(None), members_of)
                    .group_by(group_of)
                ).all():
                    members[group_id] = members.get(group_id, 0) + count
        return groups, members

    groups, members = db.settled(session, ("running groups", sel.scope, filters.forms, filters.referrers,
                                           filters.target_groups, start, end), read_groups,
                                 until=end, scores=False, contacts=False)
    if not groups:
        return _frame("group_activity", [])
    held_in_period = _between(col(GroupSession.date), start, end)

    # Sessions held, and their attendance from the counts each session keeps (`GroupSession`),
    # per group of the scope; only the running groups' rows are used below. Kept whole, not in
    # pieces: a year of 100 units is some 30,000 rows by group and month.
    def read() -> tuple[tuple[int, int, int, int], ...]:
        return tuple((int(group_id), int(sessions), int(present or 0), int(registered or 0))
                     for group_id, sessions, present, registered in session.exec(
            select(GroupSession.group_id, func.count(), func.sum(GroupSession.present_count),
                   func.sum(GroupSession.registered_count))
            .join(Group, col(Group.id) == col(GroupSession.group_id))
            .where(_within(col(Group.unit_id), sel.scope), held_in_period)
            .group_by(col(GroupSession.group_id))
        ).all())
    held: dict[int, int] = {}
    attendance: dict[int, tuple[int, int]] = {}
    for group_id, sessions, present, registered in db.settled(
            session, ("group sessions", Selection(sel.scope), start, end), read, until=end, scores=False,
            contacts=False):
        held[group_id] = sessions
        attendance[group_id] = present, registered
    if filters.referrers or filters.target_groups:  # then only the attendance of the members it leaves counts
        attendance = {group_id: (int(present or 0), int(count)) for group_id, present, count in session.exec(
            select(GroupSession.group_id, func.sum(sa.case((col(Attendance.present), 1), else_=0)), func.count())
            .select_from(Attendance)
            .join(GroupSession, col(GroupSession.id) == col(Attendance.session_id))
            .join(Group, col(Group.id) == col(GroupSession.group_id))
            .join(Course, col(Course.id) == col(Attendance.course_id))
            .where(running, held_in_period, members_of)
            .group_by(col(GroupSession.group_id))
        ).all()}
    rows = []
    for group_id, name, capacity in groups:
        present, registered = attendance.get(group_id, (0, 0))
        rows.append((name, int(capacity), int(members.get(group_id, 0)), int(held.get(group_id, 0)),
                     _share(present, registered)))
    return _frame("group_activity", rows)


# ---------------------------------------------------------------------------------------
# The command line's face: `python -m fokus kpi`

def _unit_id_by_name(session: Session, name: str) -> int:
    unit_id = session.exec(select(Unit.id).where(Unit.name == name.strip())).first()
    if unit_id is not None:
        return unit_id
    known = session.exec(select(Unit.name).order_by(col(Unit.name))).all()
    listing = ", ".join(known) if known else "der er ingen enheder i databasen endnu"
    raise NotFoundError(f"Enheden '{name}' findes ikke. Kendte enheder: {listing}.", "unit")


def kpis_for_cli(*, start: date, end: date, unit_name: str | None) -> dict[str, Any]:
    """The figures for one unit by name, or for every unit, as the command line acts (SYSTEM)."""
    if start > end:
        raise ValidationError(
            f"--from ({fmt.day(start)}) ligger efter --to ({fmt.day(end)}): byt om på datoerne.", "start"
        )
    with db.read_session() as session:
        unit_ids = None if unit_name is None else [_unit_id_by_name(session, unit_name)]
        return compute_kpis(session, SYSTEM, start, end, unit_ids)


# The Danish labels of the figures (the dashboard uses them too).
LABELS: dict[str, str] = {
    "referrals": "Henvisninger modtaget",
    "by_referrer": "Henviser",
    "by_target_group": "Målgruppe",
    "from_sel85": "Revisiteret fra § 85",
    "courses_started": "Forløb startet",
    "courses_ended": "Forløb afsluttet",
    "active_at_end": "Aktive forløb ved periodens slutning",
    "waiting_at_end": "På venteliste ved periodens slutning",
    "capacity": "Kapacitet (aktive medarbejderes højst aktive forløb)",
    "intake_12m": "Startede forløb de seneste 12 måneder",
    "group_share": "Andel startet i gruppe",
    "median_wait_days": "Ventetid, median (dage)",
    "median_weeks": "Forløbslængde, median (uger)",
    "share_12_16_weeks": "Andel afsluttet efter 12–16 uger",
    "over_6_months": "Forløb over 6 måneder",
    "ors_pairs": "Afsluttede forløb med mindst to ORS-målinger",
    "ors_progress_pct": "ORS-fremgang fra første til sidste måling",
    "reliable_improvement_share": "Andel med pålidelig forbedring",
    "reliable_deterioration_share": "Andel med pålidelig forværring",
    "clinically_significant_share": "Andel med klinisk signifikant forbedring",
    "effect_size": "Effektstørrelse",
    "next_step_share": "Efterfølgende indsats",
    "further_measure_share": "Andel med videre SEL-indsats (§ 85 eller anden)",
    "network_meetings": "Netværksmøder afholdt",
    "courses_with_network_meeting": "Afsluttede forløb med netværksmøde",
}

_BREAKDOWNS: dict[str, dict[str, str]] = {
    "by_referrer": codes.REFERRERS,
    "by_target_group": codes.TARGET_GROUPS,
    "next_step_share": codes.NEXT_STEPS,
}


def _share_text(value: float | None) -> str:
    return fmt.percent(value, 1)


_FORMATS: dict[str, Callable[[Any], str]] = {
    "group_share": _share_text,
    "median_wait_days": lambda value: fmt.number(value, 1),
    "median_weeks": lambda value: fmt.number(value, 1),
    "share_12_16_weeks": _share_text,
    "ors_progress_pct": lambda value: fmt.signed_percent(value, 1),
    "reliable_improvement_share": _share_text,
    "reliable_deterioration_share": _share_text,
    "clinically_significant_share": _share_text,
    "effect_size": lambda value: fmt.number(value, 2),
    "next_step_share": _share_text,
    "further_measure_share": _share_text,
}


def kpi_table(figures: dict[str, Any], *, start: date, end: date, unit_name: str | None) -> str:
    """The figures as a Danish plain-text table, one figure a line, breakdowns indented."""
    lines: list[tuple[str, str]] = []
    for key in KPI_KEYS:
        show = _FORMATS.get(key, fmt.integer)
        value = figures[key]
        if key in _BREAKDOWNS:
            lines.append((f"{LABELS[key]}:", ""))
            lines.extend((f"  {codes.label(_BREAKDOWNS[key], code)}", show(value[code])) for code in _BREAKDOWNS[key])
        else:
            lines.append((LABELS[key], show(value)))
    width = max(len(label) for label, _ in lines) + 2
    title = f"Nøgletal for {unit_name or 'alle enheder'}, {fmt.period(start, end)}"
    body = [f"{label:<{width}}{text:>10}".rstrip() for label, text in lines]
    return "\n".join([title, "=" * len(title), *body, "", f"{fmt.NOTHING} betyder, at der intet er at beregne ud fra."])
