"""The entry pages' reads (fokus.queries) and the ORS science behind their flags (fokus.ors).

The ORS rules first, on plain numbers at each boundary; then each query on hand-made data in
two units, where the second unit's rows must never show.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fokus import codes, ors

# ---------------------------------------------------------------------------------------
# ORS science: totals, reliable change, the band

def test_the_ors_total_is_the_sum_of_the_four_items_in_tenths() -> None:
    assert ors.total({"individual": 75, "interpersonal": 60, "social": 0, "overall": 100}) == 235


@pytest.mark.parametrize(
    ("first", "last", "rci", "expected"),
    [
        (200, 250, 5.0, "improved"),  # exactly +5 points
        (200, 249, 5.0, "unchanged"),  # +4,9
        (200, 150, 5.0, "deteriorated"),  # exactly −5
        (200, 151, 5.0, "unchanged"),  # −4,9
        (200, 237, 3.7, "improved"),  # an RCI with a decimal is exact in tenths
    ],
)
def test_reliable_change_is_a_change_of_at_least_the_rci(first: int, last: int, rci: float, expected: str) -> None:
    assert ors.reliable_change(first, last, rci) == expected


def test_the_band_lies_rci_points_around_the_first_score_inside_0_to_40() -> None:
    assert ors.band(234, 5.0) == pytest.approx((18.4, 28.4))
    assert ors.band(30, 5.0) == (0.0, 8.0)
    assert ors.band(380, 5.0) == (33.0, 40.0)


# ---------------------------------------------------------------------------------------
# Flags, each at its boundary

START = date(2025, 1, 6)


def flags(*, day: date, end: date | None = None, ors_totals: list[int] | None = None,
          last_ors: date | None = None, srs_totals: list[int] | None = None) -> tuple[str, ...]:
    totals = ors_totals or []
    srs = srs_totals or []
    return ors.course_flags(
        start=START, end=end, today=day, ors_count=len(totals),
        ors_first=totals[0] if totals else None, ors_latest=totals[-1] if totals else None,
        last_ors=last_ors if totals else None,
        srs_latest=srs[-1] if srs else None, srs_previous=srs[-2] if len(srs) >= 2 else None,
        weeks_max=16, max_months=6, rci_points=5.0,
    )


def test_a_course_over_16_weeks_is_flagged_from_the_day_after_the_16th_week() -> None:
    at_16 = START + timedelta(weeks=16)
    assert "over_weeks" not in flags(day=at_16, ors_totals=[200], last_ors=at_16)
    assert "over_weeks" in flags(day=at_16 + timedelta(days=1), ors_totals=[200], last_ors=at_16)


def test_a_course_is_flagged_within_4_weeks_of_six_calendar_months_and_over_them_after() -> None:
    six_months = date(2025, 7, 6)
    recent = {"ors_totals": [200], "last_ors": six_months - timedelta(days=30)}
    assert flags(day=six_months - timedelta(days=29), **recent).count("near_max_months") == 0
    assert "near_max_months" in flags(day=six_months - timedelta(days=28), **recent)
    assert "near_max_months" in flags(day=six_months, **recent)
    after = flags(day=six_months + timedelta(days=1), **recent)
    assert "over_max_months" in after and "near_max_months" not in after


def test_six_months_from_31_august_end_on_the_last_day_of_february() -> None:
    start = date(2024, 8, 31)
    common: dict[str, Any] = {"end": None, "ors_count": 0, "ors_first": None, "ors_latest": None, "last_ors": None,
                              "srs_latest": None, "srs_previous": None, "weeks_max": 99, "max_months": 6,
                              "rci_points": 5.0}
    assert "over_max_months" not in ors.course_flags(start=start, today=date(2025, 2, 28), **common)
    assert "over_max_months" in ors.course_flags(start=start, today=date(2025, 3, 1), **common)


def test_no_ors_for_4_weeks_counts_from_the_last_ors_or_from_the_start() -> None:
    last = START + timedelta(days=10)
    assert "no_recent_ors" not in flags(day=last + timedelta(days=27), ors_totals=[200], last_ors=last)
    assert "no_recent_ors" in flags(day=last + timedelta(days=28), ors_totals=[200], last_ors=last)
    assert "no_recent_ors" not in flags(day=START + timedelta(days=27))
    assert "no_recent_ors" in flags(day=START + timedelta(days=28))


def test_reliable_deterioration_is_the_latest_at_least_rci_below_the_first() -> None:
    day = START + timedelta(days=7)
    assert "reliable_deterioration" in flags(day=day, ors_totals=[250, 300, 200], last_ors=day)
    assert "reliable_deterioration" not in flags(day=day, ors_totals=[250, 300, 201], last_ors=day)
    assert "reliable_deterioration" not in flags(day=day, ors_totals=[250], last_ors=day)


def test_no_reliable_improvement_is_flagged_from_the_sixth_measurement() -> None:
    day = START + timedelta(days=7)
    assert ors.NO_IMPROVEMENT_AFTER == 6
    assert "no_improvement" not in flags(day=day, ors_totals=[200, 210, 220, 230, 240], last_ors=day)
    assert "no_improvement" in flags(day=day, ors_totals=[200, 210, 220, 230, 240, 249], last_ors=day)
    assert "no_improvement" not in flags(day=day, ors_totals=[200, 210, 220, 230, 240, 250], last_ors=day)


def test_srs_below_36_or_lower_than_the_session_before_is_flagged() -> None:
    day = START + timedelta(days=7)
    recent = {"ors_totals": [200], "last_ors": day}
    assert flags(day=day, srs_totals=[360], **recent) == ()
    assert flags(day=day, srs_totals=[359], **recent) == ("srs_low",)
    assert flags(day=day, srs_totals=[390, 380], **recent) == ("srs_drop",)
    assert flags(day=day, srs_totals=[380, 380], **recent) == ()


def test_an_ended_course_keeps_its_score_flags_but_no_time_flags() -> None:
    late = START + timedelta(days=400)
    assert flags(day=late, end=START + timedelta(days=100), ors_totals=[250, 190], last_ors=START) == (
        "reliable_deterioration",
    )


def test_every_flag_has_a_danish_label() -> None:
    assert set(codes.FLAGS) == set(ors.FLAGS)
