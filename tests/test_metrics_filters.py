"""The dashboard's filters narrow exactly what `fokus.metrics.Filters` says, on a small unit.

Referrer and target group belong to the referral: they narrow the referrals, the waiting list and
the courses started from those referrals. Form and contact person belong to the course: they
narrow the course figures only, and the contact person the capacity to that person's maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from fokus import db, services
from fokus.actor import SYSTEM
from fokus.metrics import Filters
from fokus.models import Staff
from tests.metrics_reference import course, kpis, refer, second_unit


@dataclass(frozen=True)
class SmallUnit:
    anna: int
    bo: int
    carl: int


@pytest.fixture
def small_unit(unit_id: int) -> SmallUnit:
    """Four courses and two waiting referrals in 2024; Anna (10 places), Bo (8), Carl (5, inactive).

    | course | referrer     | target group | received | start | wait | form       | contact | end   | weeks |
    | K1     | socialcenter | psychic      | 10.01    | 20.01 | 10   | group      | Anna    | 13.04 | 12    |
    | K2     | jobcenter    | physical     | 01.02    | 21.02 | 20   | individual | Bo      | 10.07 | 20    |
    | K3     | jobcenter    | psychic      | 01.03    | 10.04 | 40   | group      | Anna    | open  |       |
    | K4     | socialcenter | social       | 01.05    | 31.05 | 30   | group      | Bo      | open  |       |
    W1 (jobcenter, psychic, 01.06) and W2 (other, social, 01.07) wait.
    K1: ORS 10 → 20, next step § 85, a network meeting 01.02. K2: ORS 20 → 18, next step job.
    """
    with db.write_session() as s:
        anna, bo, carl = (
            services.add_staff(s, SYSTEM, unit_id=unit_id, name=name, initials=initials, max_active_courses=places).id
            for name, initials, places in (("Anna", "AN", 10), ("Bo", "BO", 8), ("Carl", "CA", 5))
        )
        k1 = course(s, unit_id, "K1", date(2024, 1, 20), received=date(2024, 1, 10), form="group",
                    contact_person_id=anna, end=date(2024, 4, 13), next_step="sel85",
                    ors=((date(2024, 1, 20), 10), (date(2024, 4, 13), 20)))
        services.add_network_meeting(s, SYSTEM, course_id=k1.id, day=date(2024, 2, 1), participants=4)
        course(s, unit_id, "K2", date(2024, 2, 21), received=date(2024, 2, 1), form="individual",
               contact_person_id=bo, end=date(2024, 7, 10), next_step="job",
               ors=((date(2024, 2, 21), 20), (date(2024, 7, 10), 18)), referrer="jobcenter",
               target_group="physical")
        course(s, unit_id, "K3", date(2024, 4, 10), received=date(2024, 3, 1), form="group",
               contact_person_id=anna, referrer="jobcenter")
        course(s, unit_id, "K4", date(2024, 5, 31), received=date(2024, 5, 1), form="group",
               contact_person_id=bo, target_group="social")
        refer(s, unit_id, "W1", date(2024, 6, 1), referrer="jobcenter")
        refer(s, unit_id, "W2", date(2024, 7, 1), referrer="other", target_group="social")
    with db.write_session() as s:
        staff = s.get(Staff, carl)
        assert staff is not None
        services.update_staff(s, SYSTEM, staff_id=carl, expected_version=None, name=staff.name,
                              initials=staff.initials, active=False, max_active_courses=staff.max_active_courses)
    return SmallUnit(anna=anna, bo=bo, carl=carl)


def figures_with(**filters: Any) -> dict[str, Any]:
    return kpis(filters=Filters(**{key: frozenset(value) for key, value in filters.items()}))


REFERRAL_FIGURES = ("referrals", "by_referrer", "by_target_group", "from_sel85", "waiting_at_end")


def test_without_filters_the_small_unit_has_every_row(small_unit: SmallUnit) -> None:
    figures = figures_with()

    assert figures["referrals"] == 6
    assert figures["by_referrer"] == {"socialcenter": 2, "jobcenter": 3, "other": 1}
    assert (figures["waiting_at_end"], figures["capacity"]) == (2, 18)  # Carl is inactive: 10 + 8
    assert (figures["courses_started"], figures["courses_ended"], figures["active_at_end"]) == (4, 2, 2)
    assert figures["group_share"] == 0.75
    assert figures["median_wait_days"] == 25  # 10, 20, 30, 40
    assert (figures["network_meetings"], figures["courses_with_network_meeting"]) == (1, 1)


def test_a_referrer_filter_narrows_referrals_waiting_and_the_courses_started_from_them(
    small_unit: SmallUnit,
) -> None:
    figures = figures_with(referrers={"jobcenter"})

    # K2, K3 and W1 were referred by the Jobcenter.
    assert figures["referrals"] == 3
    assert figures["by_referrer"] == {"socialcenter": 0, "jobcenter": 3, "other": 0}
    assert figures["by_target_group"] == {"psychic": 2, "physical": 1, "social": 0}
    assert figures["waiting_at_end"] == 1  # W1
    assert (figures["courses_started"], figures["intake_12m"]) == (2, 2)  # K2, K3
    assert figures["group_share"] == 0.5  # K3 of K2, K3
    assert figures["median_wait_days"] == 30  # (20 + 40) / 2
    assert (figures["courses_ended"], figures["active_at_end"]) == (1, 1)  # K2 ended, K3 runs
    assert figures["median_weeks"] == 20.0  # K2: 21.02 → 10.07.2024 = 140 days
    assert figures["share_12_16_weeks"] == 0.0
    assert figures["ors_pairs"] == 1
    assert figures["ors_progress_pct"] == pytest.approx(-10.0)  # (18 − 20) / 20 × 100
    assert figures["next_step_share"]["job"] == 1.0
    assert (figures["network_meetings"], figures["courses_with_network_meeting"]) == (0, 0)  # K1's is gone
    assert figures["capacity"] == 18  # staff carry no referrer


def test_a_target_group_filter_narrows_like_the_referrer(small_unit: SmallUnit) -> None:
    figures = figures_with(target_groups={"psychic"})

    # K1, K3 and W1 are psychic.
    assert figures["referrals"] == 3
    assert figures["by_target_group"] == {"psychic": 3, "physical": 0, "social": 0}
    assert figures["waiting_at_end"] == 1  # W1
    assert (figures["courses_started"], figures["courses_ended"], figures["active_at_end"]) == (2, 1, 1)
    assert figures["median_wait_days"] == 25  # (10 + 40) / 2
    assert figures["median_weeks"] == 12.0  # K1: 20.01 → 13.04.2024 = 84 days
    assert figures["further_measure_share"] == 1.0  # K1 went on to § 85
    assert figures["capacity"] == 18


def test_a_form_filter_narrows_the_course_figures_and_leaves_referrals_and_waiting_alone(
    small_unit: SmallUnit,
) -> None:
    unfiltered = figures_with()
    figures = figures_with(forms={"group"})

    assert {key: figures[key] for key in REFERRAL_FIGURES} == {key: unfiltered[key] for key in REFERRAL_FIGURES}
    assert (figures["courses_started"], figures["intake_12m"]) == (3, 3)  # K1, K3, K4
    assert figures["group_share"] == 1.0
    assert figures["median_wait_days"] == 30  # 10, 30, 40
    assert (figures["courses_ended"], figures["active_at_end"]) == (1, 2)  # K1 ended; K3, K4 run
    assert (figures["median_weeks"], figures["share_12_16_weeks"]) == (12.0, 1.0)
    assert figures["ors_progress_pct"] == 100.0  # K1: 10 → 20
    assert figures["next_step_share"]["sel85"] == 1.0
    assert (figures["network_meetings"], figures["courses_with_network_meeting"]) == (1, 1)
    assert figures["capacity"] == 18  # staff carry no form


def test_individual_courses_are_the_rest_of_the_group_share(small_unit: SmallUnit) -> None:
    everything = figures_with()
    individual = figures_with(forms={"individual"})

    # K2 alone started individually: 1 of 4 = 1 − 0.75.
    assert individual["courses_started"] == 1
    assert individual["group_share"] == 0.0
    assert individual["courses_started"] / everything["courses_started"] == 1 - everything["group_share"]


def test_a_contact_person_filter_narrows_courses_and_capacity_to_that_persons_maximum(
    small_unit: SmallUnit,
) -> None:
    unfiltered = figures_with()
    figures = figures_with(staff_ids={small_unit.bo})

    assert {key: figures[key] for key in REFERRAL_FIGURES} == {key: unfiltered[key] for key in REFERRAL_FIGURES}
    assert figures["capacity"] == 8
    assert (figures["courses_started"], figures["courses_ended"], figures["active_at_end"]) == (2, 1, 1)  # K2, K4
    assert figures["group_share"] == 0.5
    assert figures["median_wait_days"] == 25  # (20 + 30) / 2
    assert figures["ors_pairs"] == 1  # K2
    assert figures["network_meetings"] == 0


def test_an_inactive_contact_person_filters_to_no_capacity_and_no_courses(small_unit: SmallUnit) -> None:
    figures = figures_with(staff_ids={small_unit.carl})

    assert (figures["capacity"], figures["courses_started"], figures["active_at_end"]) == (0, 0, 0)
    assert figures["group_share"] is None
    assert figures["referrals"] == 6  # a referral has no contact person yet


def test_several_values_of_one_filter_add_up_and_different_filters_narrow_together(small_unit: SmallUnit) -> None:
    both = figures_with(staff_ids={small_unit.anna, small_unit.bo})
    narrowed = figures_with(referrers={"jobcenter"}, forms={"group"})

    assert (both["capacity"], both["courses_started"]) == (18, 4)
    # Jobcenter referrals (K2, K3, W1), of whose courses only K3 is a group course.
    assert (narrowed["referrals"], narrowed["waiting_at_end"]) == (3, 1)
    assert (narrowed["courses_started"], narrowed["active_at_end"], narrowed["courses_ended"]) == (1, 1, 0)
    assert narrowed["median_wait_days"] == 40


def test_a_contact_person_of_another_unit_never_widens_the_scope(small_unit: SmallUnit, unit_id: int) -> None:
    other = second_unit()
    with db.write_session() as s:
        stranger = services.add_staff(s, SYSTEM, unit_id=other, name="Dorte", initials="DO", max_active_courses=9).id

    figures = kpis(unit_ids=[unit_id], filters=Filters(staff_ids=frozenset({stranger})))

    assert (figures["capacity"], figures["courses_started"]) == (0, 0)
