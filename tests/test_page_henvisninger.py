"""The Henvisninger page, as a staff member uses it (AppTest on SQLite).

Every form: a valid save writes the row and says what was saved; each kind of invalid input
shows the Danish message, leaves what was typed in the fields and writes nothing (every table
is compared before and after, the browser's own login bookkeeping aside).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from fokus import clock, db, fmt
from fokus import services as svc
from fokus.actor import SYSTEM
from fokus.models import Course, Referral
from tests.apptest_helpers import app_as, click
from tests.test_rules import snapshot

PAGE = "pages/henvisninger.py"
TODAY = clock.today()


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@dataclass(frozen=True)
class World:
    unit: int
    staff: int
    group: int
    waiting: int  # citizen B-100, referred 30 days ago
    recent: int  # citizen B-200, referred 5 days ago


@pytest.fixture
def world(sqlite_url: str) -> World:
    with db.write_session() as s:
        unit = svc.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id
        staff = svc.add_staff(s, SYSTEM, unit_id=unit, name="Anne Andersen", initials="AA").id
        group = svc.create_group(s, SYSTEM, unit_id=unit, name="Forårsholdet", start=days_ago(60)).id
        waiting, recent = (
            svc.register_referral(s, SYSTEM, unit_id=unit, citizen_ref=ref, birth_year=TODAY.year - 40,
                                  received=days_ago(days), referrer="jobcenter", target_group="psychic").id
            for ref, days in (("B-100", 30), ("B-200", 5))
        )
    return World(unit, staff, group, waiting, recent)


def page() -> AppTest:
    return app_as("henvisning-staff", "staff", PAGE)


def data() -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the browser's login session (its last-seen time moves by itself)."""
    return {name: rows for name, rows in snapshot().items() if name != "loginsession"}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def referral(referral_id: int) -> Referral | None:
    with db.read_session() as s:
        return s.get(Referral, referral_id)


# ---------------------------------------------------------------------------------------
# A new referral

def fill_new(at: AppTest, **values: Any) -> AppTest:
    fields = {"ref": "B-300", "aar": TODAY.year - 30, "henviser": "socialcenter", "maalgruppe": "physical",
              **values}
    for name, value in fields.items():
        widget = at.date_input(key=f"henv-ny-{name}") if name == "modtaget" else None
        if widget is None:
            widget = next(w for w in (*at.text_input, *at.number_input, *at.selectbox, *at.checkbox)
                          if w.key == f"henv-ny-{name}")
        widget.set_value(value)
    return at


def test_a_referral_is_registered_from_the_short_form_and_joins_the_waiting_list(world: World) -> None:
    at = click(fill_new(page(), sel85=True), "Gem henvisning")
    assert not errors(at)
    assert any("B-300" in message and "ventelisten" in message for message in successes(at))
    with db.read_session() as s:
        saved = s.exec(select(Referral).where(Referral.received == TODAY, Referral.referrer == "socialcenter")).one()
    assert (saved.target_group, saved.from_sel85, saved.status) == ("physical", True, "waiting")
    assert at.text_input(key="henv-ny-ref").value == "", "the form is emptied for the next referral"
    assert at.date_input(key="henv-ny-modtaget").value == TODAY, "the date starts at today"


def test_the_received_date_defaults_to_today_in_danish_format(world: World) -> None:
    at = page()
    received = at.date_input(key="henv-ny-modtaget")
    assert received.value == TODAY
    assert received.proto.format == "DD.MM.YYYY"


def test_an_age_outside_18_to_65_is_accepted_with_a_note(world: World) -> None:
    at = click(fill_new(page(), aar=TODAY.year - 70, note="Ønsker forløbet, aftalt med leder"), "Gem henvisning")
    assert not errors(at) and successes(at)
    with db.read_session() as s:
        saved = s.exec(select(Referral).where(Referral.age_note.is_not(None))).one()  # type: ignore[union-attr]
    assert saved.age_note == "Ønsker forløbet, aftalt med leder"


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"ref": ""}, ["udfyld borgerens reference"]),
        ({"ref": "010203-1234"}, ["cpr"]),
        ({"aar": None}, ["fødselsår", "helt tal"]),
        ({"aar": TODAY.year - 70}, ["70 år", "aldersnote"]),
        ({"aar": TODAY.year - 16}, ["16 år", "aldersnote"]),
        ({"modtaget": TODAY + timedelta(days=1)}, ["fremtiden"]),
        ({"henviser": None}, ["vælg henviser"]),
        ({"maalgruppe": None}, ["vælg målgruppe"]),
        ({"ref": "B-100", "aar": TODAY.year - 41}, ["registreret med fødselsår"]),
        ({"ref": "B-100", "aar": TODAY.year - 40}, ["allerede på ventelisten"]),
    ],
    ids=["no-ref", "cpr", "no-year", "age-70", "age-16", "future", "no-referrer", "no-target-group",
         "other-birth-year", "already-waiting"],
)
def test_an_invalid_referral_is_refused_with_the_input_kept_and_nothing_written(
    world: World, values: dict[str, Any], words: list[str]
) -> None:
    at = fill_new(page(), **values)
    before = data()
    click(at, "Gem henvisning")
    shown = errors(at)
    assert len(shown) == 1, shown
    for word in words:
        assert word in shown[0].lower(), (word, shown)
    assert not successes(at)
    assert data() == before
    typed = {"ref": "B-300", "aar": TODAY.year - 30, "henviser": "socialcenter", "maalgruppe": "physical",
             **values}
    assert at.text_input(key="henv-ny-ref").value == typed["ref"]
    assert at.number_input(key="henv-ny-aar").value == typed["aar"]
    assert at.selectbox(key="henv-ny-henviser").value == typed["henviser"]
    assert at.selectbox(key="henv-ny-maalgruppe").value == typed["maalgruppe"]
    assert at.date_input(key="henv-ny-modtaget").value == typed.get("modtaget", TODAY)


# ---------------------------------------------------------------------------------------
# The waiting list

def test_the_waiting_list_shows_days_waited_longest_first(world: World) -> None:
    table = page().dataframe[0].value
    assert list(table["Borger"]) == ["B-100", "B-200"]
    assert list(table["Ventet (dage)"]) == [30, 5]
    assert list(table["Henviser"]) == ["Jobcenter", "Jobcenter"]
    assert list(table["Målgruppe"]) == ["Psykisk", "Psykisk"]


def choose(at: AppTest, referral_id: int) -> AppTest:
    at.selectbox(key="henv-valgt").set_value(referral_id).run()
    assert not at.exception, at.exception
    return at


# ---------------------------------------------------------------------------------------
# Reject or withdraw

def test_a_waiting_referral_can_be_rejected_with_a_reason_and_a_date(world: World) -> None:
    at = choose(page(), world.waiting)
    prefix = f"henv-{world.waiting}-afgoer-"
    at.radio(key=f"{prefix}status").set_value("rejected")
    at.selectbox(key=f"{prefix}aarsag").set_value("outside_target_group")
    at.date_input(key=f"{prefix}dato").set_value(days_ago(2))
    click(at, "Gem afgørelse")
    assert not errors(at)
    assert any("B-100" in m and "afvist" in m and "uden for målgruppen" in m for m in successes(at))
    saved = referral(world.waiting)
    assert saved is not None
    assert (saved.status, saved.reason, saved.decided) == ("rejected", "outside_target_group", days_ago(2))
    assert list(at.dataframe[0].value["Borger"]) == ["B-200"]


def test_a_waiting_referral_can_be_withdrawn(world: World) -> None:
    at = choose(page(), world.recent)
    prefix = f"henv-{world.recent}-afgoer-"
    at.radio(key=f"{prefix}status").set_value("withdrawn")
    at.selectbox(key=f"{prefix}aarsag").set_value("declined")
    click(at, "Gem afgørelse")
    saved = referral(world.recent)
    assert saved is not None and (saved.status, saved.reason, saved.decided) == ("withdrawn", "declined", TODAY)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"status": None}, ["afvist eller trukket tilbage"]),
        ({"aarsag": None}, ["vælg årsag"]),
        ({"dato": days_ago(31)}, ["før henvisningen"]),
        ({"dato": TODAY + timedelta(days=1)}, ["fremtiden"]),
    ],
    ids=["no-decision", "no-reason", "before-received", "future"],
)
def test_a_decision_without_its_parts_is_refused_with_the_input_kept(
    world: World, values: dict[str, Any], words: list[str]
) -> None:
    at = choose(page(), world.waiting)
    prefix = f"henv-{world.waiting}-afgoer-"
    typed = {"status": "rejected", "aarsag": "needs_other_help", "dato": days_ago(1), **values}
    at.radio(key=f"{prefix}status").set_value(typed["status"])
    at.selectbox(key=f"{prefix}aarsag").set_value(typed["aarsag"])
    at.date_input(key=f"{prefix}dato").set_value(typed["dato"])
    before = data()
    click(at, "Gem afgørelse")
    shown = errors(at)
    assert len(shown) == 1 and all(word in shown[0].lower() for word in words), shown
    assert data() == before
    assert at.radio(key=f"{prefix}status").value == typed["status"]
    assert at.selectbox(key=f"{prefix}aarsag").value == typed["aarsag"]
    assert at.date_input(key=f"{prefix}dato").value == typed["dato"]


# ---------------------------------------------------------------------------------------
# Start a course straight from the waiting list

def test_a_group_course_starts_straight_from_a_waiting_referral(world: World) -> None:
    at = choose(page(), world.waiting)
    prefix = f"henv-{world.waiting}-start-"
    assert at.radio(key=f"{prefix}form").value == "group"
    at.selectbox(key=f"{prefix}hold").set_value(world.group)
    at.selectbox(key=f"{prefix}kontakt").set_value(world.staff)
    at.date_input(key=f"{prefix}dato").set_value(days_ago(1))
    click(at, "Start forløb")
    assert not errors(at)
    with db.read_session() as s:
        course = s.exec(select(Course).where(Course.referral_id == world.waiting)).one()
    assert (course.form, course.group_id, course.contact_person_id, course.start) == (
        "group", world.group, world.staff, days_ago(1))
    assert any(course.ref in m and "B-100" in m and "Forårsholdet" in m for m in successes(at))
    assert list(at.dataframe[0].value["Borger"]) == ["B-200"]


def test_an_individual_course_can_have_its_own_reference(world: World) -> None:
    at = choose(page(), world.recent)
    prefix = f"henv-{world.recent}-start-"
    at.radio(key=f"{prefix}form").set_value("individual")
    at.text_input(key=f"{prefix}ref").set_value("IND-7")
    click(at, "Start forløb")
    with db.read_session() as s:
        course = s.exec(select(Course).where(Course.referral_id == world.recent)).one()
    assert (course.ref, course.form, course.group_id, course.start) == ("IND-7", "individual", None, TODAY)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"form": "individual"}, ["individuelt forløb kan ikke knyttes til et hold"]),
        ({"dato": days_ago(31)}, ["før henvisningen blev modtaget"]),
        ({"dato": TODAY + timedelta(days=1)}, ["fremtiden"]),
        ({"ref": "010203-1234"}, ["cpr"]),
    ],
    ids=["individual-on-a-group", "before-received", "future", "cpr-as-ref"],
)
def test_a_course_start_that_breaks_a_rule_is_refused_with_the_input_kept(
    world: World, values: dict[str, Any], words: list[str]
) -> None:
    _refused_start(world, values, words)


def test_a_start_on_a_full_group_is_refused_with_the_input_kept(world: World) -> None:
    with db.write_session() as s:
        svc.update_group(s, SYSTEM, group_id=world.group, expected_version=None, name="Forårsholdet", theme="",
                         start=days_ago(60), end=None, capacity=2)
        third = svc.register_referral(s, SYSTEM, unit_id=world.unit, citizen_ref="B-300", birth_year=1980,
                                      received=days_ago(20), referrer="jobcenter", target_group="psychic").id
        for referral_id in (world.recent, third):
            svc.start_course(s, SYSTEM, referral_id=referral_id, start=days_ago(3), form="group", group_id=world.group)
    _refused_start(world, {}, ["forårsholdet er fuldt", fmt.day(days_ago(2)), "alle 2 pladser er optaget"])


def _refused_start(world: World, values: dict[str, Any], words: list[str]) -> None:
    at = choose(page(), world.waiting)
    prefix = f"henv-{world.waiting}-start-"
    typed = {"form": "group", "hold": world.group, "kontakt": world.staff, "dato": days_ago(2), "ref": "", **values}
    at.radio(key=f"{prefix}form").set_value(typed["form"])
    at.selectbox(key=f"{prefix}hold").set_value(typed["hold"])
    at.selectbox(key=f"{prefix}kontakt").set_value(typed["kontakt"])
    at.date_input(key=f"{prefix}dato").set_value(typed["dato"])
    at.text_input(key=f"{prefix}ref").set_value(typed["ref"])
    before = data()
    click(at, "Start forløb")
    shown = errors(at)
    assert len(shown) == 1 and all(word in shown[0].lower() for word in words), shown
    assert data() == before
    assert at.radio(key=f"{prefix}form").value == typed["form"]
    assert at.selectbox(key=f"{prefix}hold").value == typed["hold"]
    assert at.selectbox(key=f"{prefix}kontakt").value == typed["kontakt"]
    assert at.date_input(key=f"{prefix}dato").value == typed["dato"]
    assert at.text_input(key=f"{prefix}ref").value == typed["ref"]



# ---------------------------------------------------------------------------------------
# Corrections of a waiting referral, in place

def correction_keys(form: str, referral_id: int) -> dict[str, str]:
    prefix = f"{form}-{referral_id}-"
    return {"ref": f"{prefix}borger-ref", "aar": f"{prefix}borger-aar", "modtaget": f"{prefix}henv-modtaget",
            "henviser": f"{prefix}henv-henviser", "maalgruppe": f"{prefix}henv-maalgruppe",
            "note": f"{prefix}henv-note"}


def set_fields(at: AppTest, keys: dict[str, str], values: dict[str, Any]) -> None:
    for name, value in values.items():
        key = keys[name]
        widget = next(w for w in (*at.text_input, *at.number_input, *at.selectbox, *at.date_input, *at.checkbox)
                      if w.key == key)
        widget.set_value(value)


def read_fields(at: AppTest, keys: dict[str, str]) -> dict[str, Any]:
    widgets = {w.key: w for w in (*at.text_input, *at.number_input, *at.selectbox, *at.date_input)}
    return {name: widgets[key].value for name, key in keys.items()}


def test_a_waiting_referral_and_its_citizen_are_corrected_in_place(world: World) -> None:
    at = choose(page(), world.waiting)
    keys = correction_keys("henv-venter", world.waiting)
    set_fields(at, keys, {"ref": "B-101", "henviser": "socialcenter", "modtaget": days_ago(28)})
    click(at, "Gem rettelser")
    assert not errors(at)
    assert any("B-101" in m and "gemt" in m for m in successes(at))
    saved = referral(world.waiting)
    assert saved is not None and (saved.referrer, saved.received) == ("socialcenter", days_ago(28))
    assert list(at.dataframe[0].value["Borger"]) == ["B-101", "B-200"]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"modtaget": TODAY + timedelta(days=1)}, ["fremtiden"]),
        ({"aar": TODAY.year - 70}, ["uden for 18–65", "aldersnote"]),
        ({"ref": "B-200"}, ["bruges allerede", "læg de to sammen"]),
        ({"ref": ""}, ["udfyld borgerens reference"]),
        ({"aar": TODAY.year + 1}, ["fødselsår", "helt tal"]),
    ],
    ids=["future", "age-without-note", "taken-ref", "no-ref", "birth-year-ahead"],
)
def test_an_invalid_correction_is_refused_with_the_input_kept(
    world: World, values: dict[str, Any], words: list[str]
) -> None:
    at = choose(page(), world.waiting)
    keys = correction_keys("henv-venter", world.waiting)
    typed = {**read_fields(at, keys), "maalgruppe": "social", **values}
    set_fields(at, keys, typed)
    before = data()
    click(at, "Gem rettelser")
    shown = errors(at)
    assert len(shown) == 1 and all(word in shown[0].lower() for word in words), shown
    assert data() == before
    assert read_fields(at, keys) == typed


def test_a_correction_after_a_colleagues_save_is_refused_as_a_conflict_with_the_input_kept(world: World) -> None:
    at = choose(page(), world.waiting)
    keys = correction_keys("henv-venter", world.waiting)
    set_fields(at, keys, {"henviser": "other", "note": "rettet af mig"})
    with db.write_session() as s:  # a colleague saves the same referral meanwhile
        svc.update_referral(s, SYSTEM, referral_id=world.waiting, expected_version=1, received=days_ago(30),
                            referrer="socialcenter", target_group="psychic", from_sel85=True, age_note=None)
    before = data()
    click(at, "Gem rettelser")
    shown = errors(at)
    assert len(shown) == 1 and "ændret af en anden" in shown[0], shown
    assert data() == before
    assert read_fields(at, keys)["henviser"] == "other"
    assert read_fields(at, keys)["note"] == "rettet af mig"
    saved = referral(world.waiting)
    assert saved is not None and saved.referrer == "socialcenter", "the colleague's save stands"
    # "Hent det gemte" throws the typed values away and shows the colleague's
    click(at, "Hent det gemte (kasserer dine indtastninger)")
    assert read_fields(at, keys)["henviser"] == "socialcenter"


def test_a_mistaken_referral_is_deleted_only_when_confirmed(world: World) -> None:
    at = choose(page(), world.recent)
    before = data()
    click(at, "Slet henvisningen")
    assert any("sæt flueben" in e.lower() for e in errors(at))
    assert data() == before
    at.checkbox(key=f"henv-venter-{world.recent}-slet-sikker").check()
    click(at, "Slet henvisningen")
    assert any("B-200" in m and "slettet" in m for m in successes(at))
    assert referral(world.recent) is None
    assert list(at.dataframe[0].value["Borger"]) == ["B-100"]


# ---------------------------------------------------------------------------------------
# Any referral by search: reopen a rejected one, merge two references

def search(at: AppTest, text: str) -> AppTest:
    at.text_input(key="henv-soegetekst").set_value(text)
    return click(at, "Søg")


def test_a_rejected_referral_found_by_search_goes_back_on_the_waiting_list(world: World) -> None:
    with db.write_session() as s:
        svc.decide_referral(s, SYSTEM, referral_id=world.waiting, status="rejected", decided=days_ago(3),
                            reason="no_contact")
    at = search(page(), "B-100")
    assert at.selectbox(key="henv-fundet-borger").value is not None, "one hit is chosen by itself"
    click(at, "Sæt på ventelisten igen")
    assert any("igen på ventelisten" in m for m in successes(at))
    saved = referral(world.waiting)
    assert saved is not None and (saved.status, saved.decided, saved.reason) == ("waiting", None, None)


def test_two_references_of_one_citizen_are_merged_into_the_one_kept(world: World) -> None:
    with db.write_session() as s:
        svc.decide_referral(s, SYSTEM, referral_id=world.recent, status="withdrawn", decided=days_ago(1),
                            reason="declined")
    at = search(page(), "B-100")
    merge_key = next(w.key for w in at.text_input if str(w.key).startswith("henv-flet-"))
    at.text_input(key=merge_key).set_value("B-200")
    click(at, "Læg sammen")
    assert any("B-200" in m and "lagt sammen" in m and "B-100" in m for m in successes(at))
    with db.read_session() as s:
        kept = s.get(Referral, world.waiting)
        moved = s.get(Referral, world.recent)
    assert kept is not None and moved is not None and moved.citizen_id == kept.citizen_id


@pytest.mark.parametrize(
    ("other", "words"),
    [("B-2", ["præcis referencen"]), ("B-200", ["begge borgere står på ventelisten"]), ("B-100", ["to forskellige"])],
    ids=["not-exact", "both-waiting", "same-citizen"],
)
def test_a_merge_that_breaks_a_rule_is_refused_with_the_input_kept(
    world: World, other: str, words: list[str]
) -> None:
    at = search(page(), "B-100")
    merge_key = next(w.key for w in at.text_input if str(w.key).startswith("henv-flet-"))
    at.text_input(key=merge_key).set_value(other)
    before = data()
    click(at, "Læg sammen")
    shown = errors(at)
    assert len(shown) == 1 and all(word in shown[0].lower() for word in words), shown
    assert {k: v for k, v in data().items() if k != "auditevent"} == {
        k: v for k, v in before.items() if k != "auditevent"}, "only the search itself is logged"
    assert at.text_input(key=merge_key).value == other


def test_a_search_is_logged_once_per_citizen_however_often_the_page_runs(world: World) -> None:
    at = search(page(), "B-1")
    for _ in range(3):
        at.run()
    with db.read_session() as s:
        from fokus.models import AuditEvent

        searched = s.exec(select(AuditEvent).where(AuditEvent.action == "searched")).all()
    assert [event.citizen_ref for event in searched] == ["B-100"]


def test_a_user_of_several_units_chooses_the_unit_of_a_new_referral(world: World) -> None:
    with db.write_session() as s:
        other = svc.create_unit(s, SYSTEM, name="FOKUS Unge", municipality="Testkommune").id
    at = fill_new(app_as("henvisning-admin", "admin", PAGE))
    before = data()
    click(at, "Gem henvisning")
    assert any("vælg den enhed" in e.lower() for e in errors(at))
    assert data() == before
    at.selectbox(key="henv-ny-enhed").set_value(other)
    click(at, "Gem henvisning")
    with db.read_session() as s:
        saved = s.exec(select(Referral).where(Referral.received == TODAY)).one()
    assert saved.unit_id == other
    assert "Enhed" in at.dataframe[0].value.columns
