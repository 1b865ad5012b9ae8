"""Property tests of DESIGN §3 on random small units, random periods and random filters.

Each example builds a fresh unit through the services in the test's database (SQLite and
PostgreSQL) and compares `compute_kpis` with the plain-Python reading of §3 in
`tests.metrics_reference`, besides the shapes every result must have: shares within 0–1,
breakdowns that add up. Dates cluster on the days where §3 has edges (29 February, 31 August,
the turn of the year), so that periods often start or end on the very day something happens.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fokus import codes, db, services
from fokus.actor import SYSTEM
from fokus.clock import add_months
from fokus.metrics import Filters
from tests.metrics_reference import flat, kpis, plain_reading, refer, score

FIRST_DAY, LAST_DAY = date(2023, 6, 1), date(2025, 3, 31)  # all in the past
EDGE_DAYS = (
    date(2023, 8, 31), date(2023, 9, 1), date(2023, 12, 31), date(2024, 1, 1), date(2024, 2, 28),
    date(2024, 2, 29), date(2024, 3, 1), date(2024, 8, 29), date(2024, 8, 30), date(2024, 8, 31),
    date(2024, 12, 31), date(2025, 2, 28), date(2025, 3, 1),
)
SHARES = (
    "group_share", "share_12_16_weeks", "reliable_improvement_share", "reliable_deterioration_share",
    "clinically_significant_share", "further_measure_share",
)
COUNTS = (
    "referrals", "from_sel85", "courses_started", "courses_ended", "active_at_end", "waiting_at_end", "capacity",
    "intake_12m", "over_6_months", "ors_pairs", "network_meetings", "courses_with_network_meeting",
)

# derandomize: the same examples on every run and in CI; database=None: nothing written to the tree.
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def days_from(first: date, *near: date) -> st.SearchStrategy[date]:
    """A day from `first` to LAST_DAY: often `first` itself, the day after, one of `near` or an edge day."""
    likely = sorted({d for d in (first, first + timedelta(days=1), *near, *EDGE_DAYS) if first <= d <= LAST_DAY})
    return st.one_of(st.sampled_from(likely), st.dates(first, LAST_DAY))


DAYS = days_from(FIRST_DAY)
# ORS totals in tenths that sit on the cutoffs (20, 24.5, 25, 30) and differ by the RCIs (3, 4.5, 5, 7.5).
TOTALS = st.one_of(st.sampled_from((0, 100, 150, 175, 200, 245, 250, 275, 300, 400)), st.integers(0, 400))


@dataclass(frozen=True)
class CoursePlan:
    start: date
    form: str
    contact: int | None  # an index into the unit's staff
    scores: list[tuple[date, int, int | None]]  # day, total in tenths, session number (None: the next)
    meetings: list[date]
    end: date | None
    next_step: str | None


@dataclass(frozen=True)
class ReferralPlan:
    received: date
    referrer: str
    target_group: str
    from_sel85: bool
    withdrawn: date | None = None
    course: CoursePlan | None = None


@dataclass(frozen=True)
class UnitPlan:
    staff: list[tuple[int, bool]]  # max active courses, active
    targets: list[tuple[date, float, float]]  # valid from, RCI, cutoff
    referrals: list[ReferralPlan] = field(default_factory=list)


@st.composite
def score_plans(draw: st.DrawFn, start: date, end: date | None) -> list[tuple[date, int, int | None]]:
    """Up to four scores in date order, a later one often the first plus or minus an RCI."""
    within = st.one_of(st.sampled_from([start, end or start]), st.dates(start, end or LAST_DAY))
    days = sorted(draw(st.lists(within, max_size=4)))
    totals: list[int] = []
    for _ in days:
        change = draw(st.none() | st.sampled_from((-75, -50, -45, -30, 30, 45, 50, 75))) if totals else None
        totals.append(draw(TOTALS) if change is None else min(400, max(0, totals[0] + change)))
    return [(day, total, draw(st.none() | st.integers(1, 3))) for day, total in zip(days, totals, strict=True)]


@st.composite
def course_plans(draw: st.DrawFn, received: date, staff: int) -> CoursePlan:
    start = draw(days_from(received))
    six_months = add_months(start, 6)
    # Around 12 and 16 weeks and six months, where the figures of ended courses turn.
    turning = [day for day in (*(start + timedelta(days=n) for n in (83, 84, 112, 113)), six_months,
                               six_months + timedelta(days=1)) if day <= LAST_DAY]
    end = draw(st.one_of(st.none(), *([st.sampled_from(turning)] if turning else []), days_from(start)))
    scores = draw(score_plans(start, end))
    return CoursePlan(
        start=start,
        form=draw(st.sampled_from(list(codes.FORMS))),
        contact=draw(st.none() | st.integers(0, staff - 1)) if staff else None,
        scores=scores,
        meetings=draw(st.lists(days_from(start), max_size=2)),
        end=end,
        next_step=draw(st.none() | st.sampled_from(list(codes.NEXT_STEPS))) if end else None,
    )


@st.composite
def referral_plans(draw: st.DrawFn, staff: int) -> ReferralPlan:
    received = draw(DAYS)
    plan = ReferralPlan(
        received=received,
        referrer=draw(st.sampled_from(list(codes.REFERRERS))),
        target_group=draw(st.sampled_from(list(codes.TARGET_GROUPS))),
        from_sel85=draw(st.booleans()),
    )
    fate = draw(st.sampled_from(("waiting", "withdrawn", "course", "course", "course")))
    if fate == "withdrawn":
        return replace(plan, withdrawn=draw(days_from(received)))
    if fate == "course":
        return replace(plan, course=draw(course_plans(received, staff)))
    return plan


@st.composite
def unit_plans(draw: st.DrawFn) -> UnitPlan:
    staff = draw(st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=3))
    targets = draw(st.lists(
        st.tuples(DAYS, st.sampled_from((3.0, 4.5, 5.0, 7.5)), st.sampled_from((20.0, 24.5, 25.0, 30.0))),
        max_size=2, unique_by=lambda target: target[0],
    ))
    referrals = draw(st.lists(referral_plans(len(staff)), min_size=1, max_size=12))
    return UnitPlan(staff=staff, targets=targets, referrals=referrals)


def happenings(plan: UnitPlan) -> list[list[date]]:
    """Per referral, the days on which §3 turns for it: something happens, six months run out, its
    course's start enters or leaves the 365-day intake window."""
    per_referral = []
    for r in plan.referrals:
        days = {r.received, *([r.withdrawn] if r.withdrawn else [])}
        if (c := r.course) is not None:
            six_months = add_months(c.start, 6)
            days |= {c.start, six_months, six_months + timedelta(days=1), c.start + timedelta(days=364),
                     c.start + timedelta(days=365), *(day for day, _, _ in c.scores), *c.meetings}
            days |= {c.end} if c.end else set()
        per_referral.append(sorted(day for day in days if day <= LAST_DAY))
    return per_referral


def spans(near: date) -> st.SearchStrategy[tuple[date, date]]:
    """From any day or `near`: a single day, four weeks, a month, a quarter, 365 or 366 days, any length."""
    def span(start: date, length: int) -> tuple[date, date]:
        return start, min(start + timedelta(days=length), LAST_DAY)

    lengths = st.one_of(st.sampled_from((0, 28, 30, 90, 364, 365)), st.integers(0, 600))
    return st.builds(span, st.one_of(DAYS, st.just(near)), lengths)


@st.composite
def periods(draw: st.DrawFn, plan: UnitPlan) -> list[tuple[date, date]]:
    """Four periods over the same unit: between two days where §3 turns for it, one such day alone,
    one ending on an edge of the calendar, and a span. Building the unit costs more than reading it."""
    turn = st.sampled_from(happenings(plan)).flatmap(st.sampled_from)  # a referral, then one of its days
    first, last = sorted((draw(turn), draw(turn)))
    day = draw(turn)
    edge = draw(st.sampled_from(EDGE_DAYS))
    return [(first, last), (day, day), (draw(st.one_of(st.dates(FIRST_DAY, edge), st.just(edge))), edge),
            draw(spans(day))]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[UnitPlan, list[tuple[date, date]]]:
    plan = draw(unit_plans())
    return plan, draw(periods(plan))


@st.composite
def filter_choices(draw: st.DrawFn, staff: int) -> tuple[Filters, frozenset[int]]:
    """Filters with staff as indexes into the unit's staff (ids exist only once it is built)."""
    def some(values: Any) -> st.SearchStrategy[frozenset[Any]]:
        return st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(list(values)), min_size=1))

    filters = Filters(referrers=draw(some(codes.REFERRERS)), target_groups=draw(some(codes.TARGET_GROUPS)),
                      forms=draw(some(codes.FORMS)))
    return filters, draw(some(range(staff))) if staff else frozenset()


_unit_names = itertools.count(1)


def build(plan: UnitPlan) -> tuple[int, list[int]]:
    """The planned unit, built through the services: (unit id, staff ids)."""
    with db.write_session() as s:
        unit = services.create_unit(s, SYSTEM, name=f"Enhed {next(_unit_names)}", municipality="Testkommune").id
        staff = [services.add_staff(s, SYSTEM, unit_id=unit, name=f"Medarbejder {n}", initials=f"M{n}",
                                    max_active_courses=places).id
                 for n, (places, _) in enumerate(plan.staff)]
        for n, (_, active) in enumerate(plan.staff):
            if not active:  # before any course names them, so the service lets them go
                services.update_staff(s, SYSTEM, staff_id=staff[n], expected_version=None, name=f"Medarbejder {n}",
                                      initials=f"M{n}", active=False, max_active_courses=plan.staff[n][0])
        for valid_from, rci, cutoff in plan.targets:
            services.set_targets(s, SYSTEM, unit_id=unit, valid_from=valid_from, rci=rci, ors_cutoff=cutoff)
        for n, planned in enumerate(plan.referrals):
            referral = refer(s, unit, f"B{n}", planned.received, referrer=planned.referrer,
                             target_group=planned.target_group, from_sel85=planned.from_sel85)
            if planned.withdrawn is not None:
                services.decide_referral(s, SYSTEM, referral_id=referral.id, status="withdrawn",
                                         decided=planned.withdrawn, reason="declined")
            if (c := planned.course) is None:
                continue
            started = services.start_course(
                s, SYSTEM, referral_id=referral.id, start=c.start, form=c.form,
                contact_person_id=None if c.contact is None else staff[c.contact],
            )
            for day, tenths, session_no in c.scores:
                score(s, started, day, tenths / 10, session_no=session_no)
            for day in c.meetings:
                services.add_network_meeting(s, SYSTEM, course_id=started.id, day=day, participants=2)
            if c.end is not None:
                services.end_course(s, SYSTEM, course_id=started.id, end=c.end, end_reason="completed",
                                    next_step=c.next_step)
    return unit, staff


def assert_well_formed(figures: dict[str, Any]) -> None:
    for key in COUNTS:
        assert isinstance(figures[key], int) and figures[key] >= 0, key
    for key in SHARES:
        assert figures[key] is None or 0 <= figures[key] <= 1, key
    steps = figures["next_step_share"].values()
    assert set(figures["next_step_share"]) == set(codes.NEXT_STEPS)
    assert all(share is None for share in steps) or sum(steps) == pytest.approx(1)
    assert all(share is None or 0 <= share <= 1 for share in steps)
    assert sum(figures["by_referrer"].values()) == figures["referrals"]
    assert sum(figures["by_target_group"].values()) == figures["referrals"]
    assert figures["from_sel85"] <= figures["referrals"]
    assert figures["ors_pairs"] <= figures["courses_ended"]
    assert figures["courses_with_network_meeting"] <= figures["courses_ended"]


@PROPERTY_SETTINGS
@given(scenario=scenarios(), data=st.data())
def test_the_sql_equals_the_plain_reading_of_the_definitions_for_any_unit_period_and_filters(
    db_url: str, scenario: tuple[UnitPlan, list[tuple[date, date]]], data: st.DataObject
) -> None:
    plan, periods_ = scenario
    unit, staff = build(plan)
    chosen, staff_indexes = data.draw(filter_choices(len(staff)), label="filters")
    filters = replace(chosen, staff_ids=frozenset(staff[n] for n in staff_indexes))

    for (start, end), applied in itertools.product(periods_, (Filters(), filters)):
        figures = kpis(start, end, unit_ids=[unit], filters=applied)
        assert_well_formed(figures)
        assert flat(figures) == pytest.approx(flat(plain_reading(start, end, unit, applied))), (start, end, applied)


def assert_parts_add_up(unit: int, start: date, end: date) -> None:
    def figures(**filters: frozenset[str]) -> dict[str, Any]:
        return kpis(start, end, unit_ids=[unit], filters=Filters(**filters))

    everything = figures()
    group, individual = figures(forms=frozenset({"group"})), figures(forms=frozenset({"individual"}))
    started = everything["courses_started"]

    assert group["courses_started"] + individual["courses_started"] == started
    if started:
        assert everything["group_share"] + individual["courses_started"] / started == pytest.approx(1)
        assert everything["group_share"] == pytest.approx(group["courses_started"] / started)
    else:
        assert everything["group_share"] is None
    # What each referrer's referrals account for adds up to the whole.
    per_referrer = [figures(referrers=frozenset({code})) for code in codes.REFERRERS]
    for key in ("referrals", "waiting_at_end", "courses_started", "courses_ended", "active_at_end", "intake_12m",
                "ors_pairs", "over_6_months", "network_meetings"):
        assert sum(part[key] for part in per_referrer) == everything[key], key
    for narrowed in (group, individual, *per_referrer):
        for key in COUNTS:
            assert narrowed[key] <= everything[key], key


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(scenario=scenarios())
def test_group_and_individual_starts_make_up_every_start_and_a_filter_only_ever_narrows(
    db_url: str, scenario: tuple[UnitPlan, list[tuple[date, date]]]
) -> None:
    plan, periods_ = scenario
    unit, _ = build(plan)

    for start, end in periods_:
        assert_parts_add_up(unit, start, end)
