"""The demo data: only into an empty database, the same every time, and every year like FOKUS's.

The demo is the run's one demo database (`demo_original` in conftest: it takes seconds to write), and
once more here to show it comes out the same; the yearly figures are
read through `python -m fokus kpi --json`, as the issue asks, for each of the three 365-day
years that end today.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from fokus import clock, codes, db, demo, fmt
from fokus.cpr import looks_like_cpr
from fokus.errors import ValidationError
from fokus.models import Citizen, Referral
from tests.conftest import Demo

pytestmark = pytest.mark.slow  # the demo takes seconds to write; it is written again here

PROJECT_ROOT = Path(__file__).resolve().parent.parent
YEARS = (0, 1, 2)  # how many years back the 365-day year ends


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory, demo_original: Demo) -> Iterator[tuple[str, date, str]]:
    """(url, the day it was generated for, its summary): a copy of the run's demo database for the module."""
    yield demo_original.copy_to(tmp_path_factory.mktemp("demo")), demo_original.today, demo_original.summary
    db.dispose_all()


def _year(today: date, years_back: int) -> tuple[date, date]:
    end = today - timedelta(days=365 * years_back)
    return end - timedelta(days=364), end


@pytest.fixture(scope="module")
def yearly_kpis(demo_db: tuple[str, date, str]) -> dict[int, dict[str, Any]]:
    url, today, _ = demo_db
    figures = {}
    for years_back in YEARS:
        start, end = _year(today, years_back)
        result = subprocess.run(
            [sys.executable, "-m", "fokus", "kpi", "--from", start.isoformat(), "--to", end.isoformat(), "--json"],
            cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=True,
        )
        figures[years_back] = json.loads(result.stdout)
    return figures


def _scalar(url: str, sql: str, **params: object) -> Any:
    with db.engine_for(url).connect() as connection:
        return connection.execute(sa.text(sql), params).scalar_one()


def _contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order, without the moments of writing (they are the clock's)."""
    contents = {}
    with db.engine_for(url).connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if not isinstance(c.type, sa.DateTime)]
            rows = connection.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
            contents[table.name] = [tuple(row) for row in rows]
    return contents


def _row_counts(url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in _contents(url).items()}


# ---------------------------------------------------------------------------------------
# Only into an empty database

def test_demo_refuses_a_database_that_has_data_and_writes_nothing(db_url: str, unit_id: int) -> None:
    before = _contents(db_url)
    assert not demo.database_is_empty(db_url)
    with pytest.raises(ValidationError, match="tom database"):
        demo.fill_demo(db_url)
    assert _contents(db_url) == before


def test_an_empty_database_is_empty(sqlite_url: str) -> None:
    assert demo.database_is_empty(sqlite_url)


def test_demo_refuses_a_day_in_the_future(sqlite_url: str) -> None:
    with pytest.raises(ValidationError, match="fremtiden"):
        demo.fill_demo(sqlite_url, today=clock.today() + timedelta(days=1))
    assert demo.database_is_empty(sqlite_url)


# ---------------------------------------------------------------------------------------
# The same every time

def test_demo_gives_the_same_rows_every_time_on_the_same_day(
    demo_db: tuple[str, date, str], sqlite_url: str
) -> None:
    url, today, summary = demo_db
    assert demo.fill_demo(sqlite_url, today=today) == summary
    assert _contents(sqlite_url) == _contents(url)


def test_demo_summary_counts_what_was_written(demo_db: tuple[str, date, str]) -> None:
    url, today, summary = demo_db
    counts = _row_counts(url)
    assert summary.startswith(f"Demodata for {demo.UNIT_NAME} ({demo.MUNICIPALITY})")
    assert fmt.day(today) in summary
    assert f"{fmt.integer(counts['course'])} forløb" in summary
    assert f"{fmt.integer(counts['referral'])} henvisninger" in summary
    assert f"{fmt.integer(counts['orsscore'])} ORS-målinger" in summary
    assert counts["unit"] == 1 and counts["staff"] == len(demo.STAFF)


def test_demo_writes_through_the_services_so_every_change_is_audited(demo_db: tuple[str, date, str]) -> None:
    url, _, _ = demo_db
    counts = _row_counts(url)
    written = sum(counts[name] for name in ("citizen", "referral", "course", "orsscore", "srsscore", "attendance"))
    assert counts["auditevent"] >= written
    assert _scalar(url, "SELECT count(*) FROM auditevent WHERE user_login <> 'system'") == 0


# ---------------------------------------------------------------------------------------
# Each of the three years lies in the unit's ranges (through `kpi --json`)

@pytest.mark.parametrize("years_back", YEARS)
def test_each_demo_year_lies_in_the_units_ranges(yearly_kpis: dict[int, dict[str, Any]], years_back: int) -> None:
    figures = yearly_kpis[years_back]
    assert 150 <= figures["courses_started"] <= 200
    assert 0.65 <= figures["group_share"] <= 0.75
    assert 25 <= figures["ors_progress_pct"] <= 45
    assert 0.10 <= figures["further_measure_share"] <= 0.25
    assert figures["reliable_deterioration_share"] > 0
    assert figures["over_6_months"] >= 1
    assert figures["waiting_at_end"] >= 1
    assert figures["network_meetings"] >= 1
    assert figures["courses_with_network_meeting"] >= 1
    assert figures["by_referrer"]["jobcenter"] <= 120
    assert figures["by_target_group"]["psychic"] > figures["by_target_group"]["physical"]


@pytest.mark.parametrize("years_back", YEARS)
def test_each_demo_year_has_drop_outs_and_groups_that_met(demo_db: tuple[str, date, str], years_back: int) -> None:
    url, today, _ = demo_db
    start, end = _year(today, years_back)
    period = {"start": start, "end": end}
    dropped = _scalar(
        url, "SELECT count(*) FROM course WHERE end_reason = 'dropped_out' AND \"end\" BETWEEN :start AND :end",
        **period,
    )
    sessions = _scalar(url, "SELECT count(*) FROM groupsession WHERE date BETWEEN :start AND :end", **period)
    present = _scalar(
        url,
        "SELECT count(*) FROM attendance JOIN groupsession ON groupsession.id = attendance.session_id "
        "WHERE attendance.present AND groupsession.date BETWEEN :start AND :end",
        **period,
    )
    assert dropped >= 1
    assert sessions >= 100
    assert present >= 5 * sessions


def test_demo_today_has_active_courses_within_capacity_and_a_waiting_list(
    yearly_kpis: dict[int, dict[str, Any]], demo_db: tuple[str, date, str]
) -> None:
    url, today, _ = demo_db
    figures = yearly_kpis[0]
    assert 30 <= figures["active_at_end"] <= figures["capacity"]
    long_waiting = _scalar(
        url, "SELECT count(*) FROM referral WHERE status = 'waiting' AND received < :day",
        day=today - timedelta(days=60),
    )
    assert long_waiting >= 1


# ---------------------------------------------------------------------------------------
# What the rows look like

def test_demo_groups_have_a_theme_a_size_and_mostly_present_members(demo_db: tuple[str, date, str]) -> None:
    url, _, _ = demo_db
    assert _scalar(url, "SELECT count(*) FROM \"group\" WHERE theme = '' OR capacity NOT BETWEEN 8 AND 12") == 0
    assert _scalar(url, "SELECT count(*) FROM course WHERE form = 'group' AND group_id IS NULL") == 0
    share_present = _scalar(url, "SELECT avg(CASE WHEN present THEN 1.0 ELSE 0.0 END) FROM attendance")
    assert 0.7 <= share_present <= 0.95


def test_demo_refused_referrals_have_reasons_from_the_short_list(demo_db: tuple[str, date, str]) -> None:
    url, _, _ = demo_db
    with db.engine_for(url).connect() as connection:
        reasons = connection.execute(
            sa.text("SELECT status, reason FROM referral WHERE status IN ('rejected', 'withdrawn')")
        ).all()
    assert {status for status, _ in reasons} == {"rejected", "withdrawn"}
    assert {reason for _, reason in reasons} <= set(codes.DECISION_REASONS)


def test_demo_ages_outside_18_to_65_carry_an_age_note(demo_db: tuple[str, date, str]) -> None:
    url, _, _ = demo_db
    with db.read_session(db.engine_for(url)) as session:
        rows = session.exec(
            select(Referral.received, Citizen.birth_year, Referral.age_note).join(
                Citizen, col(Citizen.id) == Referral.citizen_id
            )
        ).all()
    outside = [note for received, year, note in rows if not 18 <= received.year - year <= 65]
    assert outside
    assert all(outside)


def test_demo_citizens_who_come_back_start_after_their_last_course_ended(demo_db: tuple[str, date, str]) -> None:
    url, _, _ = demo_db
    comebacks = _scalar(
        url,
        "SELECT count(*) FROM course AS later JOIN course AS earlier ON earlier.citizen_id = later.citizen_id "
        "AND earlier.start < later.start",
    )
    too_early = _scalar(
        url,
        "SELECT count(*) FROM course AS later JOIN course AS earlier ON earlier.citizen_id = later.citizen_id "
        "AND earlier.start < later.start WHERE earlier.\"end\" IS NULL OR earlier.\"end\" > later.start",
    )
    assert comebacks >= 3
    assert too_early == 0


def test_demo_has_no_cpr_numbers_and_no_future_dates(demo_db: tuple[str, date, str]) -> None:
    url, today, _ = demo_db
    with db.engine_for(url).connect() as connection:
        refs = connection.execute(sa.text("SELECT ref FROM citizen UNION ALL SELECT ref FROM course")).scalars().all()
    assert refs and not any(looks_like_cpr(ref) for ref in refs)
    happened = {
        "referral": ("received", "decided"), "course": ("start", "end"), "orsscore": ("date",),
        "srsscore": ("date",), "networkmeeting": ("date",), "groupsession": ("date",), "group": ("start", "end"),
    }
    for table, columns in happened.items():
        for column in columns:
            latest = _scalar(url, f'SELECT max("{column}") FROM "{table}"')
            assert date.fromisoformat(str(latest)) <= today, (table, column)


def test_demo_ors_items_are_tenths_and_some_courses_have_srs(demo_db: tuple[str, date, str]) -> None:
    url, _, _ = demo_db
    first_totals = _scalar(
        url,
        "SELECT avg(individual + interpersonal + social + overall) FROM orsscore WHERE session_no = 1",
    )
    assert 180 <= first_totals <= 220  # tenths: about 20 of 40 points at the start
    assert _scalar(url, "SELECT count(DISTINCT course_id) FROM srsscore") >= 50
