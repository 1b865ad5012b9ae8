"""Overblik's content: every figure and series for one period, and what needs action today.

`build` gathers what the page shows from `fokus.metrics` (the one implementation of DESIGN §3)
in one read transaction; the page caches its result on the data version (`fokus.db`), so a
save anywhere shows at the next run and nothing unchanged is recomputed. Aggregates only:
no citizen reference is in a `Dashboard`. `needs_action` is the leader's work list and does
name courses and referrals; it is the dashboard's only personal data and is never shown on
the meeting screen or in reports.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlmodel import Session, col, func, select

from fokus import codes, db, metrics, queries
from fokus.actor import Actor
from fokus.models import Course, Referral, Staff
from fokus.periods import Period

# The series behind the charts, by name (`fokus.charts.table_for` knows each).
SERIES = (
    "load_over_time", "group_share_by_quarter", "ors_pairs_frame", "ors_by_session", "duration_histogram",
    "referrals_by_month", "next_steps", "group_activity",
)


@dataclass(frozen=True)
class Dashboard:
    period: Period
    previous: tuple[date, date]  # the equal period just before, compared with on every tile
    figures: dict[str, Any]
    before: dict[str, Any]  # the same figures for the previous period
    targets: metrics.Targets  # in force on the period's last day
    series: dict[str, pd.DataFrame] = field(hash=False)  # "monthly_starts" and SERIES, by name


def build(
    session: Session, actor: Actor, period: Period, unit_ids: Collection[int] | None = None,
    filters: metrics.Filters = metrics.NO_FILTERS, before: dict[str, Any] | None = None,
) -> Dashboard:
    """Everything Overblik draws for `period`, for the actor's units (narrowed to `unit_ids`).

    `before`: the previous period's figures when the caller has them already (`compute_kpis`
    of the same actor, units and filters over `metrics.previous_period`); read here otherwise.
    """
    start, end = period.start, period.end
    previous = metrics.previous_period(start, end)
    scope = metrics.visible_unit_ids(actor, unit_ids)
    months = pd.DataFrame(
        metrics.monthly_starts(session, actor, start, end, unit_ids, filters),
        columns=["month", "starts", "group_starts"],
    )
    return Dashboard(
        period=period,
        previous=previous,
        figures=metrics.compute_kpis(session, actor, start, end, unit_ids, filters),
        before=metrics.compute_kpis(session, actor, *previous, unit_ids, filters) if before is None else before,
        targets=metrics.targets_for(session, scope, end),
        series={"monthly_starts": months,
                **{name: getattr(metrics, name)(session, actor, start, end, unit_ids, filters) for name in SERIES}},
    )


def first_data_day(session: Session, actor: Actor, unit_ids: Collection[int] | None = None) -> date | None:
    """The earliest referral or course start the actor may see: where the period choices begin."""
    scope = metrics.Selection(metrics.visible_unit_ids(actor, unit_ids))
    first_referral = session.exec(select(func.min(Referral.received)).where(scope.referrals())).one()
    first_course = session.exec(select(func.min(Course.start)).where(scope.courses())).one()
    found = [day for day in (first_referral, first_course) if day is not None]
    return min(found) if found else None


# ---------------------------------------------------------------------------------------
# Kræver handling: the leader's work list for today

ACTION_FLAGS = ("over_max_months", "near_max_months", "reliable_deterioration", "over_weeks", "no_recent_ors")
WAIT_ALERT_DAYS = 28  # a referral waiting longer than four weeks is on the list
ACTIONS_SHOWN = 25  # the page links the most urgent ones; the entry pages list them all


@dataclass(frozen=True)
class ActionItem:
    kind: str  # "course" or "referral"
    row_id: int  # the course's or the referral's id, for the link
    unit_id: int
    label: str  # "F-0012 · borger 7A3F" or "borger 7A3F"
    reasons: tuple[str, ...]  # Danish, most urgent first
    since: str  # "18,3 uger" or "42 dage"


def needs_action(
    session: Session, actor: Actor, *, today: date, unit_ids: Collection[int] | None = None,
    filters: metrics.Filters = metrics.NO_FILTERS,
) -> list[ActionItem]:
    """Active courses with an action flag, most urgent first, then referrals waiting over 4 weeks
    (`course_actions`, then `referral_actions`).

    The filters narrow the list as they narrow the figures: form and contact person the
    courses; referrer and target group the waiting referrals (a course's referrer and target
    group are not on the course list, so those two leave the courses alone).
    """
    return [*course_actions(session, actor, today=today, unit_ids=unit_ids, filters=filters),
            *referral_actions(session, actor, today=today, unit_ids=unit_ids, filters=filters)]


def course_actions(
    session: Session, actor: Actor, *, today: date, unit_ids: Collection[int] | None = None,
    filters: metrics.Filters = metrics.NO_FILTERS,
) -> list[ActionItem]:
    """`needs_action`'s courses: active ones with an action flag, most urgent first (then the
    longest running, then by start and reference).

    The flagged courses of the actor's scope are kept across saves (`db.kept_by_course`): a save
    of one course's rows (a score, a course edit) reads that course's flags again, not all of
    them; the filters are applied to what is kept."""
    scope = metrics.visible_unit_ids(actor, unit_ids)

    def read(course_ids: Collection[int] | None) -> dict[int, queries.ActiveCourse]:
        return {c.course_id: c for c in queries.active_courses(
            session, actor, today=today, unit_ids=unit_ids, may_need_action=True, course_ids=course_ids)
            if any(flag in ACTION_FLAGS for flag in c.flags)}

    flagged = db.kept_by_course(session, ("work list", None if scope is None else tuple(sorted(scope)), today), read)
    rank = {flag: n for n, flag in enumerate(ACTION_FLAGS)}
    courses = sorted(
        (c for c in flagged.values()
         if (not filters.forms or c.form in filters.forms)
         and (not filters.staff_ids or c.contact_person_id in filters.staff_ids)),
        key=lambda c: (min(rank[f] for f in c.flags if f in rank), -c.weeks_elapsed, c.start, c.ref, c.course_id))
    items = []
    for c in courses:
        reasons = tuple(codes.FLAGS[f] for f in sorted((f for f in c.flags if f in rank), key=rank.__getitem__))
        weeks = f"{c.weeks_elapsed:.1f}".replace(".", ",")
        items.append(ActionItem("course", c.course_id, c.unit_id, f"{c.ref} · borger {c.citizen_ref}", reasons,
                                f"{weeks} uger"))
    return items


def referral_actions(
    session: Session, actor: Actor, *, today: date, unit_ids: Collection[int] | None = None,
    filters: metrics.Filters = metrics.NO_FILTERS,
) -> list[ActionItem]:
    """`needs_action`'s referrals: those waiting over `WAIT_ALERT_DAYS`, longest waiting first.
    They read no ORS scores."""
    items = []
    for r in queries.waiting_list(session, actor, today=today, unit_ids=unit_ids, waited_over_days=WAIT_ALERT_DAYS):
        if (filters.referrers and r.referrer not in filters.referrers) or (
                filters.target_groups and r.target_group not in filters.target_groups):
            continue
        items.append(ActionItem("referral", r.referral_id, r.unit_id, f"borger {r.citizen_ref}",
                                (f"Venter over {WAIT_ALERT_DAYS // 7} uger",), f"{r.days_waited} dage"))
    return items


def contact_people(session: Session, actor: Actor, unit_ids: Collection[int] | None = None) -> dict[int, str]:
    """The staff the contact-person filter offers: id → "Name (INI)", active ones first by name."""
    scope = metrics.Selection(metrics.visible_unit_ids(actor, unit_ids))
    rows = session.exec(select(Staff).where(scope.staff()).order_by(col(Staff.active).desc(), col(Staff.name))).all()
    return {s.id: f"{s.name} ({s.initials})" + ("" if s.active else ", fratrådt") for s in rows if s.id is not None}
