"""Udvalgsnotat (issue 7): the committee note as Word and PDF, its figures those of `kpi --json`
with small counts hidden (DESIGN §7), its charts present.

Two kinds of data: the demo unit's year (large counts: the note must show kpi's own figures),
and a small hand-made unit where every hidden cell is worked out by hand.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from pypdf import PdfReader

from fokus import db, fmt, metrics, report
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.clock import today
from fokus.errors import PermissionDenied
from fokus.periods import Period
from tests.apptest_helpers import ROOT
from tests.conftest import Demo

# The rows of the main table, by label: (the KPI key, how the figure is shown, the key of its whole).
COUNTS = {
    "Henvisninger modtaget": "referrals", "Forløb startet": "courses_started",
    "Forløb startet de seneste 12 måneder": "intake_12m", "Aktive forløb ved periodens slutning": "active_at_end",
    "På venteliste ved periodens slutning": "waiting_at_end", "Forløb afsluttet": "courses_ended",
    "Forløb over 6 måneder": "over_6_months", "Afsluttede forløb med to ORS-målinger": "ors_pairs",
    "Netværksmøder afholdt": "network_meetings",
}
SHARES = {
    "Andel startet i gruppe": ("group_share", "courses_started"),
    "Afsluttet efter 12–16 uger": ("share_12_16_weeks", "courses_ended"),
    "Pålidelig forbedring": ("reliable_improvement_share", "ors_pairs"),
    "Pålidelig forværring": ("reliable_deterioration_share", "ors_pairs"),
}
STATISTICS = {
    "Ventetid fra henvisning til start, median": ("median_wait_days", "courses_started",
                                                  lambda v: f"{fmt.number(v)} dage"),
    "Forløbslængde, median": ("median_weeks", "courses_ended", lambda v: f"{fmt.number(v, 1)} uger"),
    "ORS-fremgang, første til sidste måling": ("ors_progress_pct", "ors_pairs", fmt.signed_percent),
    "Effektstørrelse": ("effect_size", "ors_pairs", lambda v: fmt.number(v, 2)),
}


# The rule of DESIGN §7, written out again by hand, to check the note against.
def small(n: int) -> bool:
    return 1 <= n <= 4


def count_text(n: int) -> str:
    return "<5" if small(n) else fmt.integer(n)


def share_text(share: float | None, whole: int) -> str:
    part = round((share or 0) * whole)
    if small(part) or small(whole) or small(whole - part):
        return "for få"
    return fmt.percent(share) if whole else "–"


def expected_rows(k: dict[str, Any]) -> dict[str, str]:
    rows = {label: count_text(k[key]) for label, key in COUNTS.items()}
    rows |= {label: share_text(k[key], k[whole]) for label, (key, whole) in SHARES.items()}
    rows |= {label: "for få" if small(k[cases]) else ("–" if k[key] is None else show(k[key]))
             for label, (key, cases, show) in STATISTICS.items()}
    rows["Afsluttede forløb med netværksmøde"] = share_text(
        k["courses_with_network_meeting"] / k["courses_ended"] if k["courses_ended"] else None, k["courses_ended"])
    return rows


def tables(document: Any) -> dict[str, dict[str, list[str]]]:
    """The tables of the .docx by their first header cell, each row by its label."""
    found = {}
    for table in document.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        found[rows[0][0]] = {row[0]: row[1:] for row in rows[1:]}
    return found


def _breakdowns(document: Any) -> list[dict[str, list[str]]]:
    """The breakdown tables (referrer, target group, next step), each row by its label."""
    return [{row.cells[0].text: [cell.text for cell in row.cells[1:]] for row in table.rows[1:]}
            for table in document.tables if table.rows[0].cells[0].text == ""]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def fokus(*arguments: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fokus", *arguments], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "DATABASE_URL": url}, timeout=300, check=True)


# ---------------------------------------------------------------------------------------
# The demo unit's last full year

@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, demo_original: Demo) -> Iterator[str]:
    yield demo_original.copy_to(tmp_path_factory.mktemp("notat"))
    db.dispose_all()


def test_the_note_shows_the_figures_of_kpi_json_with_small_counts_hidden_and_the_charts(
        demo_url: str, tmp_path: Path) -> None:
    year = today().year - 1
    start, end = date(year, 1, 1), date(year, 12, 31)
    before_start, before_end = metrics.previous_period(start, end)
    now = json.loads(fokus("kpi", "--from", str(start), "--to", str(end), "--json", url=demo_url).stdout)
    before = json.loads(fokus("kpi", "--from", str(before_start), "--to", str(before_end), "--json",
                              url=demo_url).stdout)
    made = fokus("report", "--from", str(start), "--to", str(end), "--unit", "FOKUS Faxe",
                 "--docx", str(tmp_path / "notat.docx"), "--pdf", str(tmp_path / "notat.pdf"), url=demo_url)
    assert "Udvalgsnotatet er gemt i" in made.stdout and "chromium" not in made.stdout

    document = docx.Document(str(tmp_path / "notat.docx"))
    main = tables(document)["Nøgletal"]
    expected_now, expected_before = expected_rows(now), expected_rows(before)
    for label in expected_now:
        assert main[label][:2] == [expected_now[label], expected_before[label]], label
    for label, key in (("Klinisk signifikant forbedring", "clinically_significant_share"),
                       ("Videre til § 85 eller anden SEL-indsats", "further_measure_share")):
        assert main[label][0] in ("for få", fmt.percent(now[key])), label  # its whole is not in the JSON
    referrers = _breakdowns(document)[0]
    if not any(small(n) for n in now["by_referrer"].values()):
        assert [referrers[label][0] for label in ("Socialcenter", "Jobcenter", "Andet")] == [
            fmt.integer(now["by_referrer"][code]) for code in ("socialcenter", "jobcenter", "other")]
    assert main["Forløb startet de seneste 12 måneder"][2] == "150–200 om året"

    images = [shape for shape in document.inline_shapes]
    assert len(images) == 4
    assert all(part.content_type == "image/png" for part in document.part.package.parts
               if part.partname.startswith("/word/media/"))

    data = (tmp_path / "notat.pdf").read_bytes()
    text = pdf_text(data)
    for label in expected_now:
        line = f"{label} {expected_now[label]} {expected_before[label]}"
        assert line in text, line
    assert "Udvalgsnotat: FOKUS Faxe" in text and "æ" in text and "ø" in text and "å" in text
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages) == 4
    assert "Scott D. Miller" in text and "Reliable Change Index" in text


# ---------------------------------------------------------------------------------------
# A small unit: every hidden cell worked out by hand

LOW = {"individual": 40, "interpersonal": 40, "social": 40, "overall": 40}  # 16 points
HIGH = {"individual": 70, "interpersonal": 70, "social": 70, "overall": 70}  # 28 points


@pytest.fixture
def small_unit(unit_id: int) -> Period:
    return fill_small_unit(unit_id)


def fill_small_unit(unit_id: int) -> Period:
    """Within the 90 days up to today: 7 referrals (5 Socialcenter, 2 Jobcenter, all psychic),
    6 courses started 10 days after referral (4 in a group, 2 individual), 2 of them ended 5 days
    ago with two ORS each (§ 85 and job after); one referral waits. Nothing before."""
    day = today()
    with db.write_session() as session:
        group = svc.create_group(session, SYSTEM, unit_id=unit_id, name="Hold T", start=day - timedelta(days=120)).id
        for i in range(7):
            referral = svc.register_referral(
                session, SYSTEM, unit_id=unit_id, citizen_ref=f"T-{i}", birth_year=1980,
                received=day - timedelta(days=80 - i), referrer="socialcenter" if i < 5 else "jobcenter",
                target_group="psychic")
            if i == 6:
                continue
            course = svc.start_course(session, SYSTEM, referral_id=referral.id, start=day - timedelta(days=70 - i),
                                      form="group" if i < 4 else "individual", group_id=group if i < 4 else None)
            if i < 2:
                svc.add_ors(session, SYSTEM, course_id=course.id, day=course.start, items=LOW)
                svc.add_ors(session, SYSTEM, course_id=course.id, day=day - timedelta(days=5), items=HIGH)
                svc.end_course(session, SYSTEM, course_id=course.id, end=day - timedelta(days=5),
                               end_reason="completed", next_step="sel85" if i == 0 else "job")
    return Period(day - timedelta(days=89), day, "De seneste 90 dage")


def test_small_counts_in_the_note_are_hidden_as_design_7_says(small_unit: Period, unit_id: int) -> None:
    with db.write_session() as session:
        note = report.note(session, SYSTEM, small_unit, unit_id)
    document = docx.Document(io.BytesIO(report.to_docx(note, None)))
    main = tables(document)["Nøgletal"]
    assert {label: cells[:2] for label, cells in main.items()} == {
        "Henvisninger modtaget": ["7", "0"],
        "Forløb startet": ["6", "0"],
        "Forløb startet de seneste 12 måneder": ["6", "0"],
        "Andel startet i gruppe": ["for få", "–"],  # 4 of 6: the part is under 5
        "Ventetid fra henvisning til start, median": ["10 dage", "–"],
        "Aktive forløb ved periodens slutning": ["<5", "0"],  # 4
        "På venteliste ved periodens slutning": ["<5", "0"],  # 1
        "Forløb afsluttet": ["<5", "0"],  # 2
        "Forløbslængde, median": ["for få", "–"],
        "Afsluttet efter 12–16 uger": ["for få", "–"],
        "Forløb over 6 måneder": ["0", "0"],
        "Afsluttede forløb med to ORS-målinger": ["<5", "0"],
        "ORS-fremgang, første til sidste måling": ["for få", "–"],  # +75 % from 2 pairs
        "Pålidelig forbedring": ["for få", "–"],
        "Pålidelig forværring": ["for få", "–"],
        "Klinisk signifikant forbedring": ["for få", "–"],
        "Effektstørrelse": ["for få", "–"],
        "Videre til § 85 eller anden SEL-indsats": ["for få", "–"],  # 1 of 2
        "Netværksmøder afholdt": ["0", "0"],
        "Afsluttede forløb med netværksmøde": ["for få", "–"],  # 0 of 2: the whole is under 5
    }
    assert main["Aktive forløb ved periodens slutning"][2] == "kapacitet 0"  # places, never hidden
    # Jobcenter's 2 are hidden; alone, they would show as 7 − 5, so Socialcenter's 5 is hidden too
    referrers, groups, steps = _breakdowns(document)
    assert referrers == {"Socialcenter": ["skjult", "for få", "0"], "Jobcenter": ["<5", "for få", "0"],
                         "Andet": ["0", "0 %", "0"], "I alt": ["7", "100 %", "0"]}
    assert groups["Psykisk"] == ["7", "100 %", "0"]
    assert steps["§ 85"][0] == steps["Job"][0] == "<5" and steps["I alt"][0] == "<5"
    text = " ".join(p.text for p in document.paragraphs)
    assert "75" not in text  # the progress of the 2 pairs (+75 %) is nowhere
    for section in note.sections:  # no bar of a chart shows a count of 1–4 either
        for chart in section.charts:
            assert not {str(n) for n in range(1, 5)} & set(chart.figure.data[0].text), chart.title


def test_only_leaders_and_administrators_make_the_note_and_only_for_their_own_units(
        small_unit: Period, unit_id: int) -> None:
    for actor in (Actor("medarbejder", "staff", frozenset({unit_id})), Actor("leder-b", "leader", frozenset({0}))):
        with pytest.raises(PermissionDenied), db.write_session() as session:
            report.note(session, actor, small_unit, unit_id)
    with db.write_session() as session:
        made = report.note(session, Actor("leder", "leader", frozenset({unit_id})), small_unit, unit_id)
    assert made.title == "Udvalgsnotat: FOKUS Test"


def test_without_a_browser_the_note_is_made_without_charts_and_says_so(small_unit: Period, unit_id: int) -> None:
    with db.write_session() as session:
        note = report.note(session, SYSTEM, small_unit, unit_id)
    assert report.NO_CHARTS in pdf_text(report.to_pdf(note, None)).replace("\n", " ")


# ---------------------------------------------------------------------------------------
# The page

def test_the_page_makes_the_note_for_a_leader_as_word_and_pdf(sqlite_url: str) -> None:
    from tests.apptest_helpers import app_as

    with db.write_session() as session:
        unit = svc.create_unit(session, SYSTEM, name="FOKUS Test", municipality="Testkommune").id
    fill_small_unit(unit)
    at = app_as("leder-notat", "leader", "pages/udvalgsnotat.py", unit_names=["FOKUS Test"])
    assert not at.exception and not at.error
    at.button(key="udvalgsnotat-lav").click().run()
    assert not at.exception and not at.error
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Hent som Word (.docx)", "Hent som PDF"]
    assert re.fullmatch(r"Udvalgsnotatet er klar \(\d\d\.\d\d\.\d{4}\)\.", at.success[0].value)
