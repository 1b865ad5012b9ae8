"""The Hold page (AppTest, SQLite): plan and edit groups, start waiting citizens on a group in one
go, and register a group session with attendance and everyone's ORS in one grid.

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
from fokus.models import Attendance, Course, Group, GroupSession, OrsScore, Referral
from tests.apptest_helpers import app_as, click
from tests.test_rules import snapshot

PAGE = "pages/hold.py"
TODAY = clock.today()


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@dataclass(frozen=True)
class Unit:
    unit_id: int
    anna: int  # staff ids
    carl: int
    group_id: int
    b1: int  # course ids of the two members
    b2: int
    waiting: dict[str, int]  # citizen ref → waiting referral id


def _register(session: Any, unit_id: int, ref: str, received: date) -> Referral:
    return svc.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=TODAY.year - 40,
                                 received=received, referrer="jobcenter", target_group="psychic")


@pytest.fixture
def unit(sqlite_url: str) -> Unit:
    """A unit with a running group of two members and three citizens on the waiting list."""
    with db.write_session() as s:
        unit_id = svc.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id
        anna = svc.add_staff(s, SYSTEM, unit_id=unit_id, name="Anna Berg", initials="AB")
        carl = svc.add_staff(s, SYSTEM, unit_id=unit_id, name="Carl Dahl", initials="CD")
        group = svc.create_group(s, SYSTEM, unit_id=unit_id, name="Mandagsholdet", theme="Angst og bekymringer",
                                 start=days_ago(30), capacity=8)
        members = [
            svc.start_course(s, SYSTEM, referral_id=_register(s, unit_id, ref, days_ago(40)).id, start=days_ago(28),
                             form="group", group_id=group.id, contact_person_id=anna.id)
            for ref in ("B-1", "B-2")
        ]
        waiting = {ref: _register(s, unit_id, ref, received).id
                   for ref, received in (("B-3", days_ago(10)), ("B-4", days_ago(8)), ("B-5", days_ago(1)))}
    return Unit(unit_id, anna.id, carl.id, group.id, members[0].id, members[1].id, waiting)


def open_page() -> AppTest:
    at = app_as("hold-medarbejder", "staff", PAGE)
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def successes(at: AppTest) -> str:
    return " ".join(s.value for s in at.success)


def groups() -> list[Group]:
    with db.read_session() as session:
        return list(session.exec(select(Group).order_by(col(Group.id))).all())


# ---------------------------------------------------------------------------------------
# The list and the occupancy chart

def test_the_page_lists_the_groups_and_charts_occupancy_against_places(unit: Unit) -> None:
    at = open_page()
    listing = at.dataframe[0].value
    assert listing["Hold"].tolist() == ["Mandagsholdet"]
    assert listing["Deltagere i dag"].tolist() == [2] and listing["Pladser"].tolist() == [8]
    assert listing["Belægning"].tolist() == ["25 %"]
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars, places = figure["data"][0], figure["data"][1]
    assert bars["x"] == [2] and places["x"] == [8] and bars["y"] == ["Mandagsholdet"]
    assert "Belægning pr. hold" in figure["layout"]["title"]["text"]


# ---------------------------------------------------------------------------------------
# Plan a new group

def fill_new_group(at: AppTest, *, name: str = "Tirsdagsholdet", start: date | None = None,
                   end: date | None = None, capacity: int = 10) -> None:
    at.text_input(key="hold-ny-navn").input(name)
    at.text_input(key="hold-ny-tema").input("Stress og balance")
    at.date_input(key="hold-ny-start").set_value(start or TODAY + timedelta(days=14))
    at.date_input(key="hold-ny-slut").set_value(end)
    at.number_input(key="hold-ny-pladser").set_value(capacity)


def test_a_group_can_be_planned_to_start_ahead(unit: Unit) -> None:
    at = open_page()
    fill_new_group(at, start=TODAY + timedelta(days=14), end=TODAY + timedelta(days=14 + 12 * 7), capacity=9)
    click(at, "Opret hold")
    assert "Holdet Tirsdagsholdet er oprettet med start" in successes(at)
    new = groups()[-1]
    assert (new.name, new.theme, new.start, new.end, new.capacity) == (
        "Tirsdagsholdet", "Stress og balance", TODAY + timedelta(days=14), TODAY + timedelta(days=98), 9)
    assert at.text_input(key="hold-ny-navn").value == ""  # the form is ready for the next one


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": "  "}, ["Udfyld holdets navn"]),
        ({"name": "Mandagsholdet"}, ["allerede et hold", "Mandagsholdet"]),
        ({"start": days_ago(0), "end": days_ago(1)}, ["slutdato", "efter startdatoen"]),
        ({"capacity": 0}, ["Antal pladser", "1 til 100"]),
        ({"capacity": 101}, ["Antal pladser", "1 til 100"]),
        ({"start": date(TODAY.year + 7, 1, 5)}, ["for langt ude i fremtiden"]),
    ],
    ids=["no-name", "name-taken", "end-before-start", "no-places", "too-many-places", "start-far-ahead"],
)
def test_an_invalid_new_group_is_refused_with_the_input_kept(unit: Unit, fields: dict[str, Any],
                                                              words: list[str]) -> None:
    at = open_page()
    fill_new_group(at, **fields)
    before = snapshot()
    typed = {key: at.text_input(key=key).value for key in ("hold-ny-navn", "hold-ny-tema")}
    click(at, "Opret hold")
    for word in words:
        assert word in errors(at)
    assert snapshot() == before
    assert {key: at.text_input(key=key).value for key in typed} == typed
    assert at.number_input(key="hold-ny-pladser").value == fields.get("capacity", 10)


# ---------------------------------------------------------------------------------------
# Edit a group

def test_a_group_can_be_edited(unit: Unit) -> None:
    at = open_page()
    prefix = f"hold-ret-{unit.group_id}-"
    assert at.text_input(key=f"{prefix}navn").value == "Mandagsholdet"
    at.text_input(key=f"{prefix}tema").input("Ro og nærvær")
    at.number_input(key=f"{prefix}pladser").set_value(12)
    at.date_input(key=f"{prefix}slut").set_value(TODAY + timedelta(days=60))
    click(at, "Gem ændringer")
    assert "Holdet Mandagsholdet er gemt" in successes(at)
    group = groups()[0]
    assert (group.theme, group.capacity, group.end, group.version) == ("Ro og nærvær", 12,
                                                                       TODAY + timedelta(days=60), 2)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("navn", "", ["Udfyld holdets navn"]),
        ("pladser", 0, ["Antal pladser", "1 til 100"]),
        ("slut", days_ago(31), ["slutdato"]),
    ],
)
def test_an_invalid_edit_of_a_group_is_refused_with_the_input_kept(unit: Unit, field: str, value: Any,
                                                                    words: list[str]) -> None:
    at = open_page()
    key = f"hold-ret-{unit.group_id}-{field}"
    widget = {"navn": at.text_input, "pladser": at.number_input, "slut": at.date_input}[field](key=key)
    widget.set_value(value)
    at.text_input(key=f"hold-ret-{unit.group_id}-tema").input("Ny tekst")
    before = snapshot()
    click(at, "Gem ændringer")
    for word in words:
        assert word in errors(at)
    assert snapshot() == before
    assert at.session_state[key] == value
    assert at.text_input(key=f"hold-ret-{unit.group_id}-tema").value == "Ny tekst"


def test_an_edit_of_a_group_someone_saved_meanwhile_is_refused_and_the_input_kept(unit: Unit) -> None:
    at = open_page()  # this user opens the group ...
    with db.write_session() as s:  # ... a colleague saves it ...
        svc.update_group(s, SYSTEM, group_id=unit.group_id, expected_version=1, name="Mandagsholdet",
                         theme="Kollegaens tema", start=days_ago(30), end=None, capacity=8)
    before = snapshot()
    at.text_input(key=f"hold-ret-{unit.group_id}-tema").input("Mit tema")  # ... and this user saves too
    click(at, "Gem ændringer")
    assert "ændret af en anden" in errors(at)
    assert snapshot() == before and groups()[0].theme == "Kollegaens tema"
    assert at.text_input(key=f"hold-ret-{unit.group_id}-tema").value == "Mit tema"
    click(at, "Hent det gemte (kasserer dine indtastninger)")
    assert at.text_input(key=f"hold-ret-{unit.group_id}-tema").value == "Kollegaens tema"


# ---------------------------------------------------------------------------------------
# Start several waiting citizens on a group

def courses_on_group(group_id: int) -> list[Course]:
    with db.read_session() as session:
        return list(session.exec(select(Course).where(Course.group_id == group_id).order_by(col(Course.id))).all())


def test_several_waiting_citizens_start_on_a_group_in_one_go(unit: Unit) -> None:
    at = open_page()
    at.multiselect(key=f"hold-start-{unit.group_id}-henvisninger").set_value([unit.waiting["B-3"], unit.waiting["B-4"]])
    at.date_input(key=f"hold-start-{unit.group_id}-dato").set_value(days_ago(1))
    at.selectbox(key=f"hold-start-{unit.group_id}-kontakt").set_value(unit.carl)
    click(at, "Start forløb på holdet")
    assert "2 forløb er startet på Mandagsholdet: B-3, B-4" in successes(at)
    new = courses_on_group(unit.group_id)[2:]
    assert [(c.start, c.form, c.contact_person_id) for c in new] == [(days_ago(1), "group", unit.carl)] * 2
    assert at.dataframe[0].value["Deltagere i dag"].tolist() == [4]
    remaining = at.multiselect(key=f"hold-start-{unit.group_id}-henvisninger").options
    assert len(remaining) == 1 and remaining[0].startswith("B-5")


@pytest.mark.parametrize(
    ("refs", "start", "words"),
    [
        ([], 1, ["Vælg"]),
        (["B-3", "B-5"], 5, ["B-5"]),  # B-5 was referred yesterday: it cannot start five days ago
        (["B-3"], 35, ["før holdets start"]),
    ],
    ids=["nobody-chosen", "one-cannot-start", "before-the-group-starts"],
)
def test_a_refused_group_start_names_who_failed_and_starts_nobody(unit: Unit, refs: list[str], start: int,
                                                                  words: list[str]) -> None:
    at = open_page()
    chosen = [unit.waiting[ref] for ref in refs]
    at.multiselect(key=f"hold-start-{unit.group_id}-henvisninger").set_value(chosen)
    at.date_input(key=f"hold-start-{unit.group_id}-dato").set_value(days_ago(start))
    before = snapshot()
    click(at, "Start forløb på holdet")
    for word in words:
        assert word in errors(at)
    assert snapshot() == before
    assert at.multiselect(key=f"hold-start-{unit.group_id}-henvisninger").value == chosen
    assert at.date_input(key=f"hold-start-{unit.group_id}-dato").value == days_ago(start)


def test_starting_more_citizens_than_the_group_has_places_for_is_refused(unit: Unit) -> None:
    with db.write_session() as s:
        svc.update_group(s, SYSTEM, group_id=unit.group_id, expected_version=1, name="Mandagsholdet",
                         theme="Angst og bekymringer", start=days_ago(30), end=None, capacity=3)
    at = open_page()
    chosen = [unit.waiting["B-3"], unit.waiting["B-4"]]
    at.multiselect(key=f"hold-start-{unit.group_id}-henvisninger").set_value(chosen)
    before = snapshot()
    click(at, "Start forløb på holdet")
    assert "plads til 1 mere, ikke 2" in errors(at)
    assert snapshot() == before
    assert at.multiselect(key=f"hold-start-{unit.group_id}-henvisninger").value == chosen


# ---------------------------------------------------------------------------------------
# A group session: attendance and everyone's ORS in one grid

def grid_key(unit: Unit, course_id: int, item: str) -> str:
    return f"hold-grid-{unit.group_id}-{course_id}-{item}"


def type_row(at: AppTest, unit: Unit, course_id: int, values: tuple[str, str, str, str]) -> None:
    for item, value in zip(("individual", "interpersonal", "social", "overall"), values, strict=True):
        at.text_input(key=grid_key(unit, course_id, item)).input(value)


def test_a_group_session_is_saved_with_attendance_and_the_ors_of_everyone_present(unit: Unit) -> None:
    at = open_page()
    at.date_input(key="hold-moede-dato").set_value(days_ago(2)).run()
    type_row(at, unit, unit.b1, ("7,5", "6.5", "4", "5,0"))
    at.checkbox(key=grid_key(unit, unit.b2, "present")).uncheck()
    click(at, "Gem holdmøde")
    assert "Holdmødet" in successes(at) and "1 af 2 mødte, 1 ORS-målinger" in successes(at)
    with db.read_session() as session:
        meeting = session.exec(select(GroupSession)).one()
        attendance = {a.course_id: a.present for a in session.exec(select(Attendance)).all()}
        scores = session.exec(select(OrsScore)).all()
    assert meeting.date == days_ago(2) and attendance == {unit.b1: True, unit.b2: False}
    assert [(s.course_id, s.date, s.individual, s.interpersonal, s.social, s.overall) for s in scores] == [
        (unit.b1, days_ago(2), 75, 65, 40, 50)]
    assert at.text_input(key=grid_key(unit, unit.b1, "individual")).value == ""  # ready for the next session
    assert at.dataframe[0].value["Holdmøder"].tolist() == [1]


@pytest.mark.parametrize(
    ("b2_values", "b2_present", "words"),
    [
        (("7", "6", "11", "5"), True, ["B-2", "Socialt", "0 til 10"]),
        (("7", "6,25", "4", "5"), True, ["B-2", "Nære relationer", "én decimal"]),
        (("syv", "6", "4", "5"), True, ["B-2", "Individuelt", "ikke et tal"]),
        (("7", "6", "", ""), True, ["B-2", "Socialt, Generelt", "alle fire"]),
        (("7", "6", "4", "5"), False, ["B-2", "ikke markeret som fremmødt"]),
    ],
    ids=["out-of-range", "two-decimals", "not-a-number", "half-a-row", "absent-with-scores"],
)
def test_a_bad_cell_in_the_grid_names_the_citizen_and_item_keeps_the_grid_and_saves_nothing(
    unit: Unit, b2_values: tuple[str, str, str, str], b2_present: bool, words: list[str]
) -> None:
    at = open_page()
    type_row(at, unit, unit.b1, ("7,5", "6.5", "4", "5"))
    type_row(at, unit, unit.b2, b2_values)
    if not b2_present:
        at.checkbox(key=grid_key(unit, unit.b2, "present")).uncheck()
    before = snapshot()
    click(at, "Gem holdmøde")
    for word in words:
        assert word in errors(at)
    assert snapshot() == before
    assert at.text_input(key=grid_key(unit, unit.b1, "individual")).value == "7,5"
    typed = [at.text_input(key=grid_key(unit, unit.b2, item)).value
             for item in ("individual", "interpersonal", "social", "overall")]
    assert tuple(typed) == b2_values
    assert at.checkbox(key=grid_key(unit, unit.b2, "present")).value is b2_present


def test_a_second_session_on_the_same_day_is_refused_with_the_grid_kept(unit: Unit) -> None:
    with db.write_session() as s:
        svc.add_group_session(s, SYSTEM, group_id=unit.group_id, day=TODAY, present_course_ids=[unit.b1])
    at = open_page()
    type_row(at, unit, unit.b1, ("7", "6", "4", "5"))
    before = snapshot()
    click(at, "Gem holdmøde")
    assert "allerede et møde" in errors(at)
    assert snapshot() == before
    assert at.text_input(key=grid_key(unit, unit.b1, "overall")).value == "5"
