"""The edges of DESIGN §3 that issue 5 names, each worked out by hand, on SQLite and PostgreSQL.

Empty period, a course ending on the period's last day, a single ORS score, two scores on one
day, 29 February, 31 August + 6 months, an active course, a referral decided after the period.
(The plainer cases of each figure are in test_metrics.py.)
"""

from __future__ import annotations

from datetime import date

import pytest

from fokus import codes, db, services
from fokus.actor import SYSTEM
from fokus.clock import add_months
from tests.metrics_reference import DEC_31, JAN_1, course, kpis, refer, score

NOTHING_TO_COMPUTE_FROM = (
    "group_share", "median_wait_days", "median_weeks", "share_12_16_weeks", "ors_progress_pct",
    "reliable_improvement_share", "reliable_deterioration_share", "clinically_significant_share",
    "effect_size", "further_measure_share",
)
ORS_FIGURES = (
    "ors_progress_pct", "reliable_improvement_share", "reliable_deterioration_share",
    "clinically_significant_share", "effect_size",
)


# ---------------------------------------------------------------------------------------
# An empty period

def _unit_with_nothing_from_february_to_march_2024(unit_id: int) -> None:
    with db.write_session() as s:
        services.add_staff(s, SYSTEM, unit_id=unit_id, name="Anna", initials="AN", max_active_courses=12)
        before = course(s, unit_id, "E1", date(2023, 11, 1), received=date(2023, 10, 1), end=date(2024, 1, 31),
                        next_step="job", ors=((date(2023, 11, 1), 10), (date(2024, 1, 31), 20)))
        services.add_network_meeting(s, SYSTEM, course_id=before.id, day=date(2023, 12, 1), participants=3)
        running = course(s, unit_id, "E2", date(2023, 12, 1))  # open all through the period
        services.add_network_meeting(s, SYSTEM, course_id=running.id, day=date(2024, 4, 1), participants=3)
        refer(s, unit_id, "E3", date(2023, 12, 15))  # waiting all through the period
        course(s, unit_id, "E4", date(2024, 4, 20), received=date(2024, 4, 10), end=date(2024, 6, 1))  # after


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2024, 2, 1), date(2024, 3, 31)), (date(2024, 2, 29), date(2024, 2, 29))],
    ids=["two-months", "one-leap-day"],
)
def test_an_empty_period_counts_zero_has_null_shares_and_every_code_yet_keeps_the_state_at_its_end(
    unit_id: int, start: date, end: date
) -> None:
    _unit_with_nothing_from_february_to_march_2024(unit_id)

    figures = kpis(start, end)

    # Nothing received, started, ended or met in the period.
    for key in ("referrals", "from_sel85", "courses_started", "courses_ended", "ors_pairs", "network_meetings",
                "courses_with_network_meeting"):
        assert figures[key] == 0, key
    assert figures["by_referrer"] == {"socialcenter": 0, "jobcenter": 0, "other": 0}
    assert figures["by_target_group"] == {"psychic": 0, "physical": 0, "social": 0}
    # Nothing to compute a share, mean, median or effect size from: null, never 0.
    for key in NOTHING_TO_COMPUTE_FROM:
        assert figures[key] is None, key
    assert figures["next_step_share"] == {
        "none": None, "sel85": None, "other_sel": None, "job": None, "education": None, "other": None,
    }
    # The state on the last day is still there: E2 runs, E3 waits, Anna's 12 places.
    assert (figures["active_at_end"], figures["waiting_at_end"], figures["capacity"]) == (1, 1, 12)
    # Intake window 02.04.2023–31.03.2024 (or 02.03.2023–29.02.2024): E1 (01.11.2023) and E2 (01.12.2023).
    assert figures["intake_12m"] == 2
    # E2 started 01.12.2023: six months end 01.06.2024, not before the last day.
    assert figures["over_6_months"] == 0


# ---------------------------------------------------------------------------------------
# A course ending on the period's last day

def test_a_course_ending_on_the_periods_last_day_has_ended_in_it_and_counts_in_every_ended_figure(
    unit_id: int,
) -> None:
    last_day = date(2024, 6, 30)
    with db.write_session() as s:
        c = course(s, unit_id, "L1", date(2024, 3, 10), received=JAN_1, end=last_day, next_step="education",
                   ors=((date(2024, 3, 10), 12), (last_day, 20)))
        services.add_network_meeting(s, SYSTEM, course_id=c.id, day=date(2024, 5, 1), participants=4)

    on_the_day = kpis(JAN_1, last_day)
    day_before = kpis(JAN_1, date(2024, 6, 29))

    assert (on_the_day["courses_ended"], on_the_day["active_at_end"]) == (1, 0)  # end > d fails on the day
    # 10.03 → 30.06.2024: 21 + 30 + 31 + 30 = 112 days = 16 weeks, inside 12–16.
    assert on_the_day["median_weeks"] == 16.0
    assert on_the_day["share_12_16_weeks"] == 1.0
    # ORS 12 → 20: +8 ≥ RCI 5; (20 − 12) / 12 × 100 = 66.67 %; 20 is still below the cutoff 25.
    assert on_the_day["ors_pairs"] == 1
    assert on_the_day["ors_progress_pct"] == pytest.approx(200 / 3)
    assert on_the_day["reliable_improvement_share"] == 1.0
    assert on_the_day["clinically_significant_share"] == 0.0
    assert on_the_day["next_step_share"] == {
        "none": 0.0, "sel85": 0.0, "other_sel": 0.0, "job": 0.0, "education": 1.0, "other": 0.0,
    }
    assert on_the_day["further_measure_share"] == 0.0
    assert on_the_day["courses_with_network_meeting"] == 1
    # 10.03.2024 + 6 months = 10.09.2024: not over.
    assert on_the_day["over_6_months"] == 0

    # A day earlier the same course is still running and nothing has ended.
    assert (day_before["courses_ended"], day_before["active_at_end"]) == (0, 1)
    assert (day_before["median_weeks"], day_before["ors_pairs"], day_before["courses_with_network_meeting"]) == (
        None, 0, 0,
    )


# ---------------------------------------------------------------------------------------
# ORS: a single score, two scores on one day

def test_a_single_ors_score_is_no_pair_so_every_ors_figure_is_null(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "S1", date(2024, 2, 1), end=date(2024, 5, 1), ors=((date(2024, 2, 1), 14),))
        course(s, unit_id, "S2", date(2024, 2, 1), end=date(2024, 5, 1))  # no score at all

    figures = kpis()

    assert (figures["courses_ended"], figures["ors_pairs"]) == (2, 0)
    for key in ORS_FIGURES:
        assert figures[key] is None, key


def test_two_scores_on_one_day_are_ordered_by_session_number_then_by_entry(unit_id: int) -> None:
    with db.write_session() as s:
        by_session = course(s, unit_id, "T1", date(2024, 3, 1))
        score(s, by_session, date(2024, 3, 1), 30, session_no=2)  # entered first, but session 2: last
        score(s, by_session, date(2024, 3, 1), 18, session_no=1)  # session 1: first
        by_entry = course(s, unit_id, "T2", date(2024, 3, 5))
        score(s, by_entry, date(2024, 3, 5), 22, session_no=1)  # same day, same session: entered first, first
        score(s, by_entry, date(2024, 3, 5), 15, session_no=1)  # entered last: last
        for c in (by_session, by_entry):
            services.end_course(s, SYSTEM, course_id=c.id, end=date(2024, 6, 1), end_reason="completed")

    figures = kpis()

    # Pairs: T1 18 → 30 (+12), T2 22 → 15 (−7).
    assert figures["ors_pairs"] == 2
    # mean first (18 + 22) / 2 = 20, mean last (30 + 15) / 2 = 22.5: (22.5 − 20) / 20 × 100 = 12.5 %.
    assert figures["ors_progress_pct"] == pytest.approx(12.5)
    assert figures["reliable_improvement_share"] == 0.5  # +12 ≥ 5
    assert figures["reliable_deterioration_share"] == 0.5  # −7 ≤ −5
    # Both start below 25; only T1 ends at or above it with a reliable change: 1 of 2.
    assert figures["clinically_significant_share"] == 0.5
    # mean change (12 − 7) / 2 = 2.5; sample SD of 18 and 22 = √((4 + 4) / 1) = 2√2.
    assert figures["effect_size"] == pytest.approx(2.5 / (2 * 2**0.5))


# ---------------------------------------------------------------------------------------
# 29 February

@pytest.mark.parametrize(("end", "over"), [(date(2024, 8, 29), 0), (date(2024, 8, 30), 1)])
def test_a_course_started_on_29_february_reaches_six_months_on_29_august(unit_id: int, end: date, over: int) -> None:
    assert add_months(date(2024, 2, 29), 6) == date(2024, 8, 29)
    with db.write_session() as s:
        course(s, unit_id, "F1", date(2024, 2, 29), end=end)

    # Ended on 29.08: not later than start + 6 months; on 30.08: later.
    assert kpis(date(2024, 8, 1), date(2024, 8, 31))["over_6_months"] == over


@pytest.mark.parametrize(("last_day", "over"), [(date(2024, 8, 29), 0), (date(2024, 8, 30), 1)])
def test_an_open_course_started_on_29_february_is_over_six_months_from_30_august(
    unit_id: int, last_day: date, over: int
) -> None:
    with db.write_session() as s:
        course(s, unit_id, "F1", date(2024, 2, 29))

    # Over when 29.08.2024 lies before the last day.
    figures = kpis(date(2024, 8, 1), last_day)

    assert (figures["active_at_end"], figures["over_6_months"]) == (1, over)


def test_a_period_ending_on_28_february_leaves_out_what_happens_on_the_29th(unit_id: int) -> None:
    with db.write_session() as s:
        refer(s, unit_id, "P1", date(2024, 2, 29))
        course(s, unit_id, "P2", date(2024, 2, 29), received=date(2024, 1, 15), form="individual")
        course(s, unit_id, "P3", date(2024, 1, 2), end=date(2024, 2, 29))

    to_28th = kpis(date(2024, 2, 1), date(2024, 2, 28))
    to_29th = kpis(date(2024, 2, 1), date(2024, 2, 29))

    # Up to 28.02: nothing received, started or ended in February; P3 still runs; P2's referral still waits.
    assert (to_28th["referrals"], to_28th["courses_started"], to_28th["courses_ended"]) == (0, 0, 0)
    assert (to_28th["active_at_end"], to_28th["waiting_at_end"]) == (1, 1)
    # Up to 29.02: P1 received, P2 started (individual), P3 ended.
    assert (to_29th["referrals"], to_29th["courses_started"], to_29th["courses_ended"]) == (1, 1, 1)
    assert to_29th["group_share"] == 0.0
    assert to_29th["median_wait_days"] == 45  # 15.01 → 29.02: 16 + 29 days
    assert to_29th["median_weeks"] == pytest.approx(58 / 7)  # 02.01 → 29.02: 29 + 29 days
    # P2 runs (P3 ended on the day); P1 waits (P2's referral was decided on the day).
    assert (to_29th["active_at_end"], to_29th["waiting_at_end"]) == (1, 1)


@pytest.mark.parametrize(
    ("last_day", "intake"),
    [
        (date(2024, 2, 29), 3),  # window 02.03.2023–29.02.2024: 02.03.2023, 01.01.2024, 02.01.2024
        (date(2024, 12, 31), 2),  # window 02.01.2024–31.12.2024 (366 days in 2024): 02.01, 01.03.2024
        (date(2025, 2, 28), 1),  # window 01.03.2024–28.02.2025: 01.03.2024
    ],
)
def test_the_intake_window_is_365_days_even_when_it_holds_29_february(
    unit_id: int, last_day: date, intake: int
) -> None:
    with db.write_session() as s:
        for n, start in enumerate((date(2023, 3, 1), date(2023, 3, 2), date(2024, 1, 1), date(2024, 1, 2),
                                   date(2024, 3, 1))):
            course(s, unit_id, f"V{n}", start, end=start)

    assert kpis(last_day, last_day)["intake_12m"] == intake


# ---------------------------------------------------------------------------------------
# 31 August + 6 months in a year without 29 February (the leap year is in test_metrics.py)

def test_six_months_from_29_30_and_31_august_2024_all_end_on_28_february_2025(unit_id: int) -> None:
    starts = (date(2024, 8, 29), date(2024, 8, 30), date(2024, 8, 31))
    assert {add_months(start, 6) for start in starts} == {date(2025, 2, 28)}
    with db.write_session() as s:
        for n, start in enumerate(starts):
            course(s, unit_id, f"A{n}", start)

    on_28th = kpis(date(2025, 2, 1), date(2025, 2, 28))
    on_1st = kpis(date(2025, 2, 1), date(2025, 3, 1))

    assert (on_28th["active_at_end"], on_28th["over_6_months"]) == (3, 0)  # 28.02 is not before 28.02
    assert (on_1st["active_at_end"], on_1st["over_6_months"]) == (3, 3)


@pytest.mark.parametrize(("end", "over"), [(date(2025, 2, 28), 0), (date(2025, 3, 1), 1)])
def test_a_course_from_31_august_2024_ending_after_28_february_2025_ran_over_six_months(
    unit_id: int, end: date, over: int
) -> None:
    with db.write_session() as s:
        course(s, unit_id, "A1", date(2024, 8, 31), end=end)

    assert kpis(date(2025, 2, 1), date(2025, 3, 31))["over_6_months"] == over


# ---------------------------------------------------------------------------------------
# An active course

def test_an_active_course_counts_as_running_but_in_no_figure_of_ended_courses(unit_id: int) -> None:
    with db.write_session() as s:
        new = course(s, unit_id, "A1", date(2024, 3, 1), received=date(2024, 2, 20), form="individual",
                     ors=((date(2024, 3, 1), 15), (date(2024, 4, 1), 25)))
        services.add_network_meeting(s, SYSTEM, course_id=new.id, day=date(2024, 4, 15), participants=5)
        course(s, unit_id, "A2", date(2023, 6, 15))  # open since before the period

    figures = kpis(JAN_1, date(2024, 6, 30))

    assert (figures["courses_started"], figures["active_at_end"], figures["courses_ended"]) == (1, 2, 0)
    assert figures["group_share"] == 0.0
    assert figures["median_wait_days"] == 10  # 20.02 → 01.03.2024: 9 + 1 days
    # A1's two scores make no pair while it runs; nothing has ended, so no weeks or next step.
    assert figures["ors_pairs"] == 0
    for key in ("median_weeks", "share_12_16_weeks", "further_measure_share", *ORS_FIGURES):
        assert figures[key] is None, key
    assert figures["next_step_share"] == dict.fromkeys(codes.NEXT_STEPS)
    # A1's meeting was held in the period; no ended course had one.
    assert (figures["network_meetings"], figures["courses_with_network_meeting"]) == (1, 0)
    # A2: 15.06.2023 + 6 months = 15.12.2023, before 30.06.2024. A1: 01.09.2024, not.
    assert figures["over_6_months"] == 1
    # Window 02.07.2023–30.06.2024: A1 only.
    assert figures["intake_12m"] == 1


# ---------------------------------------------------------------------------------------
# A referral decided after the period

def test_a_referral_decided_after_the_period_waits_at_its_end_and_its_later_start_has_no_wait_in_it(
    unit_id: int,
) -> None:
    with db.write_session() as s:
        course(s, unit_id, "D1", date(2024, 7, 10), received=date(2024, 5, 20))  # decided (started) after June
        rejected = refer(s, unit_id, "D2", date(2024, 6, 1))
        services.decide_referral(s, SYSTEM, referral_id=rejected.id, status="rejected", decided=date(2024, 7, 1),
                                 reason="declined")
        course(s, unit_id, "D3", date(2024, 6, 11), received=date(2024, 6, 1))

    june = kpis(date(2024, 6, 1), date(2024, 6, 30))
    may_to_july = kpis(date(2024, 5, 1), date(2024, 7, 31))

    # June: D2 and D3 received; D1 (decided 10.07) and D2 (decided 01.07) wait on 30.06.
    assert (june["referrals"], june["waiting_at_end"]) == (2, 2)
    # Only D3 started in June: its 10 days are the median, D1's 51 are not in it.
    assert (june["courses_started"], june["median_wait_days"]) == (1, 10)
    # May–July: all three received; D1 started 10.07 after 20.05 → 10.07 = 11 + 30 + 10 = 51 days.
    assert (may_to_july["referrals"], may_to_july["waiting_at_end"]) == (3, 0)
    assert (may_to_july["courses_started"], may_to_july["median_wait_days"]) == (2, (10 + 51) / 2)


def test_a_period_of_a_whole_year_is_read_with_both_days_included(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "Y1", JAN_1, end=DEC_31)

    figures = kpis(JAN_1, DEC_31)

    # 01.01 → 31.12.2024 is 365 days (366 days in the year, both ends included).
    assert (figures["courses_started"], figures["courses_ended"]) == (1, 1)
    assert figures["median_weeks"] == pytest.approx(365 / 7)
    # 01.01.2024 + 6 months = 01.07.2024; ended 31.12.2024, later.
    assert figures["over_6_months"] == 1
    # The 365-day intake window of a leap year ending 31.12 starts 02.01: this start is not in it.
    assert figures["intake_12m"] == 0
