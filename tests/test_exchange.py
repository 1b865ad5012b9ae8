"""The exchange workbook (DESIGN §5, issue 7): import, export, template and the monthly DST list.

Every refused file leaves the database exactly as it was (every row of every table compared),
and its problems are listed by sheet, the spreadsheet's row number and column. The round trip
runs on the demo data: export → import into an empty database → export gives the same sheets,
and the same key figures. The command line is tested by subprocess on SQLite.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlmodel import col, select

from fokus import clock, db, demo, exchange, fmt, metrics, retention, services
from fokus.actor import SYSTEM
from fokus.exchange import SHEETS, ImportRefused
from fokus.models import AuditEvent, Citizen, Course, Group, NetworkMeeting, OrsScore, Referral, Staff, Unit
from tests.conftest import Demo
from tests.test_rules import snapshot

PROJECT_ROOT = Path(__file__).resolve().parent.parent
Sheets = dict[str, list[dict[str, str]]]


def ago(days: int) -> str:
    return fmt.day(clock.today() - timedelta(days=days))


def good_sheets() -> Sheets:
    """A small unit: a completed group course, a rejected and a waiting referral, an open individual course."""
    def referral(ref: str, year: int, group: str, referrer: str, received: int, sel85: str, status: str,
                 decided: str = "") -> dict[str, str]:
        return dict(zip(SHEETS["henvisninger"], [ref, str(year), group, referrer, ago(received), sel85, status,
                                                 decided, ""], strict=True))

    return {
        "henvisninger": [  # spreadsheet rows 2–5
            referral("B-1", 1980, "psykisk", "socialcenter", 200, "nej", "startet"),
            referral("B-2", 1990, "fysisk", "jobcenter", 150, "ja", "afvist", ago(140)),
            referral("B-3", 1985, "social", "andet", 30, "nej", "venter"),
            referral("B-4", 1975, "psykisk", "jobcenter", 120, "nej", "startet", ago(100)),
        ],
        "forloeb": [
            dict(zip(SHEETS["forloeb"], ["F-1", "B-1", ago(200), ago(190), "gruppe", "Hold A", "AB", ago(100),
                                         "gennemfoert", "ingen"], strict=True)),
            dict(zip(SHEETS["forloeb"], ["F-2", "B-4", ago(120), ago(100), "individuel", "", "cd", "", "", ""],
                     strict=True)),
        ],
        "ors": [
            dict(zip(SHEETS["ors"], ["F-1", ago(190), "2,5", "3", "4,5", "2"], strict=True)),
            dict(zip(SHEETS["ors"], ["F-1", ago(110), "6", "7,5", "6.5", "7"], strict=True)),
            dict(zip(SHEETS["ors"], ["F-2", ago(100), "5", "5", "5", "5"], strict=True)),
        ],
        "netvaerksmoeder": [dict(zip(SHEETS["netvaerksmoeder"], ["F-1", ago(150), "4"], strict=True))],
        "medarbejdere": [dict(zip(SHEETS["medarbejdere"], ["AB", "Anne Berg", "ja", "12"], strict=True))],
    }


def xlsx(sheets: Sheets) -> bytes:
    """The sheets as an .xlsx of text cells, headers from the rows (or the contract when a sheet is empty)."""
    frames = {name: pd.DataFrame(rows, columns=list(rows[0]) if rows else list(SHEETS[name]))
              for name, rows in sheets.items()}
    return exchange.to_xlsx(frames)


def check(sheets: Sheets, unit_id: int) -> exchange.Plan:
    with db.write_session() as session:
        return exchange.check(session, SYSTEM, exchange.read_workbook(xlsx(sheets)), unit_id)


def import_(sheets: Sheets, unit_id: int) -> exchange.Tally:
    with db.write_session() as session:
        return exchange.import_workbook(session, SYSTEM, exchange.read_workbook(xlsx(sheets)), unit_id)


def where(plan_or_problems: exchange.Plan | tuple[exchange.Problem, ...]) -> list[tuple[str, int | None, str]]:
    problems = plan_or_problems.problems if isinstance(plan_or_problems, exchange.Plan) else plan_or_problems
    return [(p.sheet, p.row, p.column) for p in problems]


def count(model: type) -> int:
    with db.read_session() as session:
        return len(session.exec(select(model)).all())


# ---------------------------------------------------------------------------------------
# A good file

def test_a_good_file_is_checked_without_a_trace_then_imported_whole(unit_id: int) -> None:
    before = snapshot()
    plan = check(good_sheets(), unit_id)
    assert snapshot() == before, "checking wrote something"
    assert plan.ok, plan.problems
    assert plan.tally.added == {"henvisninger": 4, "forloeb": 2, "ors": 3, "netvaerksmoeder": 1, "medarbejdere": 1}
    assert plan.tally.new_groups == ["Hold A"] and plan.tally.new_staff == ["CD"]

    with db.write_session() as session:
        exchange.apply(session, SYSTEM, plan)
    today = clock.today()
    with db.read_session() as session:
        referrals = {session.get(Citizen, r.citizen_id).ref: r for r in session.exec(select(Referral))}  # type: ignore[union-attr]
        assert {ref: (r.status, r.decided) for ref, r in referrals.items()} == {
            "B-1": ("started", today - timedelta(days=190)),  # afgjort_dato empty: the course's start
            "B-2": ("rejected", today - timedelta(days=140)),
            "B-3": ("waiting", None),
            "B-4": ("started", today - timedelta(days=100)),
        }
        assert referrals["B-2"].reason == "other" and referrals["B-2"].from_sel85 is True
        courses = {c.ref: c for c in session.exec(select(Course))}
        assert (courses["F-1"].form, courses["F-1"].end, courses["F-1"].end_reason, courses["F-1"].next_step) == (
            "group", today - timedelta(days=100), "completed", "none")
        assert courses["F-2"].end is None and courses["F-2"].form == "individual"
        group = session.exec(select(Group)).one()
        assert (group.name, group.start, courses["F-1"].group_id) == ("Hold A", today - timedelta(days=190), group.id)
        staff = {s.initials: (s.name, s.max_active_courses) for s in session.exec(select(Staff))}
        assert staff == {"AB": ("Anne Berg", 12), "CD": ("CD", 15)}  # CD named only as a contact person
        first = session.exec(select(OrsScore).where(OrsScore.course_id == courses["F-1"].id)
                             .order_by(col(OrsScore.date))).first()
        assert first is not None  # 2,5 / 3 / 4,5 / 2 in whole tenths, decimal comma and point alike
        assert (first.individual, first.interpersonal, first.social, first.overall, first.session_no) == (
            25, 30, 45, 20, 1)
        assert session.exec(select(NetworkMeeting.participants)).one() == 4
        logged = session.exec(select(AuditEvent).where(AuditEvent.action == "created", AuditEvent.table_name == "")
                              ).one()
        assert logged.detail == ("import af udvekslingsfil: tilføjet: 4 henvisninger, 2 forloeb, 3 ors, "
                                 "1 netvaerksmoeder, 1 medarbejdere; 0 rækker fandtes allerede")
        per_citizen = session.exec(select(AuditEvent.citizen_ref).where(AuditEvent.table_name == "referral",
                                                                          AuditEvent.action == "created")).all()
        assert sorted(per_citizen) == ["B-1", "B-2", "B-3", "B-4"]


def test_importing_the_same_file_twice_adds_nothing_the_second_time(unit_id: int) -> None:
    import_(good_sheets(), unit_id)
    before = snapshot()
    plan = check(good_sheets(), unit_id)
    assert plan.ok, plan.problems
    assert sum(plan.tally.added.values()) == 0
    assert plan.tally.skipped == {"henvisninger": 4, "forloeb": 2, "ors": 3, "netvaerksmoeder": 1, "medarbejdere": 1}
    with db.write_session() as session:
        exchange.apply(session, SYSTEM, plan)
    after = snapshot()
    new_events = set(after.pop("auditevent")) - set(before.pop("auditevent"))
    assert after == before
    assert [(event[3], event[-1]) for event in new_events] == [  # (action, detail)
        ("created", "import af udvekslingsfil: tilføjet: intet; 11 rækker fandtes allerede")]


def test_a_csv_folder_with_decimal_comma_or_point_reads_as_the_workbook(unit_id: int, tmp_path: Path) -> None:
    sheets = good_sheets()
    for name, rows in sheets.items():
        lines = [";".join(rows[0])] + [";".join(row.values()) for row in rows]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    folder = exchange.read_workbook(tmp_path)
    assert folder == exchange.read_workbook(xlsx(sheets))
    with db.write_session() as session:
        assert exchange.check(session, SYSTEM, folder, unit_id).ok


def test_the_progress_callback_reaches_every_row(unit_id: int) -> None:
    seen: list[tuple[int, int]] = []
    with db.write_session() as session:
        exchange.check(session, SYSTEM, exchange.read_workbook(xlsx(good_sheets())), unit_id,
                       progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (11, 11)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


# ---------------------------------------------------------------------------------------
# Bad files: refused, every bad row listed, nothing written

def _drop(sheet: str) -> Callable[[Sheets], None]:
    return lambda sheets: sheets.pop(sheet) and None  # type: ignore[func-returns-value]


def _set(sheet: str, row: int, **cells: str) -> Callable[[Sheets], None]:
    """Set cells of the spreadsheet's row `row` (2 is the first row under the headers)."""
    def change(sheets: Sheets) -> None:
        sheets[sheet][row - 2].update(cells)
    return change


def _append_copy(sheet: str, row: int) -> Callable[[Sheets], None]:
    return lambda sheets: sheets[sheet].append(dict(sheets[sheet][row - 2]))


def _extra_column(sheets: Sheets) -> None:
    for row in sheets["henvisninger"]:
        row["cpr_nr"] = ""


def _all(*changes: Callable[[Sheets], None]) -> Callable[[Sheets], None]:
    def change(sheets: Sheets) -> None:
        for one in changes:
            one(sheets)
    return change


FUTURE = fmt.day(clock.today() + timedelta(days=5))
BAD_FILES: dict[str, tuple[Callable[[Sheets], None], list[tuple[str, int | None, str]], list[str]]] = {
    # A missing required sheet; the referrals it leaves without a course, and the rows naming its courses.
    "missing required sheet": (_drop("forloeb"), [
        ("henvisninger", 2, "status"), ("henvisninger", 5, "status"), ("forloeb", None, ""),
        ("ors", 2, "forloeb"), ("ors", 3, "forloeb"), ("ors", 4, "forloeb"), ("netvaerksmoeder", 2, "forloeb"),
    ], ["intet forløb", "intet forløb", "Arket mangler", "Ukendt forløb F-1"]),
    "unknown column": (_extra_column, [("henvisninger", 1, "cpr_nr")], ["Ukendt kolonne"]),
    "bad or ambiguous dates": (_all(_set("henvisninger", 3, henvist_dato="31.02.2024"),
                                    _set("henvisninger", 4, henvist_dato="03/04/24"),
                                    _set("forloeb", 3, start_dato="2024-4-3")),
                               [("henvisninger", 3, "henvist_dato"), ("henvisninger", 4, "henvist_dato"),
                                ("forloeb", 3, "start_dato")],
                               ["findes ikke i kalenderen", "kan ikke læses", "kan ikke læses"]),
    "item outside 0–10 or with two decimals": (_all(_set("ors", 2, individuelt="10,5"), _set("ors", 3, socialt="7,25")),
                                               [("ors", 2, "individuelt"), ("ors", 3, "socialt")],
                                               ["fra 0 til 10", "højst have én decimal"]),
    "unknown course reference": (_set("ors", 4, forloeb="F-9"), [("ors", 4, "forloeb")], ["Ukendt forløb F-9"]),
    "a CPR number in a cell": (_all(_set("henvisninger", 2, aldersnote="cpr 010190 1234"),
                                    _set("henvisninger", 4, borger="010190-1234")),
                               [("henvisninger", 2, "aldersnote"), ("henvisninger", 4, "borger")],
                               ["CPR-nummer", "CPR-nummer"]),
    "a row repeated in the file": (_all(_append_copy("ors", 3), _append_copy("henvisninger", 4)),
                                   [("henvisninger", 6, "borger"), ("ors", 5, "forloeb")],
                                   ["gentager række 4", "gentager række 3"]),
    "a rule of the service layer": (_all(_set("netvaerksmoeder", 2, dato=FUTURE),
                                         _set("henvisninger", 4, foedselsaar=str(clock.today().year - 70)),
                                         _set("ors", 4, dato=ago(150))),
                                    [("henvisninger", 4, "aldersnote"), ("ors", 4, "dato"),
                                     ("netvaerksmoeder", 2, "dato")],
                                    ["uden for 18–65", "inden for forløbet", "i fremtiden"]),
    "a code that is not the workbook's": (_all(_set("henvisninger", 3, henviser="kommunen"),
                                               _set("forloeb", 2, form="gruppeforløb")),
                                          [("henvisninger", 3, "henviser"), ("forloeb", 2, "form")],
                                          ["socialcenter | jobcenter | andet", "gruppe | individuel"]),
    "started without a course": (_set("henvisninger", 4, status="startet"), [("henvisninger", 4, "status")],
                                 ["intet forløb"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_with_every_bad_row_listed_and_nothing_written(case: str, unit_id: int) -> None:
    change, expected, words = BAD_FILES[case]
    sheets = good_sheets()
    change(sheets)
    before = snapshot()
    plan = check(sheets, unit_id)
    assert where(plan) == expected
    for problem, word in zip(plan.problems, words, strict=False):
        assert word.lower() in problem.reason.lower(), (word, problem)
    with pytest.raises(ImportRefused) as refused, db.write_session() as session:
        exchange.apply(session, SYSTEM, plan)
    assert refused.value.problems == plan.problems
    with pytest.raises(ImportRefused) as again, db.write_session() as session:  # the one-pass import as well
        exchange.import_workbook(session, SYSTEM, exchange.read_workbook(xlsx(sheets)), unit_id)
    assert where(again.value.problems) == expected
    assert snapshot() == before


def test_every_bad_row_of_a_file_with_many_kinds_is_listed_at_once(unit_id: int) -> None:
    sheets = good_sheets()
    for case in ("bad or ambiguous dates", "item outside 0–10 or with two decimals", "unknown column"):
        BAD_FILES[case][0](sheets)
    _set("netvaerksmoeder", 2, deltagere="0")(sheets)
    assert where(check(sheets, unit_id)) == [
        ("henvisninger", 1, "cpr_nr"), ("henvisninger", 3, "henvist_dato"), ("henvisninger", 4, "henvist_dato"),
        ("forloeb", 3, "start_dato"), ("ors", 2, "individuelt"), ("ors", 3, "socialt"),
        ("netvaerksmoeder", 2, "deltagere"),
    ]


def test_a_known_key_with_other_values_is_refused_and_names_the_columns(unit_id: int) -> None:
    import_(good_sheets(), unit_id)
    sheets = good_sheets()
    _set("henvisninger", 3, henviser="socialcenter", revisitering_85="nej")(sheets)
    _set("forloeb", 3, kontaktperson="AB")(sheets)
    _set("ors", 3, generelt="7,1")(sheets)
    _set("medarbejdere", 2, hoejst_aktive_forloeb="10")(sheets)
    before = snapshot()
    plan = check(sheets, unit_id)
    assert where(plan) == [("henvisninger", 3, "henviser"), ("forloeb", 3, "kontaktperson"),
                           ("ors", 3, "generelt"), ("medarbejdere", 2, "hoejst_aktive_forloeb")]
    assert "henviser, revisitering_85 (gemt: henviser = jobcenter; revisitering_85 = ja)" in plan.problems[0].reason
    assert "generelt = 7,0" in plan.problems[2].reason
    with pytest.raises(ImportRefused), db.write_session() as session:
        exchange.import_workbook(session, SYSTEM, exchange.read_workbook(xlsx(sheets)), unit_id)
    assert snapshot() == before


def _on_one_group(refs: list[str], group: str, started: int) -> Sheets:
    """These citizens, each referred and started on `group` the same day (`started` days ago)."""
    return {
        "henvisninger": [dict(zip(SHEETS["henvisninger"], [ref, "1980", "psykisk", "socialcenter", ago(started + 10),
                                                           "nej", "startet", "", ""], strict=True)) for ref in refs],
        "forloeb": [dict(zip(SHEETS["forloeb"], [f"F-{ref}", ref, ago(started + 10), ago(started), "gruppe", group,
                                                 "", "", "", ""], strict=True)) for ref in refs],
    }


def test_a_new_group_gets_places_for_the_files_members_and_a_full_one_refuses_more(unit_id: int) -> None:
    # The workbook does not say how many places a group has: a group it creates gets room for the most of
    # the file's courses on it at once (at least the usual 10), since they have run on it.
    import_(_on_one_group([f"S-{n}" for n in range(12)], "Hold Stor", started=60), unit_id)
    with db.read_session() as session:
        assert session.exec(select(Group.capacity).where(Group.name == "Hold Stor")).one() == 12
    assert count(Course) == 12
    before = snapshot()
    plan = check(_on_one_group(["S-12"], "Hold Stor", started=50), unit_id)
    assert where(plan) == [("forloeb", 2, "hold")]
    assert "Hold Stor er fuldt" in plan.problems[0].reason and "siden Hold" in plan.problems[0].reason
    assert snapshot() == before


def test_a_finished_course_listed_after_the_group_filled_takes_its_place_only_until_its_end(unit_id: int) -> None:
    # rows come in any order (they are written by citizen): a course that ended long before the group
    # filled is written after the twelve that fill it, and whole
    sheets = _on_one_group([f"S-{n}" for n in range(12)], "Hold Stor", started=60)
    early = _on_one_group(["Z-1"], "Hold Stor", started=200)
    early["forloeb"][0] |= {"slut_dato": ago(150), "afslutning": "gennemfoert", "efterfoelgende": "ingen"}
    import_({sheet: sheets[sheet] + early[sheet] for sheet in sheets}, unit_id)
    with db.read_session() as session:
        assert session.exec(select(Group.capacity).where(Group.name == "Hold Stor")).one() == 12
    assert count(Course) == 13


def test_a_plan_is_checked_again_when_it_is_applied(unit_id: int) -> None:
    plan = check(good_sheets(), unit_id)
    with db.write_session() as session:  # a colleague registers B-3 by hand meanwhile, from another referrer
        services.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref="B-3", birth_year=1985,
                                   received=clock.today() - timedelta(days=30), referrer="jobcenter",
                                   target_group="social")
    before = snapshot()
    with pytest.raises(ImportRefused) as refused, db.write_session() as session:
        exchange.apply(session, SYSTEM, plan)
    assert where(refused.value.problems) == [("henvisninger", 4, "henviser")]
    assert snapshot() == before


def test_the_sheet_vejledning_is_ignored_and_another_unknown_sheet_is_refused(unit_id: int) -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx(good_sheets())))
    book.create_sheet(exchange.GUIDE_SHEET).append(["Læs mig"])
    book.create_sheet("Ark1").append(["noget"])
    buffer = io.BytesIO()
    book.save(buffer)
    workbook = exchange.read_workbook(buffer.getvalue())
    assert where(workbook.problems) == [("Ark1", None, "")]
    assert exchange.GUIDE_SHEET not in workbook.sheets


def test_a_file_that_is_not_a_workbook_is_refused_in_danish() -> None:
    with pytest.raises(exchange.ValidationError, match="Excel-regneark"):
        exchange.read_workbook(b"not a spreadsheet")


def test_a_citizen_in_the_deletion_register_does_not_come_back(unit_id: int) -> None:
    with db.write_session() as session:
        unit_name = session.get(Unit, unit_id).name  # type: ignore[union-attr]
        deleted = clock.now_utc() - timedelta(days=20)
        retention.apply_register(session, SYSTEM, {retention.ref_hash(unit_name, "B-1"): deleted,
                                                    retention.ref_hash(unit_name, "B-3"): deleted})
    plan = check(good_sheets(), unit_id)
    assert plan.ok, plan.problems
    # B-1 (referred 200 days ago, a course with two ORS and a meeting) was deleted after that: kept out.
    # B-3 was referred 30 days ago, before the deletion 20 days ago: kept out as well.
    assert plan.tally.deleted == {"henvisninger": 2, "forloeb": 1, "ors": 2, "netvaerksmoeder": 1, "medarbejdere": 0}
    assert plan.tally.added["henvisninger"] == 2
    with db.write_session() as session:
        exchange.apply(session, SYSTEM, plan)
    with db.read_session() as session:
        assert sorted(session.exec(select(Citizen.ref))) == ["B-2", "B-4"]


def test_a_referral_after_the_deletion_is_new_work_and_is_imported(unit_id: int) -> None:
    with db.write_session() as session:
        unit_name = session.get(Unit, unit_id).name  # type: ignore[union-attr]
        retention.apply_register(session, SYSTEM, {retention.ref_hash(unit_name, "B-3"):
                                                   clock.now_utc() - timedelta(days=40)})
    plan = check(good_sheets(), unit_id)  # B-3 was referred 30 days ago, ten days after the deletion
    assert plan.tally.deleted["henvisninger"] == 0 and plan.tally.added["henvisninger"] == 4


# ---------------------------------------------------------------------------------------
# Template, export, DST list

def test_the_template_has_every_sheet_with_exact_headers_and_a_guide() -> None:
    book = openpyxl.load_workbook(io.BytesIO(exchange.template()))
    assert book.sheetnames == ["vejledning", "henvisninger", "forloeb", "ors", "netvaerksmoeder", "medarbejdere"]
    for name, columns in SHEETS.items():
        assert [cell.value for cell in book[name][1]] == list(columns)
    assert SHEETS["henvisninger"] == ("borger", "foedselsaar", "maalgruppe", "henviser", "henvist_dato",
                                      "revisitering_85", "status", "afgjort_dato", "aldersnote")
    assert SHEETS["forloeb"] == ("forloeb", "borger", "henvist_dato", "start_dato", "form", "hold", "kontaktperson",
                                 "slut_dato", "afslutning", "efterfoelgende")
    assert SHEETS["ors"] == ("forloeb", "dato", "individuelt", "interpersonelt", "socialt", "generelt")
    assert SHEETS["netvaerksmoeder"] == ("forloeb", "dato", "deltagere")
    assert "CPR" in " ".join(str(row[0].value) for row in book["vejledning"].iter_rows())
    workbook = exchange.read_workbook(exchange.template())
    assert workbook.problems == () and workbook.row_count == 0


def test_the_export_gives_the_imported_rows_back_and_logs_every_citizen(unit_id: int) -> None:
    import_(good_sheets(), unit_id)
    with db.write_session() as session:
        sheets = exchange.export_sheets(session, SYSTEM, unit_id)
    exported = exchange.read_workbook(exchange.to_xlsx(sheets))
    assert exported.sheets["henvisninger"][0].cells == {
        "borger": "B-1", "foedselsaar": "1980", "maalgruppe": "psykisk", "henviser": "socialcenter",
        "henvist_dato": (clock.today() - timedelta(days=200)).isoformat(), "revisitering_85": "nej",
        "status": "startet", "afgjort_dato": (clock.today() - timedelta(days=190)).isoformat(), "aldersnote": ""}
    assert [row.cells["individuelt"] for row in exported.sheets["ors"]] == ["2.5", "6", "5"]
    assert [row.cells["initialer"] for row in exported.sheets["medarbejdere"]] == ["AB", "CD"]
    with db.read_session() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "exported")).all()
    assert sorted(e.citizen_ref for e in events if e.citizen_ref) == ["B-1", "B-2", "B-3", "B-4"]
    summary = [e.detail for e in events if e.citizen_ref is None]
    assert summary == ["udvekslingsfil (alle data): 4 borgere; 4 henvisninger, 2 forloeb, 3 ors, 1 netvaerksmoeder, "
                       "2 medarbejdere"]


def test_an_export_of_a_period_holds_the_referrals_that_touch_it(unit_id: int) -> None:
    import_(good_sheets(), unit_id)
    today = clock.today()
    with db.write_session() as session:
        # 95–60 days ago: B-1's course ended 100 days ago and B-2 was rejected 140 days ago (out);
        # B-4's course is open (in); B-3 was referred 30 days ago (out).
        sheets = exchange.export_sheets(session, SYSTEM, unit_id, today - timedelta(days=95),
                                        today - timedelta(days=60))
    assert list(sheets["henvisninger"]["borger"]) == ["B-4"]
    assert list(sheets["forloeb"]["forloeb"]) == ["F-2"]
    assert list(sheets["ors"]["forloeb"]) == ["F-2"]
    assert sheets["netvaerksmoeder"].empty


def test_the_csv_export_is_danish_and_reads_back_the_same(unit_id: int, tmp_path: Path) -> None:
    import_(good_sheets(), unit_id)
    with db.write_session() as session:
        sheets = exchange.export_sheets(session, SYSTEM, unit_id)
    exchange.write_csv_folder(sheets, tmp_path)
    lines = (tmp_path / "ors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[:2] == ["forloeb;dato;individuelt;interpersonelt;socialt;generelt",
                         f"F-1;{ago(190)};2,5;3,0;4,5;2,0"]
    before = snapshot()
    with db.write_session() as session:
        tally = exchange.import_workbook(session, SYSTEM, exchange.read_workbook(tmp_path), unit_id)
    assert sum(tally.added.values()) == 0
    assert {k: v for k, v in snapshot().items() if k != "auditevent"} == {
        k: v for k, v in before.items() if k != "auditevent"}


def test_the_dst_list_holds_the_courses_started_or_ended_in_the_month(unit_id: int) -> None:
    with db.write_session() as session:
        def course(ref: str, received: date, start: date, form: str, end: date | None = None) -> None:
            referral = services.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1980,
                                                  received=received, referrer="socialcenter", target_group="psychic")
            made = services.start_course(session, SYSTEM, referral_id=referral.id, start=start, form=form,
                                         ref=f"F-{ref}")
            if end is not None:
                services.end_course(session, SYSTEM, course_id=made.id, end=end, end_reason="completed")

        course("A", date(2025, 1, 5), date(2025, 2, 28), "group", date(2025, 3, 1))  # ended 1 March
        course("B", date(2025, 2, 1), date(2025, 3, 31), "individual")  # started 31 March
        course("C", date(2025, 2, 1), date(2025, 2, 10), "group", date(2025, 4, 1))  # neither in March
        course("D", date(2025, 3, 2), date(2025, 3, 3), "individual", date(2025, 3, 20))  # both: one row
        frame = exchange.dst_monthly(session, SYSTEM, unit_id, 2025, 3)
    assert frame.values.tolist() == [
        ["A", "F-A", "§ 82a", date(2025, 2, 28), date(2025, 3, 1)],
        ["D", "F-D", "§ 82b", date(2025, 3, 3), date(2025, 3, 20)],
        ["B", "F-B", "§ 82b", date(2025, 3, 31), None],
    ]
    assert exchange.dst_csv(frame).decode("utf-8-sig").splitlines() == [
        "Borger;Forløb;Lovgrundlag;Startdato;Slutdato",
        "A;F-A;§ 82a;28.02.2025;01.03.2025", "D;F-D;§ 82b;03.03.2025;20.03.2025", "B;F-B;§ 82b;31.03.2025;"]
    book = openpyxl.load_workbook(io.BytesIO(exchange.dst_xlsx(frame)))
    assert book["dst"]["D2"].value.date() == date(2025, 2, 28) and book["dst"]["D2"].number_format == "DD.MM.YYYY"
    with db.read_session() as session:
        logged = session.exec(select(AuditEvent.citizen_ref).where(AuditEvent.action == "exported")).all()
    assert sorted(ref for ref in logged if ref) == ["A", "B", "D"]


# ---------------------------------------------------------------------------------------
# The round trip on the demo data

@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory, demo_original: Demo) -> Iterator[tuple[str, bytes]]:
    """(url of a copy of the demo database, its export as .xlsx)."""
    url = demo_original.copy_to(tmp_path_factory.mktemp("demo"))
    with db.write_session(db.engine_for(url)) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.name == demo.UNIT_NAME)).one()
        data = exchange.export(session, SYSTEM, unit_id)
    yield url, data
    db.dispose_all()


def _periods() -> list[tuple[date, date]]:
    today = clock.today()
    return [(today - timedelta(days=365 * (back + 1) - 1), today - timedelta(days=365 * back)) for back in range(3)]


@pytest.mark.slow
def test_the_demo_data_round_trips_through_the_workbook(demo_export: tuple[str, bytes], db_url: str) -> None:
    demo_url, data = demo_export
    with db.write_session() as session:
        unit_id = services.create_unit(session, SYSTEM, name=demo.UNIT_NAME, municipality=demo.MUNICIPALITY).id
    with db.write_session() as session:
        tally = exchange.import_workbook(session, SYSTEM, exchange.read_workbook(data), unit_id)
    assert tally.added["henvisninger"] > 600 and tally.added["ors"] > 6000
    with db.write_session() as session:
        again = exchange.export(session, SYSTEM, unit_id)
    first, second = exchange.read_workbook(data), exchange.read_workbook(again)
    assert list(second.sheets) == list(first.sheets) == list(SHEETS)
    for name in SHEETS:
        assert [row.cells for row in second.sheets[name]] == [row.cells for row in first.sheets[name]], name
    for start, end in _periods():
        with db.read_session(db.engine_for(demo_url)) as session:
            expected = metrics.compute_kpis(session, SYSTEM, start, end)
        with db.read_session() as session:
            assert metrics.compute_kpis(session, SYSTEM, start, end) == expected


# ---------------------------------------------------------------------------------------
# The command line (SQLite, by subprocess)

def fokus(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fokus", *arguments], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, env={**os.environ, "DATABASE_URL": url})


def test_the_import_command_refuses_a_bad_file_with_the_list_and_exit_code_1(sqlite_url: str, tmp_path: Path) -> None:
    with db.write_session() as session:
        services.create_unit(session, SYSTEM, name="FOKUS Test", municipality="Testkommune")
    sheets = good_sheets()
    BAD_FILES["item outside 0–10 or with two decimals"][0](sheets)
    (tmp_path / "bad.xlsx").write_bytes(xlsx(sheets))
    before = snapshot()
    result = fokus(sqlite_url, "import", str(tmp_path / "bad.xlsx"))
    assert result.returncode == 1, result
    assert result.stderr.splitlines() == [
        "Filen er afvist, og intet er gemt: 2 fejl.",
        "  ark ors, række 2, kolonne individuelt: Værdien skal ligge fra 0 til 10.",
        "  ark ors, række 3, kolonne socialt: Værdien må højst have én decimal (fx 7,5).",
    ]
    assert snapshot() == before


def test_the_import_command_dry_run_writes_nothing_and_a_real_run_imports(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "good.xlsx").write_bytes(xlsx(good_sheets()))
    db.upgrade_to_head()
    before = snapshot()
    dry = fokus(sqlite_url, "import", str(tmp_path / "good.xlsx"), "--unit", "FOKUS Ny", "--kommune", "Nykommune",
                "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("Prøvekørsel, intet er gemt. Filen kan importeres: tilføjet: 4 henvisninger")
    assert snapshot() == before
    real = fokus(sqlite_url, "import", str(tmp_path / "good.xlsx"), "--unit", "FOKUS Ny", "--kommune", "Nykommune")
    assert real.returncode == 0, real.stderr
    assert count(Referral) == 4
    twice = fokus(sqlite_url, "import", str(tmp_path / "good.xlsx"))
    assert twice.stdout.strip() == "Importeret: tilføjet: intet; 11 rækker fandtes allerede."
    unknown = fokus(sqlite_url, "import", str(tmp_path / "good.xlsx"), "--unit", "Ukendt")
    assert unknown.returncode == 2 and "angiv --kommune" in unknown.stderr


@pytest.mark.slow
def test_the_commands_round_trip_the_demo_and_kpi_json_is_identical(demo_export: tuple[str, bytes],
                                                                    sqlite_url: str, tmp_path: Path) -> None:
    demo_url, _ = demo_export
    assert fokus(demo_url, "export", str(tmp_path / "demo.xlsx")).returncode == 0
    loaded = fokus(sqlite_url, "import", str(tmp_path / "demo.xlsx"), "--unit", demo.UNIT_NAME,
                   "--kommune", demo.MUNICIPALITY)
    assert loaded.returncode == 0, loaded.stderr
    assert fokus(sqlite_url, "export", str(tmp_path / "again")).returncode == 0  # a folder of CSV files
    first, second = exchange.read_workbook(tmp_path / "demo.xlsx"), exchange.read_workbook(tmp_path / "again")
    for name in SHEETS:
        assert [_plain(row.cells) for row in second.sheets[name]] == [
            _plain(row.cells) for row in first.sheets[name]], name
    for start, end in _periods():
        period = ["kpi", "--from", start.isoformat(), "--to", end.isoformat(), "--json"]
        expected, got = fokus(demo_url, *period), fokus(sqlite_url, *period)
        assert got.returncode == 0 and json.loads(got.stdout) == json.loads(expected.stdout)
    dst = fokus(sqlite_url, "dst", str(tmp_path / "dst.csv"), "--year", str(start.year), "--month", str(start.month))
    assert dst.returncode == 0 and (tmp_path / "dst.csv").read_text(encoding="utf-8-sig").startswith("Borger;")


def _plain(cells: Any) -> dict[str, str]:
    """A cell as both files mean it: the CSV's dd.mm.yyyy and decimal comma, the workbook's ISO date and point."""
    plain = {}
    for column, text in cells.items():
        if column in ("henvist_dato", "afgjort_dato", "start_dato", "slut_dato", "dato") and text:
            text = fmt.parse_date(text).isoformat()
        elif column in exchange.ITEMS and text:
            text = f"{fmt.parse_decimal(text, column, column):g}"
        plain[column] = text
    return plain
