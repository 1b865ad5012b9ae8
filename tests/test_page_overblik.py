"""Overblik as the leader reads it (AppTest on SQLite), against hand-worked figures and `fokus kpi`.

A small unit, dated relative to today so that it lies in the default rolling 12 months:
- A: received 100 days ago, group course from 90 days ago, ended 6 days ago (84 days = 12,0
  weeks) with next step "job"; ORS 20 then 30 points.
- B: received 80 days ago, individual course from 70 days ago with Anna, still active; one ORS
  70 days ago (so "Ingen ORS i 4 uger").
- C: received 50 days ago, still waiting (over 4 weeks: on the action list).
Anna's maximum is 10 courses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from fokus import clock, codes, dashboard, db, fmt, metrics, overview, periods
from fokus import services as svc
from fokus.actor import SYSTEM
from fokus.models import Citizen, Course
from tests.apptest_helpers import ROOT, app_as

PAGE = "pages/overblik.py"
TODAY = clock.today()
START = TODAY - timedelta(days=364)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def items(points: int) -> dict[str, int]:
    tenths = points * 10
    return dict(zip(codes.ORS_ITEMS, [tenths // 4] * 3 + [tenths - 3 * (tenths // 4)], strict=True))


@pytest.fixture
def unit(sqlite_url: str) -> int:
    with db.write_session() as s:
        unit = svc.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id
        anna = svc.add_staff(s, SYSTEM, unit_id=unit, name="Anna Andersen", initials="AA", max_active_courses=10).id

        def refer(ref: str, received: int) -> int:
            return svc.register_referral(s, SYSTEM, unit_id=unit, citizen_ref=ref, birth_year=TODAY.year - 40,
                                         received=days_ago(received), referrer="socialcenter",
                                         target_group="psychic").id

        a = svc.start_course(s, SYSTEM, referral_id=refer("A-1", 100), start=days_ago(90), form="group").id
        svc.add_ors(s, SYSTEM, course_id=a, day=days_ago(90), items=items(20))
        svc.add_ors(s, SYSTEM, course_id=a, day=days_ago(30), items=items(30))
        svc.end_course(s, SYSTEM, course_id=a, end=days_ago(6), end_reason="completed", next_step="job")
        b = svc.start_course(s, SYSTEM, referral_id=refer("B-2", 80), start=days_ago(70), form="individual",
                             contact_person_id=anna).id
        svc.add_ors(s, SYSTEM, course_id=b, day=days_ago(70), items=items(15))
        refer("C-3", 50)
    return unit


def open_page() -> AppTest:
    at = app_as("overblik-leder", "leader", PAGE)
    assert not at.exception, at.exception
    return at


def summary(at: AppTest) -> str:
    """The line under the title: the period, the period compared with, the units, "filtreret"."""
    return next(c.value for c in at.caption if "pilene viser ændringen mod" in c.value)


def tiles(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


# What each tile shows: its figure from `compute_kpis`, formatted as the page formats it.
TILE_FIGURES: dict[str, tuple[str, Any]] = {
    "Tilgang, 12 måneder": ("intake_12m", fmt.integer),
    "Aktive forløb": ("active_at_end", fmt.integer),
    "Venteliste": ("waiting_at_end", fmt.integer),
    "Startet i gruppe": ("group_share", fmt.percent),
    "ORS-fremgang, start → slut": ("ors_progress_pct", fmt.signed_percent),
    "Pålidelig forbedring": ("reliable_improvement_share", fmt.percent),
    "Pålidelig forværring": ("reliable_deterioration_share", fmt.percent),
    "Klinisk signifikant": ("clinically_significant_share", fmt.percent),
    "Median varighed": ("median_weeks", lambda weeks: f"{fmt.number(weeks, 1)} uger"),
    "Afsluttet efter 12–16 uger": ("share_12_16_weeks", fmt.percent),
    "Over 6 måneder": ("over_6_months", fmt.integer),
    "Videre indsats efter SEL": ("further_measure_share", fmt.percent),
}

HAND_WORKED = {
    "Tilgang, 12 måneder": "2",  # A and B started within the 365 days
    "Aktive forløb": "1",  # B; A ended 6 days ago
    "Venteliste": "1",  # C
    "Startet i gruppe": "50 %",  # A of A and B
    "ORS-fremgang, start → slut": "+50,0 %",  # (30 − 20) / 20
    "Pålidelig forbedring": "100 %",  # +10 ≥ 5
    "Pålidelig forværring": "0 %",
    "Klinisk signifikant": "100 %",  # 20 < 25 → 30 ≥ 25, and +10 ≥ 5
    "Median varighed": "12,0 uger",  # 84 days / 7
    "Afsluttet efter 12–16 uger": "100 %",
    "Over 6 måneder": "0",
    "Videre indsats efter SEL": "0 %",  # next step job
}


def test_the_tiles_show_the_hand_worked_figures_and_agree_with_the_kpi_command(unit: int) -> None:
    at = open_page()
    shown = tiles(at)
    assert {label: shown[label] for label in HAND_WORKED} == HAND_WORKED

    result = subprocess.run(
        [sys.executable, "-m", "fokus", "kpi", "--from", START.isoformat(), "--to", TODAY.isoformat(), "--json"],
        cwd=ROOT, env={**os.environ}, capture_output=True, text=True, check=True,
    )
    figures = json.loads(result.stdout)
    assert {label: show(figures[key]) for label, (key, show) in TILE_FIGURES.items()} == HAND_WORKED
    assert figures["capacity"] == 10
    assert figures["median_wait_days"] == 10  # A and B both waited 10 days
    assert f"Kapacitet: {figures['capacity']} samtidige forløb" in " ".join(c.value for c in at.caption)


def test_a_save_elsewhere_shows_at_the_next_run_and_nothing_unchanged_is_recomputed(
    unit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[date] = []
    real_build = dashboard.build

    def counted(*args: Any, **kwargs: Any) -> dashboard.Dashboard:
        builds.append(TODAY)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(dashboard, "build", counted)
    at = open_page()
    assert tiles(at)["Venteliste"] == "1"
    assert len(builds) == 1
    at.run()
    assert len(builds) == 1, "an unchanged database was computed again"

    with db.write_session() as s:
        svc.register_referral(s, SYSTEM, unit_id=unit, citizen_ref="D-4", birth_year=1990, received=TODAY,
                              referrer="jobcenter", target_group="social")
    at.run()
    assert tiles(at)["Venteliste"] == "2"
    assert len(builds) == 2
    at.run()
    assert len(builds) == 2


def test_a_dashboard_of_an_older_data_version_is_not_kept(unit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data version only rises: the dashboard cached before a save is dropped when the next one
    is made, so a day of saves does not fill the server's memory with dashboards never shown again."""
    from fokus import config, ui
    from fokus.actor import Actor

    builds: list[int] = []
    real_build = dashboard.build
    monkeypatch.setattr(dashboard, "build", lambda *args, **kwargs: builds.append(1) or real_build(*args, **kwargs))
    leader = Actor(login="ui-leder", role="leader", unit_ids=frozenset({unit}))
    period = periods.rolling_12_months(TODAY)

    def at_version(version: int) -> dashboard.Dashboard:
        return ui._overview(config.database_url(), version, ui._scope_key(leader), leader.login, period.start,
                            period.end, period.label, None, ui._filters_key(metrics.NO_FILTERS), _actor=leader)[0]

    ui.cached_dashboard(leader, period)
    before = db.data_version()
    with db.write_session() as s:
        svc.register_referral(s, SYSTEM, unit_id=unit, citizen_ref="D-4", birth_year=1990, received=TODAY,
                              referrer="jobcenter", target_group="social")
    ui.cached_dashboard(leader, period)
    assert len(builds) == 2
    at_version(db.data_version())  # the newest is kept
    assert len(builds) == 2
    at_version(before)  # the one before the save is not
    assert len(builds) == 3


def test_the_previous_periods_figures_are_computed_again_only_for_a_change_that_reaches_back_into_it(
    unit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = metrics.previous_period(START, TODAY)
    computed: list[tuple[date, date]] = []
    real = metrics.compute_kpis

    def counted(session: Any, actor: Any, start: date, end: date, *args: Any, **kwargs: Any) -> dict[str, Any]:
        computed.append((start, end))
        return real(session, actor, start, end, *args, **kwargs)

    def waiting_delta(at: AppTest) -> str:
        return next(str(metric.delta) for metric in at.metric if metric.label == "Venteliste")

    def expected_delta() -> str:
        with db.read_session() as s:
            now, before = (real(s, SYSTEM, *period)["waiting_at_end"] for period in ((START, TODAY), previous))
        change = fmt.change(now, before)
        assert change is not None
        return change[0]

    monkeypatch.setattr(metrics, "compute_kpis", counted)
    at = open_page()
    assert computed.count(previous) == 1
    assert waiting_delta(at) == expected_delta()

    def refer(ref: str, received: date) -> None:
        with db.write_session() as s:
            svc.register_referral(s, SYSTEM, unit_id=unit, citizen_ref=ref, birth_year=1990, received=received,
                                  referrer="jobcenter", target_group="social")

    refer("D-4", TODAY)  # today's work: the previous period's figures cannot move
    at.run()
    assert tiles(at)["Venteliste"] == "2" and waiting_delta(at) == expected_delta()
    assert computed.count(previous) == 1 and computed.count((START, TODAY)) == 2

    refer("E-5", previous[1] - timedelta(days=10))  # received in the previous period, still waiting
    at.run()
    assert computed.count(previous) == 2
    assert tiles(at)["Venteliste"] == "3" and waiting_delta(at) == expected_delta()


def test_the_form_filter_narrows_the_course_figures_and_leaves_the_waiting_list(unit: int) -> None:
    at = open_page()
    at.multiselect(key="overblik-form").set_value(["individual"]).run()
    shown = tiles(at)
    assert shown["Tilgang, 12 måneder"] == "1"  # B only
    assert shown["Startet i gruppe"] == "0 %"
    assert shown["Venteliste"] == "1"  # a waiting referral has no form: not narrowed
    assert shown["Median varighed"] == f"{fmt.NOTHING} uger"  # A was the only ended course
    assert summary(at).endswith("filtreret")


def test_a_year_can_be_chosen_and_the_caption_says_which(unit: int) -> None:
    at = open_page()
    at.selectbox(key="overblik-periode").set_value("year").run()
    at.selectbox(key="overblik-aar").set_value(TODAY.year).run()
    assert not at.exception
    assert summary(at).startswith(f"År {TODAY.year} (01.01.{TODAY.year}–{fmt.day(TODAY)})")


def test_needs_action_lists_the_course_without_ors_and_the_long_waiting_referral(unit: int) -> None:
    at = open_page()
    box = next(e for e in at.expander if e.label.startswith("Kræver handling"))
    assert box.label == "Kræver handling i dag (2)"
    text = " ".join(m.value for m in box.markdown)
    assert codes.FLAGS["no_recent_ors"] in text
    assert "Venter over 4 uger · 50 dage" in text
    with db.read_session() as s:
        found = dashboard.needs_action(s, SYSTEM, today=TODAY)
    assert [(i.kind, i.label) for i in found] == [("course", f"{course_ref('B-2')} · borger B-2"),
                                                  ("referral", "borger C-3")]


def test_over_several_units_each_work_list_item_names_its_unit(unit: int) -> None:
    # units number their courses alike: "F0-0001" of two units must not read as one course
    def work_list(at: AppTest) -> list[str]:
        return [link.proto.label for link in at.get("page_link") if "borger" in link.proto.label]

    assert work_list(open_page()) == [f"{course_ref('B-2')} · borger B-2", "borger C-3"]  # one unit
    with db.write_session() as s:
        north = svc.create_unit(s, SYSTEM, name="FOKUS Nord", municipality="Testkommune").id
        svc.register_referral(s, SYSTEM, unit_id=north, citizen_ref="D-4", birth_year=TODAY.year - 30,
                              received=days_ago(60), referrer="socialcenter", target_group="psychic")
    at = app_as("overblik-admin", "admin", PAGE)
    assert not at.exception, at.exception
    assert work_list(at) == [f"{course_ref('B-2')} · borger B-2 · FOKUS Test", "borger D-4 · FOKUS Nord",
                             "borger C-3 · FOKUS Test"]


def course_ref(citizen_ref: str) -> str:
    with db.read_session() as s:
        return s.exec(select(Course.ref).join(Citizen, Citizen.id == Course.citizen_id)
                      .where(Citizen.ref == citizen_ref)).one()


def test_every_chart_is_drawn_with_a_table_behind_it(unit: int) -> None:
    at = open_page()
    charts = at.get("plotly_chart")
    assert len(charts) == 2 + 2 + 3 + 2 + 2  # capacity, groups/duration, ORS, referrals, after
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in charts]
    label = fmt.period(START, TODAY)
    assert all(label in title for title in titles), titles
    tables = [e for e in at.expander if e.label == "Tabellen bag grafen"]
    assert len(tables) == len(charts)
    # each shows the table a reader downloads (sent as made once, not converted on every run)
    with db.read_session() as s:
        built = overview.sections(dashboard.build(s, SYSTEM, periods.rolling_12_months(TODAY)))
    behind = [drawn.table for section in built for drawn in section.charts]
    for expander, table in zip(tables, behind, strict=True):
        shown = expander.dataframe[0].value
        assert list(shown.columns) == list(table.columns)
        assert shown.astype(str).values.tolist() == table.astype(str).values.tolist()


def test_the_dashboard_bundle_holds_exactly_the_metrics_figures(unit: int) -> None:
    with db.read_session() as s:
        view = dashboard.build(s, SYSTEM, periods.rolling_12_months(TODAY))
        direct = metrics.compute_kpis(s, SYSTEM, START, TODAY)
    assert view.figures == direct
    assert int(view.series["monthly_starts"]["starts"].sum()) == direct["courses_started"] == 2
