"""The ORS page and the tablet self-report, as a staff member and a citizen use them (AppTest on SQLite).

Every form: a valid save writes the score and says what was saved; each kind of invalid input
shows the Danish message, leaves what was typed in the fields and writes nothing (every table
is compared before and after, the browser's own login bookkeeping aside).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import delete, select
from streamlit.testing.v1 import AppTest

from fokus import auth, clock, db, fmt, selfreport
from fokus import services as svc
from fokus.actor import SYSTEM
from fokus.models import AuditEvent, OrsScore, SelfReportSession, SrsScore, User
from tests.apptest_helpers import APP, app_as
from tests.test_rules import snapshot

PAGE = "pages/ors.py"
TODAY = clock.today()
LOGIN = "ors-medarbejder"
FIRST = {"individual": 50, "interpersonal": 60, "social": 40, "overall": 55}  # total 20,5


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@dataclass(frozen=True)
class World:
    unit: int
    course: int  # SAG-1001's running course, one ORS 20 days ago (session 1)
    course_ref: str
    first_score: int
    ended: int  # SAG-2002's course, ended 10 days ago


@pytest.fixture
def world(sqlite_url: str) -> World:
    with db.write_session() as s:
        unit = svc.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id

        def referral(ref: str, days: int) -> int:
            return svc.register_referral(s, SYSTEM, unit_id=unit, citizen_ref=ref, birth_year=TODAY.year - 40,
                                         received=days_ago(days), referrer="jobcenter", target_group="psychic").id

        course = svc.start_course(s, SYSTEM, referral_id=referral("SAG-1001", 40), start=days_ago(30),
                                  form="individual")
        first = svc.add_ors(s, SYSTEM, course_id=course.id, day=days_ago(20), items=FIRST)
        svc.start_course(s, SYSTEM, referral_id=referral("SAG-1002", 40), start=days_ago(30), form="individual")
        ended = svc.start_course(s, SYSTEM, referral_id=referral("SAG-2002", 90), start=days_ago(80),
                                 form="individual")
        svc.end_course(s, SYSTEM, course_id=ended.id, end=days_ago(10), end_reason="completed")
        referral("SAG-3003", 5)  # waiting, no course
    return World(unit=unit, course=course.id, course_ref=course.ref, first_score=first.id, ended=ended.id)


def page(login: str = LOGIN) -> AppTest:
    return app_as(login, "staff", PAGE)


def choose(at: AppTest, text: str) -> AppTest:
    at.text_input(key="ors-borger").input(text).run()
    assert not at.exception, at.exception
    return at


def data() -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the browser's login session (its last-seen time moves by itself)."""
    return {name: rows for name, rows in snapshot().items() if name != "loginsession"}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def field(course: int, name: str, kind: str = "ors") -> str:
    return f"{kind}-ny-{course}-{name}"


def type_score(at: AppTest, course: int, values: dict[str, str], kind: str = "ors", **other: Any) -> AppTest:
    for name, value in values.items():
        at.text_input(key=field(course, name, kind)).input(value)
    if "day" in other:
        at.date_input(key=field(course, "date", kind)).set_value(other["day"])
    at.button(key=field(course, "gem", kind)).click().run()
    assert not at.exception, at.exception
    return at


def ors_rows(course: int) -> list[tuple[int, int, int, int, int]]:
    with db.read_session() as s:
        scores = s.exec(select(OrsScore).where(OrsScore.course_id == course).order_by(OrsScore.id)).all()
        return [(x.session_no, x.individual, x.interpersonal, x.social, x.overall) for x in scores]


def entries(action: str, login: str = LOGIN) -> list[AuditEvent]:
    with db.read_session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.user_login == login, AuditEvent.action == action)))


GOOD = {"individual": "7,5", "interpersonal": "6", "social": "5,5", "overall": "8"}  # total 27,0


# ---------------------------------------------------------------------------------------
# Entering a score

def test_a_score_typed_with_decimal_commas_is_saved_in_tenths_and_confirmed_with_its_total(world: World) -> None:
    at = type_score(choose(page(), "SAG-1001"), world.course, GOOD)
    assert not errors(at)
    assert successes(at) == [f"Gemt: ORS 27,0 for SAG-1001 (session 2, {TODAY:%d.%m.%Y})."]
    assert ors_rows(world.course)[-1] == (2, 75, 60, 55, 80)
    assert [at.text_input(key=field(world.course, name)).value for name in GOOD] == ["", "", "", ""]
    assert at.number_input(key=field(world.course, "session_no")).value == 3, "ready for the next session"


@pytest.mark.parametrize("typed", ["7,5", "7.5", " 7,5 "])
def test_a_decimal_comma_or_point_is_read_the_same_whatever_the_browsers_language(world: World, typed: str) -> None:
    at = type_score(choose(page(), "SAG-1001"), world.course, {**GOOD, "individual": typed})
    assert not errors(at)
    assert ors_rows(world.course)[-1][1] == 75


def test_the_date_defaults_to_today_in_danish_format_and_the_session_to_the_next(world: World) -> None:
    at = choose(page(), "SAG-1001")
    day = at.date_input(key=field(world.course, "date"))
    assert (day.value, day.proto.format) == (TODAY, "DD.MM.YYYY")
    assert at.number_input(key=field(world.course, "session_no")).value == 2


@pytest.mark.parametrize(
    ("typed", "day", "words"),
    [
        ({"individual": "11"}, None, ["Individuelt skal ligge fra 0 til 10"]),
        ({"social": "10,5"}, None, ["Socialt skal ligge fra 0 til 10"]),
        ({"interpersonal": "7,25"}, None, ["Nære relationer må højst have én decimal"]),
        ({"overall": "abc"}, None, ["Generelt", "er ikke et tal"]),
        ({"individual": ""}, None, ["Skriv et tal fra 0 til 10 ved Individuelt"]),
        ({"social": "-1"}, None, ["Socialt skal ligge fra 0 til 10"]),
        ({}, TODAY + timedelta(days=1), ["ligger i fremtiden"]),
        ({}, days_ago(31), ["inden for forløbet"]),
    ],
    ids=["over-10", "10-komma-5", "two-decimals", "letters", "empty", "negative", "future-date", "before-start"],
)
def test_invalid_input_is_refused_with_a_message_keeping_the_input_and_writing_nothing(
    world: World, typed: dict[str, str], day: date | None, words: list[str]
) -> None:
    at = choose(page(), "SAG-1001")
    before = data()
    values = {**GOOD, **typed}
    at = type_score(at, world.course, values, **({"day": day} if day else {}))
    assert len(errors(at)) == 1 and all(word in errors(at)[0] for word in words), errors(at)
    assert not successes(at)
    assert [at.text_input(key=field(world.course, name)).value for name in values] == list(values.values())
    if day:
        assert at.date_input(key=field(world.course, "date")).value == day
    assert data() == before


def test_a_final_score_after_the_course_ended_is_dated_inside_it(world: World) -> None:
    at = choose(page(), "SAG-2002")
    assert at.date_input(key=field(world.ended, "date")).value == days_ago(10)
    at = type_score(at, world.ended, GOOD)
    assert not errors(at) and successes(at)
    assert len(ors_rows(world.ended)) == 1


def test_the_sliders_show_the_total_at_once_and_save_it(world: World) -> None:
    at = choose(page(), "SAG-1001")
    at.toggle(key="ors-skydere").set_value(True).run()
    for name, tenths in {"individual": 75, "interpersonal": 60, "social": 55, "overall": 80}.items():
        at.select_slider(key=field(world.course, f"s-{name}")).set_value(tenths).run()
    assert [m.value for m in at.metric if m.label == "Total"] == ["27,0"]
    at.button(key=field(world.course, "s-gem")).click().run()
    assert successes(at) == [f"Gemt: ORS 27,0 for SAG-1001 (session 2, {TODAY:%d.%m.%Y})."]
    assert ors_rows(world.course)[-1] == (2, 75, 60, 55, 80)


def test_an_srs_may_be_recorded_in_the_same_flow(world: World) -> None:
    at = type_score(choose(page(), "SAG-1001"), world.course,
                    {"relation": "9,5", "goals": "9", "approach": "8.5", "overall": "9"}, kind="srs")
    assert successes(at) == [f"Gemt: SRS 36,0 for SAG-1001 (session 1, {TODAY:%d.%m.%Y})."]
    with db.read_session() as s:
        srs = s.exec(select(SrsScore).where(SrsScore.course_id == world.course)).one()
    assert (srs.relation, srs.goals, srs.approach, srs.overall, srs.group_session) == (95, 90, 85, 90, False)


def test_an_invalid_srs_is_refused_keeping_the_input(world: World) -> None:
    at = choose(page(), "SAG-1001")
    before = data()
    typed = {"relation": "9,5", "goals": "", "approach": "8.5", "overall": "9"}
    at = type_score(at, world.course, typed, kind="srs")
    assert errors(at) == ["Skriv et tal fra 0 til 10 ved Mål og emner."]
    assert [at.text_input(key=field(world.course, name, "srs")).value for name in typed] == list(typed.values())
    assert data() == before


# ---------------------------------------------------------------------------------------
# Choosing the citizen

def test_the_search_is_logged_once_however_often_the_page_runs(world: World) -> None:
    at = choose(page(), "SAG-1001")
    at.run()
    type_score(at, world.course, {**GOOD, "social": "x"})
    type_score(at, world.course, GOOD)
    searched = [e for e in entries("searched") if e.citizen_ref == "SAG-1001"]
    viewed = [e for e in entries("viewed") if e.citizen_ref == "SAG-1001"]
    assert (len(searched), len(viewed)) == (1, 1)


def test_a_search_naming_several_citizens_asks_which_one(world: World) -> None:
    at = choose(page(), "sag-100")
    choice = at.radio(key="ors-valg-sag-100")
    born = TODAY.year - 40
    assert choice.options == [f"SAG-1001 (født {born})", f"SAG-1002 (født {born})"]
    assert not any(w.key == field(world.course, "individual") for w in at.text_input), "no form before the choice"
    choice.set_value(_citizen_id("SAG-1001")).run()
    assert at.text_input(key=field(world.course, "individual")).value == ""


def _citizen_id(ref: str) -> int:
    from fokus.models import Citizen

    with db.read_session() as s:
        return s.exec(select(Citizen.id).where(Citizen.ref == ref)).one()


def test_a_citizen_without_a_course_is_told_where_to_start_one(world: World) -> None:
    at = choose(page(), "SAG-3003")
    assert [i.value for i in at.info] == ["SAG-3003 har intet forløb endnu: start det under Forløb, så kan ORS "
                                          "registreres."]


def test_a_cpr_number_typed_as_the_search_is_refused_and_not_logged(world: World) -> None:
    at = choose(page(), "010190-1234")
    assert errors(at) and "CPR" in errors(at)[0]
    assert not entries("searched")


# ---------------------------------------------------------------------------------------
# The chart

def test_the_chart_shows_totals_by_session_the_cutoff_and_the_band_around_the_first_score(world: World) -> None:
    at = type_score(choose(page(), "SAG-1001"), world.course, {"individual": "9", "interpersonal": "8",
                                                               "social": "7", "overall": "8"})  # 32,0: +11,5
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = {trace.get("name"): trace for trace in figure["data"]}
    assert traces["ORS-total"]["x"] == [1, 2] and traces["ORS-total"]["y"] == [20.5, 32.0]
    assert traces["Klinisk grænse (25,0)"]["y"] == [25.0, 25.0]
    band = figure["layout"]["shapes"][0]
    assert (band["y0"], band["y1"]) == (15.5, 25.5)
    assert "Pålidelig fremgang" in traces, "a reliable change is marked"
    assert not any("forvent" in (name or "").lower() for name in traces), "no expected-response curve"
    assert "SAG-1001" in figure["layout"]["title"]["text"]


# ---------------------------------------------------------------------------------------
# Correcting and deleting

def open_edit(at: AppTest, world: World, score_id: int | None = None) -> tuple[AppTest, str]:
    key = f"ors-{score_id or world.first_score}"
    at.selectbox(key=f"ors-ret-valg-{world.course}").set_value(key).run()
    return at, f"ors-ret-ors-{score_id or world.first_score}-"


def test_a_wrong_score_is_corrected_from_its_saved_values_and_logged(world: World) -> None:
    at, prefix = open_edit(choose(page(), "SAG-1001"), world)
    assert at.text_input(key=f"{prefix}individual").value == "5,0"
    at.text_input(key=f"{prefix}individual").input("6,5")
    at.button(key=f"{prefix}gem").click().run()
    assert successes(at) == [f"Rettet: ORS 22,0 for SAG-1001 (session 1, {days_ago(20):%d.%m.%Y})."]
    assert ors_rows(world.course) == [(1, 65, 60, 40, 55)]
    assert [e.table_name for e in entries("changed")] == ["orsscore"]


def test_a_correction_after_a_colleagues_is_refused_and_keeps_the_input(world: World) -> None:
    at, prefix = open_edit(choose(page(), "SAG-1001"), world)
    with db.write_session() as s:  # a colleague corrects the same score meanwhile
        svc.update_ors(s, SYSTEM, score_id=world.first_score, expected_version=1, day=days_ago(20),
                       items={**FIRST, "social": 45}, session_no=1)
    before = data()
    at.text_input(key=f"{prefix}individual").input("6,5")
    at.button(key=f"{prefix}gem").click().run()
    assert len(errors(at)) == 1 and "ændret af en anden" in errors(at)[0]
    assert at.text_input(key=f"{prefix}individual").value == "6,5"
    assert data() == before
    assert ors_rows(world.course) == [(1, 50, 60, 45, 55)], "the colleague's correction stands"


def test_an_invalid_correction_is_refused_keeping_the_input(world: World) -> None:
    at, prefix = open_edit(choose(page(), "SAG-1001"), world)
    before = data()
    at.text_input(key=f"{prefix}social").input("7,77")
    at.button(key=f"{prefix}gem").click().run()
    assert errors(at) == ["Socialt må højst have én decimal (fx 7,5)."]
    assert at.text_input(key=f"{prefix}social").value == "7,77"
    assert data() == before


def test_a_score_is_deleted_only_when_confirmed_and_the_deletion_is_logged(world: World) -> None:
    at, prefix = open_edit(choose(page(), "SAG-1001"), world)
    before = data()
    at.button(key=f"{prefix}slet").click().run()
    assert errors(at) == ["Sæt flueben ved »Ja, slet denne måling« først."]
    assert data() == before
    at.checkbox(key=f"{prefix}confirm").check()
    at.button(key=f"{prefix}slet").click().run()
    assert not errors(at) and successes(at)[0].startswith("Slettet: ORS · session 1")
    assert ors_rows(world.course) == []
    assert [e.table_name for e in entries("deleted")] == ["orsscore"]


def test_a_deletion_after_a_colleagues_correction_is_refused(world: World) -> None:
    at, prefix = open_edit(choose(page(), "SAG-1001"), world)
    with db.write_session() as s:
        svc.update_ors(s, SYSTEM, score_id=world.first_score, expected_version=1, day=days_ago(19),
                       items=FIRST, session_no=1)
    at.checkbox(key=f"{prefix}confirm").check()
    at.button(key=f"{prefix}slet").click().run()
    assert len(errors(at)) == 1 and "ændret af en anden" in errors(at)[0]
    assert len(ors_rows(world.course)) == 1


# ---------------------------------------------------------------------------------------
# The PIN and the tablet self-report

def set_pin(at: AppTest, pin: str, repeated: str) -> AppTest:
    at.text_input(key="ors-pin-pin").input(pin)
    at.text_input(key="ors-pin-repeated").input(repeated)
    at.button(key="ors-pin-gem").click().run()
    return at


def pin_hash(login: str = LOGIN) -> str | None:
    with db.read_session() as s:
        return s.exec(select(User.pin_hash).where(User.login == login)).one()


def test_a_staff_member_sets_their_pin_on_the_page(world: World) -> None:
    at = set_pin(page(), "2580", "2580")
    assert successes(at) == ["Din PIN er sat."]
    assert (pin_hash() or "").startswith("$argon2")
    assert at.text_input(key="ors-pin-pin").value == ""


def test_a_weak_or_mistyped_pin_is_refused_and_nothing_is_stored(world: World) -> None:
    at = set_pin(page(), "1234", "1234")
    assert errors(at) == ["PIN er for let at gætte (fx 1111 eller 1234): vælg andre cifre."]
    at = set_pin(at, "2580", "2589")
    assert errors(at) == ["De to PIN-koder er ikke ens: skriv den samme to gange."]
    assert pin_hash() is None


def test_self_report_cannot_be_opened_before_the_pin_is_set(world: World) -> None:
    at = choose(page(), "SAG-1001")
    assert at.button(key=f"ors-selvreg-{world.course}").disabled


def all_text(at: AppTest) -> str:
    """Everything the page sends to the browser: every element's labels, values, options and help."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if getattr(node, "proto", None) is not None:
            parts.append(str(node.proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def open_self_report(world: World) -> AppTest:
    at = set_pin(page(), "2580", "2580")
    at = choose(at, "SAG-1001")
    assert "SAG-1001" in all_text(at)  # the scan below would see the reference
    at.button(key=f"ors-selvreg-{world.course}").click().run()
    return through_app(at)


def through_app(at: AppTest) -> AppTest:
    """Run the app as the browser does after a click: through app.py, which decides what to show.

    (AppTest runs a page it switched to on its own, without app.py.)"""
    at.switch_page("app.py").run()
    assert not at.exception, at.exception
    return at


def mark(at: AppTest, values: dict[str, int]) -> AppTest:
    for name, tenths in values.items():
        at.select_slider(key=f"selvreg-{name}").set_value(tenths).run()
    return at


def test_the_self_report_flow_open_mark_save_thanks_and_leave_with_the_pin(world: World) -> None:
    at = open_self_report(world)
    assert [t.value for t in at.title] == ["Hvordan har du haft det?"]
    assert not at.sidebar.children, "no menu, no logout, nothing else"
    assert [s.label for s in at.select_slider] == ["Individuelt", "Nære relationer", "Socialt", "Generelt"]
    for marked in ("personligt velbefindende", "familie, nære venner", "arbejde, skole, venskaber, fællesskaber",
                   "generel følelse af velbefindende"):
        assert marked in " ".join(m.value for m in at.markdown).lower()
    for ref in ("SAG-1001", world.course_ref, "født", LOGIN):
        assert ref not in all_text(at), f"{ref} is visible on the tablet"

    at = mark(at, {"individual": 62, "interpersonal": 75, "social": 48, "overall": 55})
    at.button(key="selvreg-gem").click().run()
    assert [t.value for t in at.title] == ["Tak!"]
    for ref in ("SAG-1001", world.course_ref, "24,0"):
        assert ref not in all_text(at)
    assert ors_rows(world.course)[-1] == (2, 62, 75, 48, 55)
    created = [e for e in entries("created") if e.table_name == "orsscore"]
    assert [e.detail for e in created] == ["selvregistrering"]

    at.text_input(key="selvreg-pin").input("9999")
    at.button(key="FormSubmitter:selvreg-leave-Afslut").click().run()
    assert errors(at) == ["Forkert PIN."]
    assert [t.value for t in at.title] == ["Tak!"], "a wrong PIN does not leave"
    denied = [e.detail for e in entries("denied")]
    assert denied == ["selvregistrering: forkert PIN (1 af 5)"]

    at.text_input(key="selvreg-pin").input("2580")
    at.button(key="FormSubmitter:selvreg-leave-Afslut").click().run()
    assert [t.value for t in at.title] == ["ORS"]
    assert successes(at)[0] == "Selvregistreringen er afsluttet, og borgerens ORS er gemt."
    assert at.sidebar.children, "the menu is back"
    assert at.text_input(key="ors-borger").value == "SAG-1001", "back at the citizen, with the new score"
    totals = next(t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"] if t.get("name") == "ORS-total")
    assert totals["y"] == [20.5, 24.0]


def test_every_line_must_be_marked_before_saving(world: World) -> None:
    at = mark(open_self_report(world), {"individual": 62, "social": 48})
    before = data()
    at.button(key="selvreg-gem").click().run()
    assert [w.value for w in at.warning] == ["Flyt markøren på alle fire linjer. Mangler: Nære relationer, Generelt."]
    assert data() == before


def test_a_reload_on_the_tablet_stays_in_the_self_report(world: World) -> None:
    at = open_self_report(world)
    reloaded = AppTest.from_file(APP, default_timeout=60)
    reloaded.session_state["fokus_token"] = at.session_state["fokus_token"]  # the cookie of the same browser
    reloaded.run()
    assert [t.value for t in reloaded.title] == ["Hvordan har du haft det?"]
    assert not reloaded.sidebar.children
    assert "SAG-1001" not in all_text(reloaded)


def test_the_self_report_page_refuses_anyone_when_no_self_report_is_open(world: World) -> None:
    at = page()
    at.switch_page("pages/selvregistrering.py").run()
    assert errors(at) == ["Din rolle giver ikke adgang til denne side."]
    assert not at.select_slider and not at.button
    assert [e.detail for e in entries("denied")] == ["side selvregistrering"]


# ---------------------------------------------------------------------------------------
# The self-report on another tablet, through a single-use code

def open_code_on_page(world: World) -> tuple[AppTest, str]:
    """The staff member's PC: the code for SAG-1001's course, as the page shows it."""
    at = choose(set_pin(page(), "2580", "2580"), "SAG-1001")
    at.button(key=f"ors-selvreg-kode-{world.course}").click().run()
    assert not at.exception, at.exception
    shown = [h.proto.body for h in at.get("html") if "monospace" in h.proto.body]
    assert len(shown) == 1
    code = shown[0].split(">", 1)[1].split("<", 1)[0]
    return at, code


def login_page() -> AppTest:
    """A tablet nobody is signed in to."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def type_code(at: AppTest, code: str) -> AppTest:
    """Type the code on the login page. (After a good one the browser runs app.py again; AppTest
    reruns the login page it is on, so the tests then go `through_app`.)"""
    at.text_input(key="selvreg-kode-felt").input(code)
    at.button(key="FormSubmitter:selvreg-kode-Åbn selvregistrering").click().run()
    assert not at.exception, at.exception
    return at


def test_a_code_for_another_tablet_is_shown_large_with_its_link_and_how_long_it_is_valid(world: World) -> None:
    at, code = open_code_on_page(world)
    assert len(code) == 9 and code[4] == "-"
    with db.read_session() as s:
        mode = s.exec(select(SelfReportSession)).one()
    assert mode.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert mode.login_token_hash is None
    assert at.code[0].value.endswith(f"/?selvregistrering={code}")
    assert any(f"Koden gælder én gang, til {fmt.moment(mode.expires)}." in c.value for c in at.caption)
    at.button(key="ors-selvreg-kode-skjul").click().run()
    assert not [h for h in at.get("html") if "monospace" in h.proto.body]
    at = through_app(at)
    assert "Hvordan har du haft det?" not in [t.value for t in at.title]
    assert at.sidebar.children, "the PC itself stays a staff browser, with its menu"


def test_the_pc_follows_the_tablet_and_shows_the_citizens_score_once_it_is_saved(world: World) -> None:
    # the panel looks again every few seconds (a fragment, run_every): here each run of the page is such a look
    pc, code = open_code_on_page(world)
    newest = f"{fmt.day(clock.today())} · total 24,0"
    assert not any(newest in option for box in pc.selectbox for option in box.options)
    assert [i.value for i in pc.info] == ["Venter på tabletten …"]
    tablet = through_app(type_code(login_page(), code))
    assert [i.value for i in pc.run().info] == ["Tabletten er åbnet: borgeren udfylder ORS nu."]
    tablet = mark(tablet, {"individual": 62, "interpersonal": 75, "social": 48, "overall": 55})
    tablet.button(key="selvreg-gem").click().run()
    pc.run()
    assert not pc.exception, pc.exception
    assert not [h for h in pc.get("html") if "monospace" in h.proto.body], "the code is gone once it is used"
    assert [m.value for m in pc.success] == [
        "Gemt fra tabletten: borgerens ORS for SAG-1001 står nu i forløbets målinger."]
    assert ors_rows(world.course)[-1] == (2, 62, 75, 48, 55)
    assert pc.number_input(key=f"ors-ny-{world.course}-session_no").value == 3, "the next session after the tablet's"
    assert any(newest in option for box in pc.selectbox for option in box.options), "the page has the new score"


def test_a_tablet_that_types_the_code_shows_the_self_report_alone_and_the_pin_returns_it_to_the_login(
    world: World,
) -> None:
    _, code = open_code_on_page(world)
    tablet = through_app(type_code(login_page(), code.lower().replace("-", " ")))
    assert [t.value for t in tablet.title] == ["Hvordan har du haft det?"]
    assert not tablet.sidebar.children
    for ref in ("SAG-1001", world.course_ref, "født", LOGIN):
        assert ref not in all_text(tablet), f"{ref} is visible on the tablet"
    tablet = mark(tablet, {"individual": 62, "interpersonal": 75, "social": 48, "overall": 55})
    tablet.button(key="selvreg-gem").click().run()
    assert [t.value for t in tablet.title] == ["Tak!"]
    assert ors_rows(world.course)[-1] == (2, 62, 75, 48, 55)

    token = tablet.session_state["fokus_token"]
    tablet.text_input(key="selvreg-pin").input("9999")
    tablet.button(key="FormSubmitter:selvreg-leave-Afslut").click().run()
    assert errors(tablet) == ["Forkert PIN."] and [t.value for t in tablet.title] == ["Tak!"]
    tablet.text_input(key="selvreg-pin").input("2580")
    tablet.button(key="FormSubmitter:selvreg-leave-Afslut").click().run()
    assert [t.value for t in tablet.title] == ["fokus"], "the login page"
    assert [i.value for i in tablet.info] == ["Selvregistreringen er afsluttet."]
    assert not tablet.sidebar.children
    assert auth.resume(token) is None


def test_the_link_opens_the_self_report_and_the_same_link_again_is_refused(world: World) -> None:
    _, code = open_code_on_page(world)
    tablet = AppTest.from_file(APP, default_timeout=60)
    tablet.query_params[selfreport.CODE_PARAM] = code
    tablet.run()
    assert [t.value for t in tablet.title] == ["Hvordan har du haft det?"]
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params[selfreport.CODE_PARAM] = code
    again.run()
    assert errors(again) == ["Koden er allerede brugt. Bed medarbejderen om en ny."]
    assert [t.value for t in again.title] == ["fokus"] and again.text_input(key="login_user") is not None
    assert [e.detail for e in entries("denied", login="tablet")] == ["selvregistrering: kode allerede brugt"]


def test_a_wrong_code_typed_on_the_login_page_is_refused_and_kept_in_the_field(world: World) -> None:
    tablet = type_code(login_page(), "ABCD-EFGH")
    assert errors(tablet) == ["Koden findes ikke. Tjek den, eller bed medarbejderen om en ny."]
    assert tablet.text_input(key="selvreg-kode-felt").value == "ABCD-EFGH"
    assert "fokus_token" not in tablet.session_state


def test_a_code_tablet_whose_opening_is_gone_goes_to_the_login_page_at_once(world: World) -> None:
    _, code = open_code_on_page(world)
    tablet = through_app(type_code(login_page(), code))
    token = tablet.session_state["fokus_token"]
    with db.write_session() as s:
        s.exec(delete(SelfReportSession))  # as when the course is deleted meanwhile
    tablet.run()
    assert [t.value for t in tablet.title] == ["fokus"] and not tablet.sidebar.children
    assert auth.resume(token) is None
