"""The Medarbejdere page (AppTest, SQLite): caseload against each person's maximum, new staff,
edits with a conflict check, and moving all or some of one person's courses to a colleague.

Every form: a valid save, each kind of invalid input (the Danish message is shown, everything
typed stays in the form, and every table is exactly as before), and a conflict on edit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from fokus import clock, db
from fokus import services as svc
from fokus.actor import SYSTEM
from fokus.models import Course, Staff
from tests.apptest_helpers import app_as, click
from tests.test_rules import snapshot

PAGE = "pages/medarbejdere.py"
TODAY = clock.today()


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@dataclass(frozen=True)
class Unit:
    unit_id: int
    anna: int
    carl: int
    dina: int
    annas_courses: list[int]


@pytest.fixture
def unit(sqlite_url: str) -> Unit:
    """Anna has three active courses and one ended; Carl (at most 4) has one; Dina none."""
    with db.write_session() as s:
        unit_id = svc.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id
        anna = svc.add_staff(s, SYSTEM, unit_id=unit_id, name="Anna Berg", initials="AB", max_active_courses=15)
        carl = svc.add_staff(s, SYSTEM, unit_id=unit_id, name="Carl Dahl", initials="CD", max_active_courses=4)
        dina = svc.add_staff(s, SYSTEM, unit_id=unit_id, name="Dina Eskildsen", initials="DE", max_active_courses=10)
        courses = []
        for number, contact in enumerate([anna, anna, anna, anna, carl], start=1):
            referral = svc.register_referral(
                s, SYSTEM, unit_id=unit_id, citizen_ref=f"B-{number}", birth_year=TODAY.year - 40,
                received=days_ago(60), referrer="socialcenter", target_group="psychic",
            )
            courses.append(svc.start_course(s, SYSTEM, referral_id=referral.id, start=days_ago(50 - number),
                                            form="individual", contact_person_id=contact.id))
        svc.end_course(s, SYSTEM, course_id=courses[3].id, end=days_ago(5), end_reason="completed", next_step="job")
    return Unit(unit_id, anna.id, carl.id, dina.id, [c.id for c in courses[:3]])


def open_page() -> AppTest:
    at = app_as("medarbejdere-leder", "leader", PAGE)
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def successes(at: AppTest) -> str:
    return " ".join(s.value for s in at.success)


def staff_row(staff_id: int) -> Staff:
    with db.read_session() as session:
        row = session.get(Staff, staff_id)
        assert row is not None
        return row


def contact_of(course_ids: list[int]) -> list[int | None]:
    with db.read_session() as session:
        rows = session.exec(select(Course).where(col(Course.id).in_(course_ids)).order_by(col(Course.id))).all()
        return [row.contact_person_id for row in rows]


# ---------------------------------------------------------------------------------------
# The caseload

def test_the_page_shows_each_persons_active_courses_against_their_maximum(unit: Unit) -> None:
    at = open_page()
    listing = at.dataframe[0].value
    assert listing[["Initialer", "Aktive forløb", "Højst"]].values.tolist() == [
        ["AB", 3, 15], ["CD", 1, 4], ["DE", 0, 10]]
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars, limits = figure["data"][0], figure["data"][1]
    assert bars["x"] == [3, 1, 0] and limits["x"] == [15, 4, 10]
    assert "Aktive forløb pr. medarbejder" in figure["layout"]["title"]["text"]


def test_a_caseload_over_the_maximum_is_drawn_in_another_colour_and_explained(unit: Unit) -> None:
    with db.write_session() as s:
        svc.update_staff(s, SYSTEM, staff_id=unit.anna, expected_version=1, name="Anna Berg", initials="AB",
                         active=True, max_active_courses=2)
    figure = json.loads(open_page().get("plotly_chart")[0].proto.spec)
    bars = figure["data"][0]
    assert bars["marker"]["color"] == ["#d55e00", "#0072b2", "#0072b2"]
    assert [trace["name"] for trace in figure["data"]] == ["Aktive forløb", "Over højst", "Højst"]


# ---------------------------------------------------------------------------------------
# Moving courses

def test_all_of_one_persons_courses_move_to_a_colleague_in_one_step(unit: Unit) -> None:
    at = open_page()
    assert at.selectbox(key="medarbejdere-flyt-fra").value == unit.anna
    assert at.multiselect(key=f"medarbejdere-flyt-{unit.anna}-forloeb").value == unit.annas_courses  # all chosen
    at.selectbox(key=f"medarbejdere-flyt-{unit.anna}-til").set_value(unit.dina)
    click(at, "Flyt forløb")
    assert "3 forløb er flyttet fra Anna Berg" in successes(at)
    assert "til Dina Eskildsen, som nu har 3 aktive forløb (højst 10)" in successes(at)
    assert contact_of(unit.annas_courses) == [unit.dina] * 3
    assert at.dataframe[0].value["Aktive forløb"].tolist() == [0, 1, 3]


def test_some_of_one_persons_courses_move_and_the_rest_stay(unit: Unit) -> None:
    at = open_page()
    at.multiselect(key=f"medarbejdere-flyt-{unit.anna}-forloeb").set_value(unit.annas_courses[:2])
    at.selectbox(key=f"medarbejdere-flyt-{unit.anna}-til").set_value(unit.carl)
    click(at, "Flyt forløb")
    assert "2 forløb er flyttet" in successes(at)
    assert contact_of(unit.annas_courses) == [unit.carl, unit.carl, unit.anna]


@pytest.mark.parametrize(("courses", "to", "words"), [
    ("none", "dina", ["forløb"]),
    ("all", None, ["kollega"]),
], ids=["no-course-chosen", "no-colleague-chosen"])
def test_a_refused_move_moves_nothing_and_keeps_the_choice(unit: Unit, courses: str, to: str | None,
                                                          words: list[str]) -> None:
    at = open_page()
    chosen = [] if courses == "none" else unit.annas_courses
    at.multiselect(key=f"medarbejdere-flyt-{unit.anna}-forloeb").set_value(chosen)
    if to is not None:
        at.selectbox(key=f"medarbejdere-flyt-{unit.anna}-til").set_value(getattr(unit, to))
    before = snapshot()
    click(at, "Flyt forløb")
    for word in words:
        assert word in errors(at)
    assert snapshot() == before
    assert at.multiselect(key=f"medarbejdere-flyt-{unit.anna}-forloeb").value == chosen


# ---------------------------------------------------------------------------------------
# A new staff member

def fill_new(at: AppTest, name: str = "Eva Frost", initials: str = "ef", maximum: int = 12) -> None:
    at.text_input(key="medarbejdere-ny-navn").input(name)
    at.text_input(key="medarbejdere-ny-initialer").input(initials)
    at.number_input(key="medarbejdere-ny-hoejst").set_value(maximum)


def test_a_new_staff_member_is_added(unit: Unit) -> None:
    at = open_page()
    fill_new(at)
    click(at, "Opret medarbejder")
    assert "Eva Frost (EF) er oprettet som medarbejder" in successes(at)
    with db.read_session() as session:
        eva = session.exec(select(Staff).where(Staff.name == "Eva Frost")).one()
    assert (eva.initials, eva.max_active_courses, eva.active) == ("EF", 12, True)
    assert at.text_input(key="medarbejdere-ny-navn").value == ""


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": ""}, ["Udfyld navn"]),
        ({"initials": ""}, ["Udfyld initialer"]),
        ({"initials": "cd"}, ["Initialerne CD bruges allerede"]),
        ({"maximum": -1}, ["Højst aktive forløb", "0 til 200"]),
        ({"maximum": 201}, ["Højst aktive forløb", "0 til 200"]),
        ({"name": "Eva 010190-1234"}, ["CPR"]),
    ],
    ids=["no-name", "no-initials", "initials-taken", "negative-max", "max-too-high", "cpr-in-name"],
)
def test_an_invalid_new_staff_member_is_refused_with_the_input_kept(unit: Unit, fields: dict[str, Any],
                                                                     words: list[str]) -> None:
    at = open_page()
    fill_new(at, **fields)
    before = snapshot()
    click(at, "Opret medarbejder")
    for word in words:
        assert word in errors(at)
    assert snapshot() == before
    assert at.text_input(key="medarbejdere-ny-navn").value == fields.get("name", "Eva Frost")
    assert at.text_input(key="medarbejdere-ny-initialer").value == fields.get("initials", "ef")
    assert at.number_input(key="medarbejdere-ny-hoejst").value == fields.get("maximum", 12)


# ---------------------------------------------------------------------------------------
# Editing a staff member

def choose_for_edit(at: AppTest, staff_id: int) -> str:
    at.selectbox(key="medarbejdere-ret-hvem").set_value(staff_id).run()
    return f"medarbejdere-ret-{staff_id}-"


def test_a_staff_member_can_be_edited_and_made_inactive(unit: Unit) -> None:
    at = open_page()
    prefix = choose_for_edit(at, unit.dina)
    assert at.text_input(key=f"{prefix}navn").value == "Dina Eskildsen"
    at.text_input(key=f"{prefix}navn").input("Dina Eskildsen Holm")
    at.number_input(key=f"{prefix}hoejst").set_value(6)
    at.checkbox(key=f"{prefix}aktiv").uncheck()
    click(at, "Gem ændringer")
    assert "Dina Eskildsen Holm (DE) er gemt" in successes(at)
    dina = staff_row(unit.dina)
    assert (dina.name, dina.max_active_courses, dina.active, dina.version) == ("Dina Eskildsen Holm", 6, False, 2)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("navn", " ", ["Udfyld navn"]),
        ("initialer", "AB", ["Initialerne AB bruges allerede"]),
        ("hoejst", 500, ["Højst aktive forløb", "0 til 200"]),
        ("aktiv", False, ["kontaktperson for 1 aktive forløb", "flyt dem"]),
    ],
    ids=["no-name", "initials-taken", "max-too-high", "inactive-with-courses"],
)
def test_an_invalid_edit_of_a_staff_member_is_refused_with_the_input_kept(unit: Unit, field: str, value: Any,
                                                                           words: list[str]) -> None:
    at = open_page()
    prefix = choose_for_edit(at, unit.carl)
    widgets = {"navn": at.text_input, "initialer": at.text_input, "hoejst": at.number_input, "aktiv": at.checkbox}
    widgets[field](key=f"{prefix}{field}").set_value(value)
    if field != "navn":
        at.text_input(key=f"{prefix}navn").input("Carl D.")
    before = snapshot()
    click(at, "Gem ændringer")
    for word in words:
        assert word in errors(at)
    assert snapshot() == before
    assert at.session_state[f"{prefix}{field}"] == value
    assert field == "navn" or at.text_input(key=f"{prefix}navn").value == "Carl D."


def test_an_edit_of_a_staff_member_someone_saved_meanwhile_is_refused_and_the_input_kept(unit: Unit) -> None:
    at = open_page()
    prefix = choose_for_edit(at, unit.carl)
    with db.write_session() as s:
        svc.update_staff(s, SYSTEM, staff_id=unit.carl, expected_version=1, name="Carl Dahl", initials="CD",
                         active=True, max_active_courses=8)
    before = snapshot()
    at.number_input(key=f"{prefix}hoejst").set_value(5)
    click(at, "Gem ændringer")
    assert "ændret af en anden" in errors(at)
    assert snapshot() == before and staff_row(unit.carl).max_active_courses == 8
    assert at.number_input(key=f"{prefix}hoejst").value == 5
    click(at, "Hent det gemte (kasserer dine indtastninger)")
    assert at.number_input(key=f"{prefix}hoejst").value == 8
