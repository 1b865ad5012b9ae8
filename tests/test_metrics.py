"""The metric definitions of DESIGN §3 and the `kpi` command of §4, on SQLite and PostgreSQL.

Data is built through the service layer, as the app builds it (helpers in
tests/metrics_reference.py); every date is in 2023–2024, so in the past. ORS scores are given as
totals in points and spread over the four items.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from fokus import codes, db, metrics, services
from fokus.actor import SYSTEM, Actor
from fokus.clock import add_months
from fokus.errors import NotFoundError, ValidationError
from fokus.models import Staff
from tests.metrics_reference import (
    DEC_31,
    JAN_1,
    course,
    ended,
    flat,
    kpis,
    plain_reading,
    refer,
    score,
    second_unit,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DESIGN_KEYS = {
    "referrals", "by_referrer", "by_target_group", "from_sel85", "courses_started", "courses_ended",
    "active_at_end", "waiting_at_end", "capacity", "intake_12m", "group_share", "median_wait_days",
    "median_weeks", "share_12_16_weeks", "over_6_months", "ors_pairs", "ors_progress_pct",
    "reliable_improvement_share", "reliable_deterioration_share", "clinically_significant_share",
    "effect_size", "next_step_share", "further_measure_share", "network_meetings",
    "courses_with_network_meeting",
}


# ---------------------------------------------------------------------------------------
# The contract

def test_kpis_have_exactly_the_keys_of_the_design_and_nothing_is_null_or_zero_by_accident(unit_id: int) -> None:
    figures = kpis()

    assert set(figures) == DESIGN_KEYS == set(metrics.KPI_KEYS)
    assert figures["by_referrer"] == {"socialcenter": 0, "jobcenter": 0, "other": 0}
    assert figures["by_target_group"] == {"psychic": 0, "physical": 0, "social": 0}
    assert figures["next_step_share"] == dict.fromkeys(codes.NEXT_STEPS)
    counts = ("referrals", "from_sel85", "courses_started", "courses_ended", "active_at_end", "waiting_at_end",
              "capacity", "intake_12m", "over_6_months", "ors_pairs", "network_meetings",
              "courses_with_network_meeting")
    assert {key: figures[key] for key in counts} == dict.fromkeys(counts, 0)
    nulls = set(DESIGN_KEYS) - set(counts) - {"by_referrer", "by_target_group", "next_step_share"}
    assert {key: figures[key] for key in nulls} == dict.fromkeys(nulls)
    json.dumps(figures)


def test_compute_kpis_refuses_a_period_that_ends_before_it_starts(unit_id: int) -> None:
    with pytest.raises(ValidationError, match="byt om"):
        kpis(DEC_31, JAN_1)


# ---------------------------------------------------------------------------------------
# Referrals and the waiting list

def test_referrals_count_those_received_in_the_period_both_days_included_by_every_code(unit_id: int) -> None:
    with db.write_session() as s:
        refer(s, unit_id, "B1", date(2023, 12, 31))
        refer(s, unit_id, "B2", JAN_1, referrer="jobcenter", target_group="social", from_sel85=True)
        refer(s, unit_id, "B3", date(2024, 6, 1), referrer="jobcenter", target_group="psychic")
        refer(s, unit_id, "B4", date(2024, 6, 30), referrer="other", target_group="psychic", from_sel85=True)

    figures = kpis(JAN_1, date(2024, 6, 30))

    assert figures["referrals"] == 3
    assert figures["by_referrer"] == {"socialcenter": 0, "jobcenter": 2, "other": 1}
    assert figures["by_target_group"] == {"psychic": 2, "physical": 0, "social": 1}
    assert figures["from_sel85"] == 2


def test_a_referral_is_waiting_on_a_day_until_the_day_it_is_decided(unit_id: int) -> None:
    day = date(2024, 6, 30)
    with db.write_session() as s:
        refer(s, unit_id, "W1", date(2024, 3, 1))  # still waiting
        course(s, unit_id, "W2", date(2024, 7, 1), received=date(2024, 3, 1))  # decided after the day
        course(s, unit_id, "W3", day, received=date(2024, 3, 1))  # decided on the day: gone
        rejected = refer(s, unit_id, "W4", date(2024, 3, 1))
        services.decide_referral(s, SYSTEM, referral_id=rejected.id, status="rejected", decided=date(2024, 7, 2),
                                 reason="declined")
        refer(s, unit_id, "W5", date(2024, 7, 1))  # received after the day

    assert kpis(JAN_1, day)["waiting_at_end"] == 3


# ---------------------------------------------------------------------------------------
# Courses: started, ended, active, capacity, intake

def test_courses_started_and_ended_count_both_days_of_the_period(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "C1", date(2023, 12, 31), end=JAN_1)
        course(s, unit_id, "C2", JAN_1, end=date(2024, 6, 30))
        course(s, unit_id, "C3", date(2024, 6, 30), end=date(2024, 7, 1))

    figures = kpis(JAN_1, date(2024, 6, 30))

    assert (figures["courses_started"], figures["courses_ended"]) == (2, 2)


def test_a_course_ending_on_the_last_day_is_not_active_on_it(unit_id: int) -> None:
    day = date(2024, 6, 30)
    with db.write_session() as s:
        course(s, unit_id, "A1", date(2024, 1, 10), end=day)  # not active: end > d fails
        course(s, unit_id, "A2", date(2024, 1, 10), end=date(2024, 7, 1))  # active
        course(s, unit_id, "A3", day)  # starts on the day, open: active
        course(s, unit_id, "A4", date(2024, 7, 1))  # starts after

    assert kpis(JAN_1, day)["active_at_end"] == 2


def test_capacity_sums_the_limits_of_the_active_staff_of_the_unit(unit_id: int) -> None:
    with db.write_session() as s:
        services.add_staff(s, SYSTEM, unit_id=unit_id, name="Anna", initials="AN", max_active_courses=15)
        services.add_staff(s, SYSTEM, unit_id=unit_id, name="Bo", initials="BO", max_active_courses=12)
        gone = services.add_staff(s, SYSTEM, unit_id=unit_id, name="Carl", initials="CA", max_active_courses=20)
        gone_id = gone.id
    with db.write_session() as s:  # no service deactivates staff yet
        staff = s.get(Staff, gone_id)
        assert staff is not None
        staff.active = False
        s.add(staff)

    assert kpis()["capacity"] == 27


def test_intake_12m_counts_starts_in_the_365_days_up_to_the_periods_end(unit_id: int) -> None:
    end = date(2024, 12, 31)
    with db.write_session() as s:
        course(s, unit_id, "I1", end - timedelta(days=365), end=end - timedelta(days=300))  # one day too early
        course(s, unit_id, "I2", end - timedelta(days=364), end=end - timedelta(days=300))
        course(s, unit_id, "I3", end)
        course(s, unit_id, "I4", date(2024, 5, 1), end=date(2024, 6, 1))
        refer(s, unit_id, "I5", date(2024, 5, 1))

    figures = kpis(date(2024, 12, 1), end)

    assert figures["intake_12m"] == 3
    assert figures["courses_started"] == 1


def test_a_citizen_who_starts_twice_counts_twice_in_the_intake(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "T1", date(2024, 2, 1), end=date(2024, 3, 1))
        course(s, unit_id, "T1", date(2024, 6, 1), received=date(2024, 5, 1))

    assert kpis()["intake_12m"] == 2


def test_group_share_counts_only_courses_started_in_period(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "G1", date(2023, 12, 1), form="individual")
        course(s, unit_id, "G2", date(2024, 2, 1), form="group")
        course(s, unit_id, "G3", date(2024, 3, 1), form="group")
        course(s, unit_id, "G4", date(2024, 4, 1), form="group")
        course(s, unit_id, "G5", date(2024, 5, 1), form="individual")

    assert kpis()["group_share"] == 0.75


def test_median_wait_days_of_an_even_count_is_the_mean_of_the_two_middle_values(unit_id: int) -> None:
    with db.write_session() as s:
        for ref, wait in (("M1", 3), ("M2", 10), ("M3", 11), ("M4", 40)):
            start = date(2024, 3, 1)
            course(s, unit_id, ref, start, received=start - timedelta(days=wait))
        course(s, unit_id, "M5", date(2023, 12, 1), received=date(2023, 1, 1))  # started before the period

    assert kpis()["median_wait_days"] == 10.5


def test_median_wait_days_of_an_odd_count_is_the_middle_value(unit_id: int) -> None:
    with db.write_session() as s:
        for ref, wait in (("M1", 0), ("M2", 7), ("M3", 30)):
            course(s, unit_id, ref, date(2024, 3, 1), received=date(2024, 3, 1) - timedelta(days=wait))

    assert kpis()["median_wait_days"] == 7


def test_weeks_of_ended_courses_give_the_median_and_the_share_of_12_to_16_weeks(unit_id: int) -> None:
    start = date(2024, 1, 1)
    with db.write_session() as s:
        for ref, days in (("W1", 83), ("W2", 84), ("W3", 112), ("W4", 113)):
            course(s, unit_id, ref, start, end=start + timedelta(days=days))
        course(s, unit_id, "W5", date(2024, 1, 2))  # open: not in the weeks figures

    figures = kpis()

    assert figures["median_weeks"] == pytest.approx((84 + 112) / 2 / 7)
    assert figures["share_12_16_weeks"] == 0.5


@pytest.mark.parametrize(
    ("end", "over"),
    [(date(2024, 2, 29), 0), (date(2024, 3, 1), 1)],
)
def test_six_months_from_31_august_end_on_the_last_of_february(unit_id: int, end: date, over: int) -> None:
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    with db.write_session() as s:
        course(s, unit_id, "S1", date(2023, 8, 31), end=end)

    assert kpis(date(2024, 2, 1), date(2024, 3, 31))["over_6_months"] == over


@pytest.mark.parametrize(
    ("last_day", "over"),
    [(date(2024, 2, 29), 0), (date(2024, 3, 1), 1)],
)
def test_an_active_course_is_over_six_months_when_its_six_months_ended_before_the_last_day(
    unit_id: int, last_day: date, over: int
) -> None:
    with db.write_session() as s:
        course(s, unit_id, "S1", date(2023, 8, 31))
        course(s, unit_id, "S2", date(2023, 9, 1))  # six months end 1 March
        course(s, unit_id, "S3", date(2023, 1, 1), end=date(2023, 12, 1))  # ended before the period

    figures = kpis(date(2024, 2, 1), last_day)

    assert figures["over_6_months"] == over
    assert figures["active_at_end"] == 2


# ---------------------------------------------------------------------------------------
# ORS

def test_first_and_last_ors_are_ordered_by_date_then_session_number_then_entry(unit_id: int) -> None:
    with db.write_session() as s:
        c = course(s, unit_id, "O1", date(2024, 1, 8))
        score(s, c, date(2024, 1, 8), 20, session_no=2)
        score(s, c, date(2024, 1, 8), 16, session_no=1)  # the same day, an earlier session: first
        score(s, c, date(2024, 3, 1), 30, session_no=3)
        score(s, c, date(2024, 3, 1), 24, session_no=3)  # a tie in day and session: entered last, so last
        score(s, c, date(2024, 2, 1), 39, session_no=9)  # a later session number, an earlier day
        services.end_course(s, SYSTEM, course_id=c.id, end=date(2024, 4, 1), end_reason="completed")

    figures = kpis()

    assert figures["ors_pairs"] == 1
    assert figures["ors_progress_pct"] == pytest.approx((24 - 16) / 16 * 100)
    assert figures["reliable_improvement_share"] == 1.0


def test_ors_pairs_are_ended_courses_in_the_period_with_at_least_two_scores(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "P1", 10, 20)
        course(s, unit_id, "P2", date(2024, 2, 1), end=date(2024, 3, 1), ors=((date(2024, 2, 1), 10),))
        course(s, unit_id, "P3", date(2024, 2, 1), ors=((date(2024, 2, 1), 10), (date(2024, 3, 1), 30)))
        course(s, unit_id, "P4", date(2023, 2, 1), end=date(2023, 3, 1),
               ors=((date(2023, 2, 1), 10), (date(2023, 3, 1), 30)))

    figures = kpis()

    assert figures["ors_pairs"] == 1
    assert figures["ors_progress_pct"] == 100.0


def test_ors_progress_is_the_change_of_the_means_in_percent_of_the_first_mean(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "P1", 10, 20)
        ended(s, unit_id, "P2", 20.5, 20)
        ended(s, unit_id, "P3", 30, 24.3)

    mean_first, mean_last = (10 + 20.5 + 30) / 3, (20 + 20 + 24.3) / 3

    assert kpis()["ors_progress_pct"] == pytest.approx((mean_last - mean_first) / mean_first * 100)


def test_reliable_change_is_at_least_rci_either_way_exactly_in_tenths(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "R1", 10, 15)  # +5.0: improved
        ended(s, unit_id, "R2", 10, 14.9)  # +4.9: not
        ended(s, unit_id, "R3", 20, 15)  # −5.0: deteriorated
        ended(s, unit_id, "R4", 20, 15.1)  # −4.9: not

    figures = kpis()

    assert figures["reliable_improvement_share"] == 0.25
    assert figures["reliable_deterioration_share"] == 0.25


def test_reliable_change_uses_the_rci_in_force_on_the_periods_last_day(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "R1", 10, 16)  # +6
        ended(s, unit_id, "R2", 10, 17.5)  # +7.5
        services.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=date(2024, 6, 1), rci=7.5, ors_cutoff=17.5)
        services.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=date(2025, 1, 1), rci=1.0)

    assert kpis(JAN_1, date(2024, 5, 31))["reliable_improvement_share"] == 1.0
    after = kpis(JAN_1, DEC_31)
    assert after["reliable_improvement_share"] == 0.5
    assert after["clinically_significant_share"] == 0.5


def test_clinically_significant_counts_pairs_from_below_the_cutoff_to_it_with_reliable_change(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "K1", 20, 25)  # below → at the cutoff, +5: yes
        ended(s, unit_id, "K2", 22, 26)  # below → above, but +4: no
        ended(s, unit_id, "K3", 10, 24.9)  # reliable, still below: no
        ended(s, unit_id, "K4", 25, 35)  # started at the cutoff: not in the base

    assert kpis()["clinically_significant_share"] == pytest.approx(1 / 3)


def test_clinically_significant_share_is_null_when_no_pair_starts_below_the_cutoff(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "K1", 30, 35)

    figures = kpis()

    assert figures["ors_pairs"] == 1
    assert figures["clinically_significant_share"] is None


def test_effect_size_is_the_mean_change_over_the_sample_sd_of_the_first_scores(unit_id: int) -> None:
    pairs = ((10, 20), (14, 19.5), (21, 22))
    with db.write_session() as s:
        for n, (first, last) in enumerate(pairs):
            ended(s, unit_id, f"E{n}", first, last)

    expected = statistics.fmean(last - first for first, last in pairs) / statistics.stdev(f for f, _ in pairs)

    assert kpis()["effect_size"] == pytest.approx(expected)


def test_effect_size_is_null_with_one_pair_or_no_spread_in_the_first_scores(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "E1", 12, 20)
    assert kpis()["effect_size"] is None

    with db.write_session() as s:
        ended(s, unit_id, "E2", 12, 30)
    figures = kpis()
    assert figures["ors_pairs"] == 2
    assert figures["effect_size"] is None


def test_ors_progress_is_null_when_every_first_score_is_zero(unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "Z1", 0, 10)

    assert kpis()["ors_progress_pct"] is None


# ---------------------------------------------------------------------------------------
# Next steps and network meetings

def test_next_step_share_has_every_code_over_ended_courses_with_a_next_step(unit_id: int) -> None:
    with db.write_session() as s:
        for n, step in enumerate(("sel85", "sel85", "other_sel", "job", None)):
            course(s, unit_id, f"N{n}", date(2024, 2, 1), end=date(2024, 5, 1), next_step=step)
        course(s, unit_id, "N9", date(2023, 2, 1), end=date(2023, 5, 1), next_step="none")

    figures = kpis()

    assert figures["next_step_share"] == {
        "none": 0.0, "sel85": 0.5, "other_sel": 0.25, "job": 0.25, "education": 0.0, "other": 0.0,
    }
    assert figures["further_measure_share"] == 0.75


def test_next_step_shares_are_null_when_no_ended_course_has_a_next_step(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "N1", date(2024, 2, 1), end=date(2024, 5, 1))

    figures = kpis()

    assert figures["courses_ended"] == 1
    assert figures["next_step_share"] == dict.fromkeys(codes.NEXT_STEPS)
    assert figures["further_measure_share"] is None


def test_network_meetings_count_meetings_held_in_the_period_and_ended_courses_with_any(unit_id: int) -> None:
    with db.write_session() as s:
        early = course(s, unit_id, "D1", date(2023, 11, 1), end=date(2024, 2, 1))
        services.add_network_meeting(s, SYSTEM, course_id=early.id, day=date(2023, 12, 1), participants=4)
        running = course(s, unit_id, "D2", date(2024, 1, 1))
        services.add_network_meeting(s, SYSTEM, course_id=running.id, day=JAN_1, participants=3)
        services.add_network_meeting(s, SYSTEM, course_id=running.id, day=DEC_31, participants=3)
        course(s, unit_id, "D3", date(2024, 1, 1), end=date(2024, 3, 1))

    figures = kpis()

    assert figures["network_meetings"] == 2
    assert figures["courses_with_network_meeting"] == 1


# ---------------------------------------------------------------------------------------
# Scope: never wider than the units the actor sees

def _fill_both(unit_id: int, other: int) -> None:
    with db.write_session() as s:
        for unit, prefix, count in ((unit_id, "A", 1), (other, "B", 2)):
            services.add_staff(s, SYSTEM, unit_id=unit, name="Medarbejder", initials="XY", max_active_courses=10)
            for n in range(count):
                c = ended(s, unit, f"{prefix}{n}", 10, 20, referrer="jobcenter", next_step="job")
                services.add_network_meeting(s, SYSTEM, course_id=c.id, day=date(2024, 3, 1), participants=2)
                course(s, unit, f"{prefix}{n}-open", date(2024, 6, 1))
                refer(s, unit, f"{prefix}{n}-waiting", date(2024, 6, 1))


def test_a_second_units_data_is_never_counted_for_the_first(unit_id: int) -> None:
    other = second_unit()
    _fill_both(unit_id, other)

    mine, both = kpis(unit_ids=[unit_id]), kpis()

    assert (mine["referrals"], both["referrals"]) == (3, 9)
    assert (mine["courses_started"], both["courses_started"]) == (2, 6)
    assert (mine["waiting_at_end"], both["waiting_at_end"]) == (1, 3)
    assert (mine["capacity"], both["capacity"]) == (10, 20)
    assert (mine["ors_pairs"], both["ors_pairs"]) == (1, 3)
    assert (mine["network_meetings"], both["network_meetings"]) == (1, 3)
    assert (mine["courses_with_network_meeting"], mine["by_referrer"]["jobcenter"]) == (1, 1)


def test_an_actor_limited_to_a_unit_never_sees_more_even_when_asking_for_more(unit_id: int) -> None:
    other = second_unit()
    _fill_both(unit_id, other)
    leader = Actor(login="leder", role="leader", unit_ids=frozenset({unit_id}))

    assert kpis(actor=leader) == kpis(unit_ids=[unit_id])
    assert kpis(actor=leader, unit_ids=[unit_id, other]) == kpis(unit_ids=[unit_id])
    nothing = kpis(actor=leader, unit_ids=[other])
    assert (nothing["referrals"], nothing["capacity"], nothing["ors_pairs"]) == (0, 0, 0)


def test_each_pair_is_judged_by_its_own_units_targets(unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        services.set_targets(s, SYSTEM, unit_id=other, valid_from=JAN_1, rci=8.0)
        ended(s, unit_id, "U1", 10, 16)  # +6 ≥ 5: improved in its unit
        ended(s, other, "U2", 10, 16)  # +6 < 8: not in the other

    assert kpis()["reliable_improvement_share"] == 0.5


# ---------------------------------------------------------------------------------------
# Targets, months, previous period

def test_targets_for_a_unit_are_the_latest_valid_on_the_day(unit_id: int) -> None:
    with db.write_session() as s:
        services.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=date(2024, 7, 1), intake_min=100,
                             intake_max=120, group_share=0.6, ors_cutoff=24.5, rci=6.0)
    with db.read_session() as s:
        before = metrics.targets_for(s, [unit_id], date(2024, 6, 30))
        on = metrics.targets_for(s, [unit_id], date(2024, 7, 1))

    assert before == metrics.DEFAULT_TARGETS
    assert (on.intake_min, on.intake_max, on.group_share, on.ors_cutoff, on.rci) == (100, 120, 0.6, 24.5, 6.0)


def test_targets_for_several_units_add_intake_and_leave_differing_targets_empty(unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        services.set_targets(s, SYSTEM, unit_id=other, valid_from=JAN_1, intake_min=50, intake_max=60,
                             group_share=0.5, jobcenter_quota=40)
    with db.read_session() as s:
        combined = metrics.targets_for(s, None, DEC_31)

    assert (combined.intake_min, combined.intake_max, combined.jobcenter_quota) == (200, 260, 160)
    assert combined.group_share is None
    assert (combined.weeks_min, combined.weeks_max, combined.rci, combined.ors_cutoff) == (12, 16, 5.0, 25.0)


def test_monthly_starts_list_every_month_of_the_period_with_zeros(unit_id: int) -> None:
    with db.write_session() as s:
        course(s, unit_id, "Y0", date(2024, 1, 31), form="group")  # before the period
        course(s, unit_id, "Y1", date(2024, 2, 15), form="group")
        course(s, unit_id, "Y2", date(2024, 2, 29), form="individual")
        course(s, unit_id, "Y3", date(2024, 4, 1), form="group")
        course(s, unit_id, "Y4", date(2024, 4, 11), form="group")  # after the period
    with db.read_session() as s:
        months = metrics.monthly_starts(s, SYSTEM, date(2024, 2, 10), date(2024, 4, 10))

    assert months == [(date(2024, 2, 1), 2, 1), (date(2024, 3, 1), 0, 0), (date(2024, 4, 1), 1, 1)]


def test_monthly_starts_keep_to_the_actors_units(unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        course(s, other, "Y1", date(2024, 2, 15))
    leader = Actor(login="leder", role="leader", unit_ids=frozenset({unit_id}))
    with db.read_session() as s:
        assert metrics.monthly_starts(s, leader, date(2024, 2, 1), date(2024, 2, 29)) == [(date(2024, 2, 1), 0, 0)]


def test_the_previous_period_has_as_many_days_and_ends_the_day_before() -> None:
    assert metrics.previous_period(date(2024, 3, 1), date(2024, 3, 31)) == (date(2024, 1, 30), date(2024, 2, 29))
    assert metrics.previous_period(JAN_1, JAN_1) == (date(2023, 12, 31), date(2023, 12, 31))


@pytest.mark.parametrize("day", [date(2024, 3, 1), date(2024, 3, 31), date(2023, 8, 31), date(2024, 12, 1)])
def test_last_start_over_six_months_is_the_boundary_of_add_months(day: date) -> None:
    boundary = metrics._last_start_over(day, 6)

    assert add_months(boundary, 6) < day <= add_months(boundary + timedelta(days=1), 6)


# ---------------------------------------------------------------------------------------
# One reading of the definitions in plain Python, against the SQL, on a random unit

def _random_unit(unit_id: int, seed: int) -> None:
    rng = random.Random(seed)
    horizon = date(2024, 12, 31)
    with db.write_session() as s:
        services.add_staff(s, SYSTEM, unit_id=unit_id, name="Anna", initials="AN", max_active_courses=14)
        services.set_targets(s, SYSTEM, unit_id=unit_id, valid_from=date(2024, 7, 1), rci=4.5, ors_cutoff=24.0)
        for n in range(40):
            received = date(2023, 1, 1) + timedelta(days=rng.randrange(700))
            referral = refer(
                s, unit_id, f"R{n}", received, referrer=rng.choice(list(codes.REFERRERS)),
                target_group=rng.choice(list(codes.TARGET_GROUPS)), from_sel85=rng.random() < 0.2,
            )
            fate = rng.random()
            if fate < 0.15:
                continue
            decided = min(received + timedelta(days=rng.randrange(60)), horizon)
            if fate < 0.25:
                services.decide_referral(s, SYSTEM, referral_id=referral.id, status="withdrawn", decided=decided,
                                         reason="declined")
                continue
            c = services.start_course(s, SYSTEM, referral_id=referral.id, start=decided,
                                      form=rng.choice(list(codes.FORMS)))
            last_day = min(decided + timedelta(days=rng.randrange(30, 260)), horizon)
            days = sorted(decided + timedelta(days=rng.randrange((last_day - decided).days + 1))
                          for _ in range(rng.randrange(5)))
            for day in days:
                score(s, c, day, rng.randrange(0, 401) / 10, session_no=rng.randrange(1, 4))
            if rng.random() < 0.3:
                services.add_network_meeting(s, SYSTEM, course_id=c.id, day=rng.choice([decided, last_day]),
                                             participants=3)
            if rng.random() < 0.8:
                services.end_course(s, SYSTEM, course_id=c.id, end=last_day, end_reason="completed",
                                    next_step=rng.choice([None, *codes.NEXT_STEPS]))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_sql_agrees_with_a_plain_reading_of_the_definitions(unit_id: int, seed: int) -> None:
    _random_unit(unit_id, seed)
    other = second_unit()
    _random_unit(other, seed + 100)

    for start, end in ((JAN_1, DEC_31), (date(2024, 4, 1), date(2024, 9, 30)), (date(2023, 3, 1), date(2024, 2, 29))):
        assert flat(kpis(start, end, unit_ids=[unit_id])) == pytest.approx(flat(plain_reading(start, end, unit_id)))


# ---------------------------------------------------------------------------------------
# The command line

def test_kpis_for_cli_refuses_an_unknown_unit_naming_the_known_ones(unit_id: int) -> None:
    with pytest.raises(NotFoundError, match="Kendte enheder: FOKUS Test"):
        metrics.kpis_for_cli(start=JAN_1, end=DEC_31, unit_name="Ukendt")


def test_kpis_for_cli_refuses_a_period_ending_before_it_starts(unit_id: int) -> None:
    with pytest.raises(ValidationError, match="--from"):
        metrics.kpis_for_cli(start=DEC_31, end=JAN_1, unit_name=None)


def test_kpis_for_cli_for_a_unit_by_name_equals_compute_kpis_for_it(unit_id: int) -> None:
    other = second_unit()
    _fill_both(unit_id, other)

    assert metrics.kpis_for_cli(start=JAN_1, end=DEC_31, unit_name="FOKUS Unge") == kpis(unit_ids=[other])


def _run_kpi(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "fokus", "kpi", *args], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )


def test_kpi_command_prints_json_with_exactly_the_design_keys(db_url: str, unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "J1", 10, 20, next_step="sel85")
        ended(s, unit_id, "J2", 15.5, 18, next_step="job")
    db.dispose_all()

    result = _run_kpi(db_url, "--from", "2024-01-01", "--to", "2024-12-31", "--unit", "FOKUS Test", "--json")

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert set(printed) == DESIGN_KEYS
    assert printed == kpis(unit_ids=[unit_id])
    assert printed["next_step_share"]["sel85"] == 0.5


def test_kpi_command_prints_a_danish_table(db_url: str, unit_id: int) -> None:
    with db.write_session() as s:
        ended(s, unit_id, "J1", 10, 20, next_step="sel85", referrer="jobcenter")
    db.dispose_all()

    result = _run_kpi(db_url, "--from", "2024-01-01", "--to", "2024-12-31")

    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Nøgletal for alle enheder, 01.01.2024–31.12.2024" in text
    assert "Henvisninger modtaget" in text and "Jobcenter" in text and "Anden SEL-indsats" in text
    assert "+100,0 %" in text  # ORS progress 10 → 20
    assert "100,0 %" in text and "–" in text  # shares in percent, null as a dash


def test_kpi_command_names_an_unknown_unit_in_danish(db_url: str, unit_id: int) -> None:
    db.dispose_all()

    result = _run_kpi(db_url, "--from", "2024-01-01", "--to", "2024-12-31", "--unit", "Ukendt")

    assert result.returncode == 2
    assert "Enheden 'Ukendt' findes ikke. Kendte enheder: FOKUS Test." in result.stderr


def test_kpi_table_has_a_line_for_every_figure_and_every_code() -> None:
    figures: dict[str, Any] = dict.fromkeys(metrics.KPI_KEYS)
    figures |= {
        "by_referrer": dict.fromkeys(codes.REFERRERS, 0), "by_target_group": dict.fromkeys(codes.TARGET_GROUPS, 0),
        "next_step_share": dict.fromkeys(codes.NEXT_STEPS), "referrals": 1234, "group_share": 0.7026,
        "median_weeks": 13.5, "effect_size": 0.8123,
    }

    table = metrics.kpi_table(figures, start=JAN_1, end=DEC_31, unit_name="FOKUS Test")
    lines = table.splitlines()

    assert lines[0] == "Nøgletal for FOKUS Test, 01.01.2024–31.12.2024"
    breakdowns = len(codes.REFERRERS) + len(codes.TARGET_GROUPS) + len(codes.NEXT_STEPS)
    assert len(lines) == 2 + len(metrics.KPI_KEYS) + breakdowns + 2
    assert lines[-1] == "– betyder, at der intet er at beregne ud fra."

    assert set(metrics.LABELS) == set(metrics.KPI_KEYS)
    assert any(line.startswith("Henvisninger modtaget") and line.endswith("1.234") for line in lines)
    assert any(line.startswith("Andel startet i gruppe") and line.endswith("70,3 %") for line in lines)
    assert any(line.startswith("Forløbslængde, median (uger)") and line.endswith("13,5") for line in lines)
    assert any(line.startswith("Effektstørrelse") and line.endswith("0,81") for line in lines)
    assert any(line.startswith("  Uddannelse") and line.endswith("–") for line in lines)


# ---------------------------------------------------------------------------------------
# Readings shared within a transaction (`db.remembered`)

def test_figures_read_twice_in_one_transaction_follow_a_change_made_between_the_readings(unit_id: int) -> None:
    """The dashboard's figures and series share their grouped rows within a transaction; a save
    in between must show at the next reading, never the remembered rows."""
    with db.write_session() as s:
        refer(s, unit_id, "R1", date(2024, 3, 1), referrer="jobcenter")
        before = metrics.compute_kpis(s, SYSTEM, JAN_1, DEC_31, [unit_id])
        months_before = metrics.referrals_by_month(s, SYSTEM, JAN_1, DEC_31, [unit_id])
        second = refer(s, unit_id, "R2", date(2024, 3, 5), referrer="jobcenter")
        after = metrics.compute_kpis(s, SYSTEM, JAN_1, DEC_31, [unit_id])
        months_after = metrics.referrals_by_month(s, SYSTEM, JAN_1, DEC_31, [unit_id])
        second.referrer = "other"  # a plain change, flushed without a savepoint
        s.flush()
        flushed = metrics.compute_kpis(s, SYSTEM, JAN_1, DEC_31, [unit_id])

    def march_from_jobcenter(months: Any) -> int:
        row = months[(months["month"] == date(2024, 3, 1)) & (months["code"] == "jobcenter")]
        return int(row["count"].sum())

    assert (before["referrals"], after["referrals"]) == (1, 2)
    assert (before["by_referrer"]["jobcenter"], after["by_referrer"]["jobcenter"]) == (1, 2)
    assert (march_from_jobcenter(months_before), march_from_jobcenter(months_after)) == (1, 2)
    assert (flushed["by_referrer"]["jobcenter"], flushed["by_referrer"]["other"]) == (1, 1)


def test_kpi_command_says_in_danish_when_the_database_cannot_be_reached() -> None:
    """No stack trace from the command line either: a PostgreSQL nobody listens on."""
    from tests.pgcluster import _free_port

    result = _run_kpi(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/fokus",
                      "--from", "2024-01-01", "--to", "2024-12-31")

    assert result.returncode == 3
    assert "fokus kan ikke nå databasen lige nu" in result.stderr
    assert "Traceback" not in result.stderr
