"""The dashboard's series (issue 5's contract), on SQLite and PostgreSQL.

Each series is checked on small hand-made data with the expected rows worked out here, at the
edges the contract names (an empty period, the points, quarters and months a period touches,
another unit's data, the filters), and against `compute_kpis` wherever the two overlap.
Data is built through the service layer; every date is in 2023–2024, so in the past.
"""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from fokus import codes, db, metrics, services
from fokus.actor import SYSTEM, Actor
from fokus.errors import ValidationError
from fokus.metrics import NO_FILTERS, Filters
from fokus.models import Course, OrsScore, Unit
from tests.test_metrics import DEC_31, JAN_1, _random_unit, course, ended, refer, score, second_unit

# The contract's columns, written out as the contract gives them (not read from the module).
CONTRACT: dict[str, list[str]] = {
    "load_over_time": ["day", "active", "waiting", "capacity"],
    "group_share_by_quarter": ["quarter", "starts", "group_starts", "group_share"],
    "ors_pairs_frame": ["change", "change_class", "below_cutoff", "pairs", "first_sum", "last_sum"],
    "ors_by_session": ["session", "n", "mean", "low", "high"],
    "duration_histogram": ["weeks_from", "weeks_to", "courses"],
    "referrals_by_month": ["month", "dimension", "code", "count"],
    "next_steps": ["code", "courses", "share"],
    "group_activity": ["name", "capacity", "members", "sessions", "attendance_share"],
}
# The duration bins: [0, 2), [2, 4), … [24, 26), and 26 weeks or more.
BINS = [(k, k + 2) for k in range(0, 26, 2)] + [(26, 999)]


def series(name: str, start: date = JAN_1, end: date = DEC_31, unit_ids: list[int] | None = None,
           actor: Actor = SYSTEM, filters: Filters = NO_FILTERS) -> pd.DataFrame:
    with db.read_session() as session:
        return getattr(metrics, name)(session, actor, start, end, unit_ids, filters)


def rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The frame's rows as plain tuples (numpy numbers compare equal to Python's)."""
    return list(frame.itertuples(index=False, name=None))


def kpis(start: date = JAN_1, end: date = DEC_31, unit_ids: list[int] | None = None,
         filters: Filters = NO_FILTERS) -> dict[str, Any]:
    with db.read_session() as session:
        return metrics.compute_kpis(session, SYSTEM, start, end, unit_ids, filters)


def start_on(session: Session, unit_id: int, ref: str, start: date, *, received: date | None = None,
             group_id: int | None = None, contact_person_id: int | None = None, end: date | None = None,
             referrer: str = "socialcenter") -> Course:
    """A course with a group or a contact person (the `course` helper of test_metrics has neither)."""
    referral = refer(session, unit_id, ref, received or start, referrer=referrer)
    started = services.start_course(session, SYSTEM, referral_id=referral.id, start=start,
                                    form="group" if group_id else "individual", group_id=group_id,
                                    contact_person_id=contact_person_id)
    if end is not None:
        services.end_course(session, SYSTEM, course_id=started.id, end=end, end_reason="completed")
    return started


# ---------------------------------------------------------------------------------------
# The contract

@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_series_has_exactly_the_contracts_columns(unit_id: int, name: str) -> None:
    assert list(series(name).columns) == CONTRACT[name]
    assert list(metrics.SERIES_COLUMNS[name]) == CONTRACT[name]


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_series_refuses_a_period_that_ends_before_it_starts(unit_id: int, name: str) -> None:
    with pytest.raises(ValidationError, match="byt om"):
        series(name, DEC_31, JAN_1)


def test_an_empty_period_gives_complete_frames_with_zeros_and_nothing_computed_from_nothing(unit_id: int) -> None:
    start, end = date(2024, 2, 10), date(2024, 4, 10)  # 61 days: a point every Sunday
    sundays = [date(2024, 2, 11) + timedelta(weeks=k) for k in range(9)]  # 11.02 … 07.04

    assert rows(series("load_over_time", start, end)) == [(day, 0, 0, 0) for day in [*sundays, end]]
    assert rows(series("group_share_by_quarter", start, end)) == [
        (date(2024, 1, 1), 0, 0, None), (date(2024, 4, 1), 0, 0, None)]
    assert series("ors_pairs_frame", start, end).empty
    assert series("ors_by_session", start, end).empty
    assert rows(series("duration_histogram", start, end)) == [(low, high, 0) for low, high in BINS]
    months = [date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)]
    assert rows(series("referrals_by_month", start, end)) == [
        (month, dimension, code, 0)
        for month in months
        for dimension, labels in (("referrer", codes.REFERRERS), ("target_group", codes.TARGET_GROUPS))
        for code in labels
    ]
    assert rows(series("next_steps", start, end)) == [(code, 0, None) for code in codes.NEXT_STEPS]
    assert series("group_activity", start, end).empty


def test_empty_frames_keep_their_column_types(unit_id: int) -> None:
    pairs, sessions, groups = series("ors_pairs_frame"), series("ors_by_session"), series("group_activity")

    assert (str(pairs["first_sum"].dtype), str(pairs["pairs"].dtype), str(pairs["below_cutoff"].dtype)) == (
        "float64", "int64", "bool")
    assert (str(sessions["session"].dtype), str(sessions["n"].dtype), str(sessions["mean"].dtype)) == (
        "int64", "int64", "float64")
    assert str(groups["members"].dtype) == "int64"


# ---------------------------------------------------------------------------------------
# 1. Load over time

@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        # March 2024 (31 days): its Sundays, the last of them the period's last day, not twice
        (date(2024, 3, 1), date(2024, 3, 31), [date(2024, 3, d) for d in (3, 10, 17, 24, 31)]),
        (date(2024, 3, 1), date(2024, 3, 30), [date(2024, 3, d) for d in (3, 10, 17, 24, 30)]),
        # no Sunday in it: the last day alone
        (date(2024, 3, 4), date(2024, 3, 9), [date(2024, 3, 9)]),
        # 92 days (1 January – 1 April 2024) is still short: every Sunday, 7 January … 31 March, and 1 April
        (date(2024, 1, 1), date(2024, 4, 1), [date(2024, 1, 7) + timedelta(weeks=k) for k in range(13)]
         + [date(2024, 4, 1)]),
        # 93 days: the last day of each month in it, and the period's last day
        (date(2024, 1, 1), date(2024, 4, 2), [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31),
                                              date(2024, 4, 2)]),
        # a rolling year cut mid-month at both ends: 31.12 … 31.10, then 20.11
        (date(2023, 12, 15), date(2024, 11, 20), [date(2023, 12, 31), date(2024, 1, 31), date(2024, 2, 29),
                                                  date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31),
                                                  date(2024, 6, 30), date(2024, 7, 31), date(2024, 8, 31),
                                                  date(2024, 9, 30), date(2024, 10, 31), date(2024, 11, 20)]),
    ],
)
def test_load_is_counted_every_sunday_of_a_short_period_else_every_month_end_and_always_on_the_last_day(
    start: date, end: date, days: list[date]
) -> None:
    assert metrics.load_days(start, end) == days


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(0, 800))
def test_load_days_lie_in_the_period_ascending_and_end_on_its_last_day(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    days = metrics.load_days(start, end)

    assert days[-1] == end
    assert all(start <= day <= end for day in days)
    assert days == sorted(set(days))
    short = length + 1 <= 92
    for day in days[:-1]:
        assert day.weekday() == 6 if short else (day + timedelta(days=1)).day == 1


def test_load_counts_active_courses_and_waiting_referrals_on_each_day_against_capacity(unit_id: int) -> None:
    with db.write_session() as s:
        anna = services.add_staff(s, SYSTEM, unit_id=unit_id, name="Anna", initials="AN", max_active_courses=12)
        services.add_staff(s, SYSTEM, unit_id=unit_id, name="Bo", initials="BO", max_active_courses=8)
        gone = services.add_staff(s, SYSTEM, unit_id=unit_id, name="Carl", initials="CA", max_active_courses=20)
        services.update_staff(s, SYSTEM, staff_id=gone.id, expected_version=None, name="Carl", initials="CA",
                              active=False, max_active_courses=20)
        start_on(s, unit_id, "A", date(2024, 1, 10), received=date(2024, 1, 2), end=date(2024, 2, 29),
                 contact_person_id=anna.id)
        start_on(s, unit_id, "B", date(2024, 1, 31), received=date(2024, 1, 5))
        course(s, unit_id, "C", date(2024, 3, 31), received=date(2024, 3, 1), end=date(2024, 4, 10))
        course(s, unit_id, "D", date(2023, 12, 15), received=date(2023, 12, 1), end=date(2024, 2, 1))
        refer(s, unit_id, "W1", date(2024, 2, 10))
        w2 = refer(s, unit_id, "W2", date(2024, 1, 20))
        services.decide_referral(s, SYSTEM, referral_id=w2.id, status="rejected", decided=date(2024, 3, 31),
                                 reason="declined")
        anna_id = anna.id
    start, end = JAN_1, date(2024, 4, 10)  # 101 days: month ends

    frame = series("load_over_time", start, end)

    # active on d: started ≤ d and not ended ≤ d      waiting on d: received ≤ d and not decided ≤ d
    # 31.01: A, B, D (B starts that day)               W2 (B was decided that day)
    # 29.02: B (A ends that day, D ended 01.02)        W1, W2
    # 31.03: B, C (C starts that day)                  W1 (W2 decided that day)
    # 10.04: B (C ends that day)                       W1
    assert rows(frame) == [
        (date(2024, 1, 31), 3, 1, 20), (date(2024, 2, 29), 1, 2, 20), (date(2024, 3, 31), 2, 1, 20),
        (date(2024, 4, 10), 1, 1, 20),
    ]
    figures = kpis(start, end)
    assert rows(frame)[-1][1:] == (figures["active_at_end"], figures["waiting_at_end"], figures["capacity"])

    # The contact-person filter narrows courses and capacity, not the waiting list (as in compute_kpis).
    anna_only = Filters(staff_ids=frozenset({anna_id}))
    assert rows(series("load_over_time", start, end, filters=anna_only)) == [
        (date(2024, 1, 31), 1, 1, 12), (date(2024, 2, 29), 0, 2, 12), (date(2024, 3, 31), 0, 1, 12),
        (date(2024, 4, 10), 0, 1, 12),
    ]


def test_load_of_a_unit_never_counts_another_units_courses_referrals_or_staff(unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        services.add_staff(s, SYSTEM, unit_id=other, name="Bo", initials="BO", max_active_courses=8)
        course(s, other, "X1", date(2024, 1, 10))
        refer(s, other, "X2", date(2024, 1, 10))
        course(s, unit_id, "M1", date(2024, 1, 10))

    assert rows(series("load_over_time", JAN_1, date(2024, 1, 31), [unit_id])) == [
        (date(2024, 1, 7), 0, 0, 0), (date(2024, 1, 14), 1, 0, 0), (date(2024, 1, 21), 1, 0, 0),
        (date(2024, 1, 28), 1, 0, 0), (date(2024, 1, 31), 1, 0, 0),
    ]
    leader = Actor(login="leder", role="leader", unit_ids=frozenset({unit_id}))
    assert rows(series("load_over_time", JAN_1, date(2024, 1, 31), actor=leader)) == rows(
        series("load_over_time", JAN_1, date(2024, 1, 31), [unit_id]))


# ---------------------------------------------------------------------------------------
# 2. Group share by quarter

def test_group_share_per_quarter_counts_starts_inside_the_period_in_every_quarter_it_touches(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "Q0", date(2024, 2, 9), form="group")  # the day before the period
        course(s, unit_id, "Q1", date(2024, 2, 15), form="group")
        course(s, unit_id, "Q2", date(2024, 3, 31), form="individual")
        course(s, unit_id, "Q3", date(2024, 7, 5), form="group")  # the period's last day
        course(s, unit_id, "Q4", date(2024, 7, 6), form="group")  # after it
    start, end = date(2024, 2, 10), date(2024, 7, 5)

    frame = series("group_share_by_quarter", start, end)

    assert rows(frame) == [
        (date(2024, 1, 1), 2, 1, 0.5),  # Q1 from 10.02: Q1 and Q2
        (date(2024, 4, 1), 0, 0, None),  # nothing started: no share, not 0
        (date(2024, 7, 1), 1, 1, 1.0),  # Q3 up to 05.07
    ]
    figures = kpis(start, end)
    assert frame["starts"].sum() == figures["courses_started"] == 3
    assert frame["group_starts"].sum() / frame["starts"].sum() == figures["group_share"]


def test_group_share_per_quarter_applies_the_referrer_filter_as_compute_kpis(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "F1", date(2024, 5, 1), form="group", referrer="jobcenter")
        course(s, unit_id, "F2", date(2024, 5, 2), form="individual", referrer="jobcenter")
        course(s, unit_id, "F3", date(2024, 5, 3), form="group", referrer="socialcenter")
    jobcenter = Filters(referrers=frozenset({"jobcenter"}))

    frame = series("group_share_by_quarter", date(2024, 4, 1), date(2024, 6, 30), filters=jobcenter)

    assert rows(frame) == [(date(2024, 4, 1), 2, 1, 0.5)]
    assert kpis(date(2024, 4, 1), date(2024, 6, 30), filters=jobcenter)["group_share"] == 0.5


# ---------------------------------------------------------------------------------------
# 3. ORS pairs

def test_ors_pairs_frame_counts_the_pairs_by_change_class_and_start_below_the_cutoff(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "P1", 10, 15)  # +5,0: the RCI exactly, improved; 10 < 25
        ended(s, unit_id, "P2", 20, 15.1)  # −4,9: unchanged
        ended(s, unit_id, "P3", 26, 20)  # −6,0: deteriorated; 26 is not below 25
        ended(s, unit_id, "P4", 25, 31)  # +6: improved; 25 is the cutoff, not below it
        course(s, unit_id, "P5", date(2024, 2, 1), end=date(2024, 3, 1), ors=((date(2024, 2, 1), 10),))  # one score
        course(s, unit_id, "P6", date(2024, 2, 1), ors=((date(2024, 2, 1), 10), (date(2024, 3, 1), 30)))  # open

    frame = series("ors_pairs_frame")

    # (change, class, below the cutoff, pairs, Σ first, Σ last), by change
    assert rows(frame) == [
        (-6.0, "deteriorated", False, 1, 26.0, 20.0),
        (-4.9, "unchanged", True, 1, 20.0, 15.1),
        (5.0, "improved", True, 1, 10.0, 15.0),
        (6.0, "improved", False, 1, 25.0, 31.0),
    ]
    figures = kpis()
    pairs = frame["pairs"].sum()
    assert pairs == figures["ors_pairs"] == 4

    def share(change_class: str) -> float:
        return frame.loc[frame["change_class"] == change_class, "pairs"].sum() / pairs

    assert share("improved") == figures["reliable_improvement_share"] == 0.5
    assert share("deteriorated") == figures["reliable_deterioration_share"] == 0.25
    mean_first, mean_last = frame["first_sum"].sum() / pairs, frame["last_sum"].sum() / pairs
    assert (mean_last - mean_first) / mean_first * 100 == pytest.approx(figures["ors_progress_pct"])


def test_ors_pairs_frame_has_one_row_per_kind_of_pair_however_many_pairs(unit_id: int) -> None:
    with db.write_session() as s:
        for k in range(5):
            ended(s, unit_id, f"K{k}", 10 + k, 16 + k)  # +6 each: improved, all below 25
        ended(s, unit_id, "K9", 30, 24)  # −6: deteriorated, not below

    assert rows(series("ors_pairs_frame")) == [
        (-6.0, "deteriorated", False, 1, 30.0, 24.0),
        (6.0, "improved", True, 5, 10.0 + 11 + 12 + 13 + 14, 16.0 + 17 + 18 + 19 + 20),
    ]


def test_ors_pairs_are_judged_by_their_own_units_targets_on_the_periods_last_day(unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        services.set_targets(s, SYSTEM, unit_id=other, valid_from=JAN_1, rci=8.0, ors_cutoff=10.0)
        services.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=date(2024, 6, 1), rci=7.5)
        ended(s, unit_id, "U1", 10, 16)  # +6: improved by RCI 5 up to 31.05, unchanged by 7,5 after
        ended(s, other, "U2", 10, 16)  # +6 < 8: unchanged; 10 is the other unit's cutoff, not below it

    before = series("ors_pairs_frame", JAN_1, date(2024, 5, 31))
    after = series("ors_pairs_frame", JAN_1, DEC_31)

    assert rows(before) == [(6.0, "improved", True, 1, 10.0, 16.0), (6.0, "unchanged", False, 1, 10.0, 16.0)]
    assert rows(after) == [(6.0, "unchanged", False, 1, 10.0, 16.0), (6.0, "unchanged", True, 1, 10.0, 16.0)]
    assert rows(series("ors_pairs_frame", JAN_1, DEC_31, [other])) == [(6.0, "unchanged", False, 1, 10.0, 16.0)]
    assert kpis(JAN_1, date(2024, 5, 31))["reliable_improvement_share"] == 0.5
    assert kpis(JAN_1, DEC_31)["reliable_improvement_share"] == 0.0


# ---------------------------------------------------------------------------------------
# 4. ORS by session

def test_t_quantiles_are_those_of_students_t_distribution() -> None:
    """The table against the t density integrated numerically (Simpson, 20.000 steps)."""

    def cdf(q: float, df: int) -> float:
        norm = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
        steps = 20_000
        h = q / steps
        density = [norm * (1 + (i * h) ** 2 / df) ** (-(df + 1) / 2) for i in range(steps + 1)]
        area = h / 3 * (density[0] + density[-1] + 4 * sum(density[1:-1:2]) + 2 * sum(density[2:-1:2]))
        return 0.5 + area

    for df in range(1, 31):
        assert cdf(metrics.t_975(df), df) == pytest.approx(0.975, abs=2e-5), df
    assert metrics.t_975(31) == metrics.t_975(500) == 1.96


def test_ors_by_session_means_the_nth_measurement_of_courses_started_in_the_period_with_a_95_band(
    unit_id: int,
) -> None:
    with db.write_session() as s:
        c1 = course(s, unit_id, "S1", date(2024, 2, 1))
        score(s, c1, date(2024, 2, 1), 10, session_no=5)  # the typed number does not count: the order does
        score(s, c1, date(2024, 3, 1), 20, session_no=2)
        course(s, unit_id, "S2", date(2024, 3, 1), ors=((date(2024, 3, 1), 14), (date(2024, 4, 1), 24),
                                                        (date(2024, 5, 1), 30)))
        course(s, unit_id, "S3", date(2024, 4, 1), ors=((date(2024, 4, 1), 18),))
        # started in the period, measured again after its end: the whole series counts
        course(s, unit_id, "S4", date(2024, 6, 1), ors=((date(2024, 6, 1), 12), (date(2024, 7, 15), 22)))
        course(s, unit_id, "S0", date(2023, 12, 1), ors=((date(2024, 2, 1), 40),))  # started before the period

    frame = series("ors_by_session", JAN_1, date(2024, 6, 30))

    first, second = [10, 14, 18, 12], [20, 24, 22]
    half_first = 3.1824 * statistics.stdev(first) / math.sqrt(4)  # t(0.975, 3): a textbook table
    half_second = 4.3027 * statistics.stdev(second) / math.sqrt(3)  # t(0.975, 2); sd 2
    assert list(frame["session"]) == [1, 2, 3]
    assert list(frame["n"]) == [4, 3, 1]
    assert list(frame["mean"]) == [13.5, 22.0, 30.0]
    assert list(frame["low"])[:2] == pytest.approx([13.5 - half_first, 22 - half_second], abs=1e-4)
    assert list(frame["high"])[:2] == pytest.approx([13.5 + half_first, 22 + half_second], abs=1e-4)
    assert (frame["low"][2], frame["high"][2]) == (None, None)  # one measurement: no band


def test_ors_by_session_orders_two_scores_on_one_day_by_session_number_then_entry(unit_id: int) -> None:
    with db.write_session() as s:
        c = course(s, unit_id, "T1", date(2024, 3, 1))
        score(s, c, date(2024, 3, 1), 30, session_no=2)
        score(s, c, date(2024, 3, 1), 10, session_no=1)
        score(s, c, date(2024, 3, 8), 25, session_no=3)
        score(s, c, date(2024, 3, 8), 35, session_no=3)  # a tie in day and number: entered last, so later

    assert list(series("ors_by_session")["mean"]) == [10.0, 30.0, 25.0, 35.0]


def test_ors_by_session_shows_at_most_the_first_twenty_measurements(unit_id: int) -> None:
    with db.write_session() as s:
        c = course(s, unit_id, "L1", date(2024, 1, 1))
        for week in range(22):
            score(s, c, date(2024, 1, 1) + timedelta(weeks=week), week)

    frame = series("ors_by_session")

    assert list(frame["session"]) == list(range(1, 21))
    assert list(frame["mean"]) == [float(week) for week in range(20)]
    assert set(frame["n"]) == {1}


def test_ors_by_session_keeps_to_the_unit_and_the_form_filter(unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        course(s, unit_id, "G1", date(2024, 3, 1), form="group", ors=((date(2024, 3, 1), 20),))
        course(s, unit_id, "I1", date(2024, 3, 1), form="individual", ors=((date(2024, 3, 1), 10),))
        course(s, other, "X1", date(2024, 3, 1), form="group", ors=((date(2024, 3, 1), 40),))

    assert rows(series("ors_by_session", unit_ids=[unit_id])) == [(1, 2, 15.0, pytest.approx(15.0 - 12.7062 * 5),
                                                                     pytest.approx(15.0 + 12.7062 * 5))]
    grouped = series("ors_by_session", unit_ids=[unit_id], filters=Filters(forms=frozenset({"group"})))
    assert rows(grouped) == [(1, 1, 20.0, None, None)]


# ---------------------------------------------------------------------------------------
# 5. Duration histogram

def test_duration_histogram_counts_ended_courses_in_two_week_bins_up_to_26_weeks_and_over(unit_id: int) -> None:
    start = date(2024, 1, 2)
    with db.write_session() as s:
        for ref, days in (("D1", 0), ("D2", 13), ("D3", 14), ("D4", 83), ("D5", 84), ("D6", 181), ("D7", 182),
                          ("D8", 300)):
            course(s, unit_id, ref, start, end=start + timedelta(days=days))
        course(s, unit_id, "D9", date(2023, 1, 2), end=date(2023, 3, 1))  # ended before the period
        course(s, unit_id, "D10", start)  # open

    frame = series("duration_histogram")

    # days / 7: 0 and 13 → [0, 2); 14 → [2, 4); 83 (11,9 weeks) → [10, 12); 84 (12) → [12, 14);
    # 181 (25,9) → [24, 26); 182 (26) and 300 → 26 and over
    expected = dict.fromkeys(BINS, 0) | {(0, 2): 2, (2, 4): 1, (10, 12): 1, (12, 14): 1, (24, 26): 1, (26, 999): 2}
    assert rows(frame) == [(low, high, count) for (low, high), count in expected.items()]
    assert frame["courses"].sum() == kpis()["courses_ended"] == 8


# ---------------------------------------------------------------------------------------
# 6. Referrals by month

def test_referrals_by_month_count_every_month_the_period_touches_by_referrer_and_by_target_group(
    unit_id: int,
) -> None:
    with db.write_session() as s:
        refer(s, unit_id, "R0", date(2024, 2, 9), referrer="jobcenter")  # the day before the period
        refer(s, unit_id, "R1", date(2024, 2, 10), referrer="jobcenter", target_group="social")
        refer(s, unit_id, "R2", date(2024, 2, 29), referrer="socialcenter", target_group="psychic")
        refer(s, unit_id, "R3", date(2024, 4, 10), referrer="other", target_group="psychic")
        refer(s, unit_id, "R4", date(2024, 4, 11), referrer="other")  # after the period
    start, end = date(2024, 2, 10), date(2024, 4, 10)

    frame = series("referrals_by_month", start, end)

    counted = {(month, dimension, code): count for month, dimension, code, count in rows(frame) if count}
    assert counted == {
        (date(2024, 2, 1), "referrer", "jobcenter"): 1, (date(2024, 2, 1), "referrer", "socialcenter"): 1,
        (date(2024, 2, 1), "target_group", "social"): 1, (date(2024, 2, 1), "target_group", "psychic"): 1,
        (date(2024, 4, 1), "referrer", "other"): 1, (date(2024, 4, 1), "target_group", "psychic"): 1,
    }
    assert len(frame) == 3 * (3 + 3)  # February, March, April × every code of both dimensions
    figures = kpis(start, end)
    for dimension, key in (("referrer", "by_referrer"), ("target_group", "by_target_group")):
        part = frame[frame["dimension"] == dimension]
        assert part["count"].sum() == figures["referrals"] == 3
        assert part.groupby("code")["count"].sum().to_dict() == figures[key]


def test_referrals_by_month_apply_the_target_group_filter_and_keep_to_the_unit(unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        refer(s, unit_id, "R1", date(2024, 3, 1), target_group="psychic")
        refer(s, unit_id, "R2", date(2024, 3, 2), target_group="social")
        refer(s, other, "R3", date(2024, 3, 3), target_group="psychic")
    psychic = Filters(target_groups=frozenset({"psychic"}))

    frame = series("referrals_by_month", date(2024, 3, 1), date(2024, 3, 31), [unit_id], filters=psychic)

    assert {(d, c): n for _, d, c, n in rows(frame) if n} == {("referrer", "socialcenter"): 1,
                                                              ("target_group", "psychic"): 1}


# ---------------------------------------------------------------------------------------
# 7. Next steps

def test_next_steps_count_ended_courses_with_a_next_step_per_code_and_share(unit_id: int) -> None:
    with db.write_session() as s:
        for n, step in enumerate(("sel85", "sel85", "other_sel", "job", None)):
            course(s, unit_id, f"N{n}", date(2024, 2, 1), end=date(2024, 5, 1), next_step=step)
        course(s, unit_id, "N9", date(2023, 2, 1), end=date(2023, 5, 1), next_step="none")

    frame = series("next_steps")

    assert rows(frame) == [("none", 0, 0.0), ("sel85", 2, 0.5), ("other_sel", 1, 0.25), ("job", 1, 0.25),
                           ("education", 0, 0.0), ("other", 0, 0.0)]
    assert dict(zip(frame["code"], frame["share"], strict=True)) == kpis()["next_step_share"]


# ---------------------------------------------------------------------------------------
# 8. Group activity

def _groups(unit_id: int) -> None:
    """Four groups and their members; see the test below for what each one shows."""
    with db.write_session() as s:
        def group(name: str, start: date, end: date | None, capacity: int) -> int:
            return services.create_group(s, SYSTEM, unit_id=unit_id, name=name, start=start, end=end,
                                         capacity=capacity).id

        autumn = group("Efterår", date(2023, 11, 1), date(2024, 1, 1), 6)  # ends on the period's first day
        anxiety = group("Angst", date(2024, 1, 8), None, 10)
        monday = group("Mandagsholdet", date(2024, 1, 8), date(2024, 3, 31), 8)
        group("Gammelt", date(2023, 1, 1), date(2023, 12, 31), 8)  # over before the period
        group("Sommer", date(2024, 7, 1), None, 8)  # starts after it
        c5 = start_on(s, unit_id, "C5", date(2023, 11, 1), group_id=autumn, end=date(2023, 12, 20))
        services.add_group_session(s, SYSTEM, group_id=autumn, day=date(2023, 11, 6), present_course_ids=[c5.id])
        c1 = start_on(s, unit_id, "C1", date(2024, 1, 8), group_id=anxiety)
        c2 = start_on(s, unit_id, "C2", date(2024, 1, 8), group_id=anxiety, end=date(2024, 6, 30))
        services.add_group_session(s, SYSTEM, group_id=anxiety, day=date(2024, 1, 8),
                                   present_course_ids=[c1.id, c2.id])
        c3 = start_on(s, unit_id, "C3", date(2024, 2, 1), group_id=anxiety, referrer="jobcenter")
        services.add_group_session(s, SYSTEM, group_id=anxiety, day=date(2024, 2, 5),
                                   present_course_ids=[c1.id, c3.id])
        services.add_group_session(s, SYSTEM, group_id=anxiety, day=date(2024, 7, 1), present_course_ids=[])
        c4 = start_on(s, unit_id, "C4", date(2024, 1, 8), group_id=monday, end=date(2024, 3, 31))
        services.add_group_session(s, SYSTEM, group_id=monday, day=date(2024, 3, 4), present_course_ids=[c4.id])


H1 = (JAN_1, date(2024, 6, 30))


def test_group_activity_lists_the_groups_running_in_the_period_with_members_sessions_and_attendance(
    unit_id: int,
) -> None:
    _groups(unit_id)

    frame = series("group_activity", *H1)

    # Efterår: its one member ended 20.12.2023 and its session was 06.11.2023: nothing in the period.
    # Angst: C1 and C3 active on 30.06 (C2 ends that day); sessions 08.01 (C1, C2 both present) and
    #        05.02 (C1, C3 present, C2 absent): 4 present of 5 registered; 01.07 is after the period.
    # Mandagsholdet: C4 ended 31.03; one session, present.
    assert rows(frame) == [("Efterår", 6, 0, 0, None), ("Angst", 10, 2, 2, 0.8), ("Mandagsholdet", 8, 0, 1, 1.0)]


def test_group_activity_has_no_contact_person_filter_and_no_groups_for_individual_courses(unit_id: int) -> None:
    _groups(unit_id)
    everything = rows(series("group_activity", *H1))

    assert rows(series("group_activity", *H1, filters=Filters(staff_ids=frozenset({12345})))) == everything
    assert rows(series("group_activity", *H1, filters=Filters(forms=frozenset({"group"})))) == everything
    both = Filters(forms=frozenset({"group", "individual"}))
    assert rows(series("group_activity", *H1, filters=both)) == everything
    alone = series("group_activity", *H1, filters=Filters(forms=frozenset({"individual"})))
    assert alone.empty and list(alone.columns) == CONTRACT["group_activity"]


def test_group_activity_counts_members_and_attendance_of_the_filtered_referrer_only(unit_id: int) -> None:
    _groups(unit_id)

    frame = series("group_activity", *H1, filters=Filters(referrers=frozenset({"jobcenter"})))

    # Only C3 came from the Jobcenter: one member, present at the one session it was registered for.
    assert rows(frame) == [("Efterår", 6, 0, 0, None), ("Angst", 10, 1, 2, 1.0), ("Mandagsholdet", 8, 0, 1, None)]


def test_group_activity_never_lists_another_units_groups(unit_id: int) -> None:
    other = second_unit()
    _groups(other)
    with db.write_session() as s:
        services.create_group(s, SYSTEM, unit_id=unit_id, name="Vores", start=date(2024, 3, 1))

    assert rows(series("group_activity", *H1, [unit_id])) == [("Vores", 10, 0, 0, None)]
    leader = Actor(login="leder", role="leader", unit_ids=frozenset({unit_id}))
    assert rows(series("group_activity", *H1, [other], actor=leader)) == []


def test_group_activity_names_each_group_with_its_unit_when_the_groups_are_of_several_units(unit_id: int) -> None:
    """Units name their groups alike; over several units, two groups named "Hold 1" must not
    share one bar of the chart."""
    other = second_unit()
    with db.write_session() as s:
        for unit in (unit_id, other):
            services.create_group(s, SYSTEM, unit_id=unit, name="Hold 1", start=date(2024, 3, 1))
        names = {unit: s.get(Unit, unit).name for unit in (unit_id, other)}  # type: ignore[union-attr]

    both = rows(series("group_activity", *H1, [unit_id, other]))
    assert sorted(row[0] for row in both) == sorted(f"Hold 1 · {names[unit]}" for unit in (unit_id, other))
    assert rows(series("group_activity", *H1, [unit_id])) == [("Hold 1", 10, 0, 0, None)]


# ---------------------------------------------------------------------------------------
# Every series against compute_kpis (and ors_by_session against a plain reading) on random data

def _plain_ors_by_session(start: date, end: date, unit: int) -> list[tuple[int, int, float]]:
    with db.read_session() as s:
        started = {c.id for c in s.exec(select(Course)).all() if c.unit_id == unit and start <= c.start <= end}
        scores = sorted((o for o in s.exec(select(OrsScore)).all() if o.course_id in started),
                        key=lambda o: (o.date, o.session_no, o.id))
    by_ordinal: dict[int, list[float]] = {}
    seen: dict[int, int] = {}
    for o in scores:
        seen[o.course_id] = seen.get(o.course_id, 0) + 1
        total = (o.individual + o.interpersonal + o.social + o.overall) / 10
        by_ordinal.setdefault(seen[o.course_id], []).append(total)
    return [(k, len(v), statistics.fmean(v)) for k, v in sorted(by_ordinal.items()) if k <= 20]


FILTERS = [NO_FILTERS, Filters(referrers=frozenset({"jobcenter", "other"})), Filters(forms=frozenset({"group"})),
           Filters(target_groups=frozenset({"psychic"}), forms=frozenset({"individual"}))]


@pytest.mark.parametrize("seed", [3, 4])
def test_every_series_agrees_with_compute_kpis_on_random_data(unit_id: int, seed: int) -> None:
    _random_unit(unit_id, seed)
    other = second_unit()
    _random_unit(other, seed + 100)

    periods = ((JAN_1, DEC_31), (date(2024, 4, 1), date(2024, 9, 30)), (date(2023, 3, 1), date(2024, 2, 29)),
               (date(2024, 5, 5), date(2024, 6, 20)))
    for (start, end), filters in zip(periods * 2, FILTERS * 2, strict=True):
        def frame(name: str, start: date = start, end: date = end, filters: Filters = filters) -> pd.DataFrame:
            return series(name, start, end, [unit_id], filters=filters)

        figures = kpis(start, end, [unit_id], filters)
        load = rows(frame("load_over_time"))[-1]
        assert load[1:] == (figures["active_at_end"], figures["waiting_at_end"], figures["capacity"])

        quarters = frame("group_share_by_quarter")
        assert quarters["starts"].sum() == figures["courses_started"]
        if figures["courses_started"]:
            assert quarters["group_starts"].sum() / quarters["starts"].sum() == pytest.approx(figures["group_share"])

        pairs = frame("ors_pairs_frame")
        counted = int(pairs["pairs"].sum())
        assert counted == figures["ors_pairs"]
        if counted:
            by_class = pairs.groupby("change_class")["pairs"].sum() / counted
            assert by_class.get("improved", 0) == pytest.approx(figures["reliable_improvement_share"])
            assert by_class.get("deteriorated", 0) == pytest.approx(figures["reliable_deterioration_share"])
            first, last = pairs["first_sum"].sum(), pairs["last_sum"].sum()
            assert ((last - first) / first * 100 if first else None) == pytest.approx(figures["ors_progress_pct"])

        assert frame("duration_histogram")["courses"].sum() == figures["courses_ended"]

        referrals = frame("referrals_by_month")
        for dimension, key in (("referrer", "by_referrer"), ("target_group", "by_target_group")):
            part = referrals[referrals["dimension"] == dimension]
            assert part.groupby("code")["count"].sum().to_dict() == figures[key]

        steps = frame("next_steps")
        assert dict(zip(steps["code"], steps["share"], strict=True)) == pytest.approx(figures["next_step_share"])

        if filters == NO_FILTERS:
            by_session = frame("ors_by_session")
            assert [(k, n, pytest.approx(m)) for k, n, m in _plain_ors_by_session(start, end, unit_id)] == rows(
                by_session[["session", "n", "mean"]])


def test_a_random_unit_actually_exercises_the_series(unit_id: int) -> None:
    """The random data above is not empty where it matters (so the agreements prove something)."""
    _random_unit(unit_id, 3)

    assert len(series("ors_pairs_frame")) > 3
    assert series("duration_histogram")["courses"].sum() > 10
    assert len(series("ors_by_session")) >= 3
