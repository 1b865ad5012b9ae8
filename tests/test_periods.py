"""The dashboard's periods: each kind gives the days a leader expects, a running one ends today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fokus import periods
from fokus.clock import busiest_day
from fokus.errors import ValidationError

TODAY = date(2026, 11, 25)


def test_rolling_12_months_is_365_days_ending_today() -> None:
    p = periods.rolling_12_months(TODAY)
    assert (p.start, p.end) == (date(2025, 11, 26), TODAY)
    assert (p.end - p.start).days + 1 == 365
    assert p.label == "Seneste 12 måneder (26.11.2025–25.11.2026)"


def test_a_past_year_is_the_whole_calendar_year() -> None:
    p = periods.year(2025, TODAY)
    assert (p.start, p.end, p.label) == (date(2025, 1, 1), date(2025, 12, 31), "År 2025 (01.01.2025–31.12.2025)")


def test_the_running_year_quarter_and_month_end_today() -> None:
    assert periods.year(2026, TODAY).end == TODAY
    q = periods.quarter(2026, 4, TODAY)
    assert (q.start, q.end) == (date(2026, 10, 1), TODAY)
    assert q.label == "4. kvartal 2026 (01.10.2026–25.11.2026)"
    m = periods.month(2026, 11, TODAY)
    assert (m.start, m.end, m.label) == (date(2026, 11, 1), TODAY, "November 2026 (01.11.2026–25.11.2026)")


@pytest.mark.parametrize(("q", "start", "end"), [
    (1, date(2024, 1, 1), date(2024, 3, 31)), (2, date(2024, 4, 1), date(2024, 6, 30)),
    (3, date(2024, 7, 1), date(2024, 9, 30)), (4, date(2024, 10, 1), date(2024, 12, 31)),
])
def test_quarters_of_a_past_year(q: int, start: date, end: date) -> None:
    p = periods.quarter(2024, q, TODAY)
    assert (p.start, p.end) == (start, end)


def test_february_of_a_leap_year_has_29_days() -> None:
    p = periods.month(2024, 2, TODAY)
    assert (p.start, p.end) == (date(2024, 2, 1), date(2024, 2, 29))


def test_a_period_that_has_not_begun_is_refused_in_danish() -> None:
    with pytest.raises(ValidationError, match="ikke begyndt"):
        periods.month(2026, 12, TODAY)


def test_a_custom_period_must_be_in_order_complete_and_not_in_the_future() -> None:
    p = periods.custom(date(2026, 1, 5), date(2026, 2, 5), TODAY)
    assert p.label == "Selvvalgt periode (05.01.2026–05.02.2026)"
    with pytest.raises(ValidationError, match="byt om"):
        periods.custom(date(2026, 2, 5), date(2026, 1, 5), TODAY)
    with pytest.raises(ValidationError, match="både første og sidste"):
        periods.custom(date(2026, 2, 5), None, TODAY)
    with pytest.raises(ValidationError, match="højst gå til i dag"):
        periods.custom(date(2026, 11, 1), date(2026, 11, 30), TODAY)


def test_the_choices_run_from_the_first_data_to_today_newest_first() -> None:
    first = date(2025, 8, 14)
    assert periods.years(first, TODAY) == [2026, 2025]
    assert periods.quarters(first, TODAY) == [(2026, 4), (2026, 3), (2026, 2), (2026, 1), (2025, 4), (2025, 3)]
    assert periods.months(first, TODAY)[:2] == [(2026, 11), (2026, 10)]
    assert periods.months(first, TODAY)[-1] == (2025, 8)
    assert len(periods.months(first, TODAY)) == 16


# ---------------------------------------------------------------------------------------
# The busiest day of a group's courses (its places): clock.busiest_day against counting day by day

_SPANS = st.lists(st.tuples(st.integers(0, 40), st.one_of(st.none(), st.integers(0, 15))), max_size=12)


@given(spans=_SPANS, first=st.one_of(st.none(), st.integers(0, 50)))
def test_the_busiest_day_is_the_first_day_with_the_most_spans_running(
    spans: list[tuple[int, int | None]], first: int | None
) -> None:
    day0 = date(2026, 1, 1)
    dated = [(day0 + timedelta(days=start), None if length is None else day0 + timedelta(days=start + length))
             for start, length in spans]
    since = None if first is None else day0 + timedelta(days=first)
    days = [day0 + timedelta(days=n) for n in range(70) if first is None or n >= first]
    counts = [sum(start <= day and (end is None or end >= day) for start, end in dated) for day in days]
    most = max(counts, default=0)
    assert busiest_day(dated, since) == (most, days[counts.index(most)] if most else None)


def test_a_span_ending_on_a_day_still_counts_that_day() -> None:
    one, two = date(2026, 3, 2), date(2026, 3, 9)
    assert busiest_day([(one, two), (two, None)]) == (2, two)
    assert busiest_day([(one, two - timedelta(days=1)), (two, None)]) == (1, one)
    assert busiest_day([(one, two), (two, None)], first=two + timedelta(days=1)) == (1, two + timedelta(days=1))
