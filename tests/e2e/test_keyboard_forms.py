"""Every other data-entry form with the keyboard alone, in chromium (the first ones are in test_keyboard.py).

The same rules: Tab and Shift+Tab move the focus, typing fills, the arrow keys and Enter choose in a select,
the arrow keys switch tabs and radio options, Space ticks a checkbox, Enter or Space saves. No click and no
`fill`. Each test asserts what the user would look at: the confirmation, and the saved thing where it shows
(a table, a list, the course's record), or a refusal that keeps what was typed.

One server on one copy of the demo database for the module (the saves must not change what other browser
tests see); each test works on its own rows of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from fokus import clock, codes, fmt
from tests.e2e.conftest import DemoDatabase, copy_of, run_after, serving, wait_for_run
from tests.e2e.test_keyboard import choose_with_arrows, focused, log_in_with_keyboard, tab_to, waiting_count
from tests.test_exchange import good_sheets, xlsx

pytestmark = pytest.mark.e2e

TODAY = fmt.day(clock.today())


@dataclass(frozen=True)
class Server:
    url: str
    database: str
    password: str


@pytest.fixture(scope="module")
def server(demo_database: DemoDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("keyboard-forms")
    copy = copy_of(demo_database.url, folder)
    with serving(copy, folder / "streamlit.log") as url:
        yield Server(url, copy, demo_database.password)


def query(server: Server, sql: str) -> list[tuple]:
    engine = sa.create_engine(server.database)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(sql).all()]
    finally:
        engine.dispose()


def tab_until(page, matches: Callable[[str], bool], what: str, limit: int = 120) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element's name satisfies `matches` (for names with icon text in them)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if matches(now):
            return
        seen.append(now)
    raise AssertionError(f"Tab never reached {what}; it went through {seen}")


def open_tab(page, first: str, wanted: str, steps: int) -> None:  # type: ignore[no-untyped-def]
    """Tab to the tab list (it is one stop: the chosen tab) and move with the arrow keys to `wanted`."""
    tab_to(page, first)
    key = "ArrowRight" if steps > 0 else "ArrowLeft"
    for _ in range(abs(steps)):
        page.keyboard.press(key)
    assert focused(page) == wanted
    assert page.get_by_role("tab", name=wanted).get_attribute("aria-selected") == "true"
    wait_for_run(page)


def press_and_rerun(page, key: str = "Enter") -> None:  # type: ignore[no-untyped-def]
    """Press a key that makes the app run again (a choice outside a form), and wait for that run to finish:
    typing on before it has finished can land in fields it then draws again."""
    run_after(page, lambda: page.keyboard.press(key))


def replace(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """In the focused field: select what is there and type over it."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def saved(page, text: str | re.Pattern) -> str:  # type: ignore[no-untyped-def]
    """Wait for the confirmation; its text. (If it never comes: the messages that are there instead.)"""
    message = page.get_by_text(text).first
    try:
        message.wait_for(timeout=20_000)
    except PlaywrightTimeout:
        alerts = page.locator('[data-testid="stAlert"]').filter(visible=True).all_inner_texts()
        raise AssertionError(f"no {text!r}; the page says {alerts}") from None
    wait_for_run(page)
    return message.inner_text()


def table_text(within, index: int = 0) -> str:  # type: ignore[no-untyped-def]
    """The text of a visible data frame in `within` (a page, a tab panel): its accessible table, what a screen
    reader reads of the canvas; the cells joined by " | "."""
    table = within.locator('[data-testid="stDataFrame"]').filter(visible=True).nth(index).locator("table")
    table.wait_for(state="attached", timeout=10_000)
    return " | ".join(table.locator("td, th").all_inner_texts())


def chosen(page, select: str) -> str:  # type: ignore[no-untyped-def]
    """What a visible select shows as chosen."""
    box = page.locator('[data-testid="stSelectbox"]').filter(visible=True).filter(
        has=page.get_by_role("combobox", name=select, exact=True)).first
    return box.evaluate("""b => { const i = b.querySelector('input');
        return (i.value || b.querySelector('[data-baseweb="select"] > div').innerText || '').trim(); }""")


def numbers(cells: list[str]) -> list[float]:
    """Cells as numbers. (The canvas shows "7,5"; its accessible table has the unformatted "7.5".)"""
    return [float(cell.replace(",", ".")) for cell in cells]


def highlighted(page) -> str:  # type: ignore[no-untyped-def]
    """The option the arrow keys have reached in the focused select."""
    return page.evaluate("""() => { const box = document.activeElement;
        const id = box && box.getAttribute('aria-activedescendant');
        const option = id && document.getElementById(id); return option ? option.innerText.trim() : ''; }""")


def panel(page):  # type: ignore[no-untyped-def]
    """The open tab panel."""
    return page.get_by_role("tabpanel").filter(visible=True).first


def offered(page, select: str, typed: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Tab to a select, type into it: `option` is among what it offers (then Escape)."""
    tab_to(page, select)
    page.keyboard.type(typed)
    page.get_by_role("option").filter(has_text=option).first.wait_for(timeout=10_000)
    page.keyboard.press("Escape")


def start(page, server: Server, login: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1366, "height": 1000})
    log_in_with_keyboard(page, server.url, login, server.password)
    page.goto(f"{server.url}/{path}")
    wait_for_run(page)


# ---------------------------------------------------------------------------------------
# Forløb: edit a course, a network meeting, end the course (a refusal first)


@pytest.mark.slow
def test_a_course_edited_given_a_network_meeting_and_ended_with_the_keyboard(page, server: Server) -> None:
    (course_ref, contact_id), = query(server, (
        "SELECT course.ref, course.contact_person_id FROM course JOIN citizen ON citizen.id = "
        f"course.citizen_id WHERE course.\"end\" IS NULL AND course.start <= '{clock.today().isoformat()}' "
        "AND course.form = 'individual' ORDER BY course.id LIMIT 1"))
    (name, initials), = query(server, "SELECT name, initials FROM staff WHERE active AND unit_id = (SELECT unit_id "
                                      f"FROM course WHERE ref = '{course_ref}') AND id != {contact_id or 0} "
                                      "ORDER BY name LIMIT 1")
    start(page, server, "demo-medarbejder", "forloeb")
    active_before = page.get_by_role("heading", name=re.compile(r"^Aktive forløb")).inner_text()
    tab_to(page, "Aktivt forløb")
    page.keyboard.type(course_ref)
    page.keyboard.press("Enter")
    page.get_by_role("tab", name="Ret forløbet").wait_for(timeout=20_000)
    wait_for_run(page)

    # Ret forløbet: another contact person, typed into the select; Enter saves.
    open_tab(page, "Afslut", "Ret forløbet", 1)
    tab_to(page, "Kontaktperson")
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    tab_to(page, "Gem rettelser")
    page.keyboard.press("Enter")
    saved(page, f"Rettelserne til forløb {course_ref} er gemt.")
    contact = page.locator("p").filter(has=page.locator("strong", has_text="Kontaktperson")).first
    assert contact.inner_text().split() == ["Kontaktperson", initials], "the record shows the new contact person"

    # Netværksmøder: the date stays today, the number typed, Enter saves; the list of meetings has it.
    open_tab(page, "Ret forløbet", "Netværksmøder", 1)
    tab_to(page, "Antal deltagere")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    saved(page, f"Netværksmødet {TODAY} med 5 deltagere er gemt.")
    assert f"{TODAY} | 5" in table_text(panel(page)), "the meetings table shows it"
    offered(page, "Ret eller slet et møde", "5 deltagere", f"{TODAY} · 5 deltagere")

    # Afslut: the next step chosen but no reason: refused, and the chosen step stays; then the reason; Space.
    open_tab(page, "Netværksmøder", "Afslut", -2)
    tab_to(page, "Efterfølgende indsats")
    choose_with_arrows(page, "Job")
    tab_to(page, "Afslut forløbet")
    page.keyboard.press("Enter")
    page.get_by_text("Vælg afslutningsårsag").first.wait_for(timeout=20_000)  # the refusal says what to do
    wait_for_run(page)
    assert chosen(page, "Efterfølgende indsats") == "Job", "the refused form keeps the chosen next step"
    tab_to(page, "Afslutningsårsag", back=True)
    choose_with_arrows(page, "Gennemført")
    tab_to(page, "Afslut forløbet")
    page.keyboard.press("Space")
    saved(page, f"Forløb {course_ref} er afsluttet {TODAY}.")
    page.get_by_text(re.compile(rf"^Afsluttet {re.escape(TODAY)} efter .*: gennemført, efterfølgende indsats: "
                                r"job$")).wait_for(timeout=10_000)
    active_after = page.get_by_role("heading", name=re.compile(r"^Aktive forløb")).inner_text()
    count = [int(re.search(r"\((\d+)", text).group(1)) for text in (active_before, active_after)]  # type: ignore[union-attr]
    assert count[1] == count[0] - 1, "the ended course has left the active list"


# ---------------------------------------------------------------------------------------
# Forløb, the rest: an ended course found by search and reopened, a meeting changed and deleted, the course deleted


@pytest.mark.slow
def test_a_course_found_reopened_its_meeting_changed_and_deleted_and_the_course_deleted(page, server: Server) -> None:
    (ref, course_ref), = query(server, (
        "SELECT citizen.ref, course.ref FROM course JOIN citizen ON citizen.id = course.citizen_id "
        "WHERE course.\"end\" IS NOT NULL AND course.form = 'individual' "
        "AND (SELECT count(*) FROM course c2 WHERE c2.citizen_id = citizen.id) = 1 "
        "AND (SELECT count(*) FROM referral r2 WHERE r2.citizen_id = citizen.id) = 1 "
        "AND (SELECT count(*) FROM citizen c3 WHERE c3.ref LIKE '%' || citizen.ref || '%') = 1 "
        "ORDER BY course.id DESC LIMIT 1"))
    start(page, server, "demo-medarbejder", "forloeb")

    # Found: the radio option changed with the arrow key, the reference typed, Enter searches.
    tab_to(page, "Blandt de aktive")
    press_and_rerun(page, "ArrowRight")
    assert page.get_by_role("radio", name="Søg på borgerens reference").is_checked()
    tab_to(page, "Borgerens reference (hele eller en del af den)")
    page.keyboard.type(ref)
    press_and_rerun(page)
    page.get_by_role("tab", name="Genåbn").wait_for(timeout=20_000)
    wait_for_run(page)

    # Genåbn: Enter on the button in the first tab; the record says it is active again.
    tab_to(page, "Genåbn")
    tab_to(page, "Genåbn forløbet")
    page.keyboard.press("Enter")
    saved(page, f"Forløb {course_ref} er genåbnet og er igen aktivt.")
    page.get_by_text(re.compile(r"^Aktivt siden ")).wait_for(timeout=10_000)

    # A meeting added, then chosen and changed, then chosen and deleted with Space on "Slet mødet".
    open_tab(page, "Afslut", "Netværksmøder", 2)
    tab_to(page, "Antal deltagere")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    saved(page, f"Netværksmødet {TODAY} med 3 deltagere er gemt.")
    tab_to(page, "Ret eller slet et møde")
    page.keyboard.type("3 deltagere")
    press_and_rerun(page)
    tab_to(page, "Antal deltagere")  # the chosen meeting's form, after the choice
    replace(page, "6")
    tab_to(page, "Gem")
    page.keyboard.press("Enter")
    saved(page, f"Netværksmødet {TODAY} med 6 deltagere er gemt.")
    assert f"{TODAY} | 6" in table_text(panel(page)), "the meetings table shows the change"
    tab_to(page, "Ret eller slet et møde")
    page.keyboard.type("6 deltagere")
    press_and_rerun(page)
    tab_to(page, "Slet mødet")
    page.keyboard.press("Space")
    tab_to(page, "Gem")
    page.keyboard.press("Enter")
    saved(page, f"Netværksmødet {TODAY} er slettet.")
    assert f"{TODAY} | 6" not in (table_text(panel(page)) if panel(page).locator('[data-testid="stDataFrame"]').count()
                                  else ""), "the meeting has left the table"

    # Slet: the confirmation ticked with Space, Enter on the button; the referral waits again.
    open_tab(page, "Netværksmøder", "Slet", 1)
    tab_until(page, lambda name: name.startswith(f"Ja, forløb {course_ref}"), "the confirmation box")
    page.keyboard.press("Space")
    tab_to(page, "Slet forløbet")
    page.keyboard.press("Enter")
    saved(page, f"Forløb {course_ref} er slettet.")
    page.goto(f"{server.url}/henvisninger")
    wait_for_run(page)
    offered(page, "Vælg en ventende henvisning", ref, ref)


# ---------------------------------------------------------------------------------------
# Hold: a session's attendance and ORS, a new group, citizens started on it, the group edited


def table_rows(within, index: int = 0) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The rows of a visible data frame's accessible table, each a list of its cells' texts."""
    table = within.locator('[data-testid="stDataFrame"]').filter(visible=True).nth(index).locator("table")
    table.wait_for(state="attached", timeout=10_000)
    return [row.locator("td, th").all_inner_texts() for row in table.locator("tr").all()]


def by_first_cell(within, index: int = 0, until: Callable[[dict[str, list[str]]], bool] = lambda table: True,
                  seconds: float = 10) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """A visible data frame's rows by their first cell, once `until` holds of them (the canvas's accessible
    table follows a new frame a moment later) or after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        table = {row[0]: row for row in table_rows(within, index)[1:] if row}
        try:
            if until(table):
                return table
        except KeyError:
            pass
        if time.monotonic() > deadline:
            return table
        time.sleep(0.2)


@pytest.mark.slow
def test_a_group_session_a_new_group_its_citizens_and_an_edit_with_the_keyboard(page, server: Server) -> None:
    start(page, server, "demo-medarbejder", "hold")

    # Holdmøde: the first citizen's "Fremmødt" unticked with Space, the second one's ORS typed; Enter saves.
    overview = {row[0]: row for row in table_rows(panel(page))}
    open_tab(page, "Oversigt", "Holdmøde", 1)
    group = chosen(page, "Hold").split(" (")[0]
    present = page.get_by_role("checkbox", name=re.compile(r"^Fremmødt, ")).filter(visible=True)
    members = present.count()
    assert members >= 2
    tab_until(page, lambda name: name.startswith("Fremmødt, "), "the first Fremmødt box")
    absent = focused(page).removeprefix("Fremmødt, ")
    page.keyboard.press("Space")
    assert not page.get_by_role("checkbox", name=f"Fremmødt, {absent}").is_checked()
    tab_until(page, lambda name: name.startswith("Fremmødt, "), "the second Fremmødt box")
    scored = focused(page).removeprefix("Fremmødt, ")
    for value, item in (("6", "Individuelt"), ("7,5", "Nære relationer"), ("5", "Socialt"), ("6,5", "Generelt")):
        page.keyboard.press("Tab")
        assert focused(page) == f"{item}, {scored}"
        page.keyboard.type(value)
    tab_to(page, "Gem holdmøde")
    page.keyboard.press("Enter")
    saved(page, f"Holdmødet {TODAY} på {group} er gemt: {members - 1} af {members} mødte, 1 ORS-målinger.")
    open_tab(page, "Holdmøde", "Oversigt", -1)
    sessions = 7  # the column "Holdmøder"
    after = by_first_cell(panel(page), until=lambda t: t[group][sessions] != overview[group][sessions])
    assert int(after[group][sessions]) == int(overview[group][sessions]) + 1, "the overview counts the session"

    # Nyt hold: name, theme, the start stays today, the number of places typed over; Space saves.
    open_tab(page, "Oversigt", "Nyt hold", 3)
    tab_to(page, "Holdets navn")
    page.keyboard.type("Tastaturholdet")
    page.keyboard.press("Tab")
    assert focused(page) == "Tema"
    page.keyboard.type("Ro på")
    tab_to(page, "Antal pladser")
    replace(page, "8")
    tab_to(page, "Opret hold")
    page.keyboard.press("Space")
    saved(page, f"Holdet Tastaturholdet er oprettet med start {TODAY}.")

    # Start borgere på hold: two waiting citizens typed into the multiselect, the contact person; Enter.
    open_tab(page, "Nyt hold", "Start borgere på hold", -1)
    tab_to(page, "Hold")
    page.keyboard.type("Tastaturholdet")
    press_and_rerun(page)
    page.get_by_text("Tastaturholdet: 0 af 8 pladser er optaget i dag.").wait_for(timeout=20_000)
    wait_for_run(page)
    assert chosen(page, "Hold") == f"Tastaturholdet (fra {TODAY})"
    tab_to(page, "Borgere fra ventelisten")
    pick_past_select_all(page, "")
    # The citizen chosen, as its tag shows it (reading the highlighted option once came back empty).
    tags = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Borgere fra ventelisten", visible=True)
    tag = tags.first.get_by_test_id("stMultiSelectTagsContainer").get_by_text(" · ")
    expect(tag).to_have_count(1)
    citizen = tag.inner_text().split(" · ")[0]
    tab_to(page, "Kontaktperson")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    tab_to(page, "Start forløb på holdet")
    page.keyboard.press("Enter")
    saved(page, f"1 forløb er startet på Tastaturholdet: {citizen}.")
    # The overview: the new group, its theme and places, and the citizen on it today.
    open_tab(page, "Start borgere på hold", "Oversigt", -2)
    row = by_first_cell(panel(page), until=lambda t: "Tastaturholdet" in t)["Tastaturholdet"]
    assert row[1:7] == ["Ro på", TODAY, "", "8", "1", fmt.percent(1 / 8)], row

    # Ret hold: the group chosen by typing, its places typed over; Enter saves; the form shows the saved value.
    open_tab(page, "Oversigt", "Ret hold", 4)
    tab_to(page, "Hold")
    page.keyboard.type("Tastaturholdet")
    press_and_rerun(page)
    expect(panel(page).get_by_label("Holdets navn")).to_have_value("Tastaturholdet")  # its form is drawn
    wait_for_run(page)
    tab_to(page, "Antal pladser")
    replace(page, "9")
    tab_to(page, "Gem ændringer")
    page.keyboard.press("Enter")
    saved(page, "Holdet Tastaturholdet er gemt.")
    assert panel(page).get_by_label("Antal pladser").input_value() == "9"


# ---------------------------------------------------------------------------------------
# Mål: new targets from today (in force at once), then deleted again through the expander's buttons


@pytest.mark.slow
def test_targets_changed_and_deleted_with_the_keyboard(page, server: Server) -> None:
    start(page, server, "demo-leder", "maal")
    in_force = {row[0]: row[1] for row in table_rows(page)}
    assert in_force["Forløbets længde"] != "10–16 uger, højst 6 måneder"
    tab_to(page, "Korteste forløb (uger)")
    replace(page, "10")
    tab_to(page, "Gem mål")
    page.keyboard.press("Enter")
    saved(page, re.compile(rf"^Målene for .* gyldig fra {re.escape(TODAY)} er gemt\.$"))
    in_force = by_first_cell(page, until=lambda t: t["Forløbets længde"][1] == "10–16 uger, højst 6 måneder")
    assert in_force["Forløbets længde"][1] == "10–16 uger, højst 6 måneder", "today's targets are the new ones"

    # The wrongly dated row deleted: the expander opened with Enter, its button, then "Ja, slet".
    tab_to(page, "keyboard_arrow_right\n\nSlet forkert daterede mål")
    page.keyboard.press("Enter")
    tab_to(page, f"Slet mål gyldig fra {TODAY}")
    page.keyboard.press("Enter")
    page.get_by_text(f"Slet målene gyldig fra {TODAY}? Det kan ikke fortrydes.").wait_for(timeout=20_000)
    wait_for_run(page)
    tab_to(page, "Ja, slet")
    page.keyboard.press("Space")
    saved(page, f"Målene gyldig fra {TODAY} er slettet.")
    in_force = by_first_cell(page, until=lambda t: t["Forløbets længde"][1] != "10–16 uger, højst 6 måneder")
    assert in_force["Forløbets længde"][1] != "10–16 uger, højst 6 måneder", "the deleted targets no longer apply"


# ---------------------------------------------------------------------------------------
# Medarbejdere: a new staff member, edited (made inactive with Space), and courses moved to a colleague


@pytest.mark.slow
def test_a_staff_member_added_edited_and_courses_moved_with_the_keyboard(page, server: Server) -> None:
    start(page, server, "demo-leder", "medarbejdere")

    def staff_table(until: Callable[[dict[str, list[str]]], bool] = lambda table: True) -> dict[str, list[str]]:
        return by_first_cell(page, until=until)

    # Ny medarbejder: name, initials, maximum typed over; Space on the button.
    open_tab(page, "Flyt forløb", "Ny medarbejder", 1)
    tab_to(page, "Navn")
    page.keyboard.type("Tove Tastesen")
    page.keyboard.press("Tab")
    assert focused(page) == "Initialer"
    page.keyboard.type("TT")
    page.keyboard.press("Tab")
    assert focused(page) == "Højst aktive forløb"
    replace(page, "12")
    tab_to(page, "Opret medarbejder")
    page.keyboard.press("Space")
    saved(page, "Tove Tastesen (TT) er oprettet som medarbejder.")
    assert staff_table(lambda t: "Tove Tastesen" in t)["Tove Tastesen"][1:5] == ["TT", "ja", "0", "12"]

    # Ret medarbejder: chosen by typing, "Aktiv" unticked with Space, the maximum typed over; Enter saves.
    open_tab(page, "Ny medarbejder", "Ret medarbejder", 1)
    tab_to(page, "Medarbejder")
    page.keyboard.type("Tove")
    press_and_rerun(page)
    expect(panel(page).get_by_label("Navn", exact=True)).to_have_value("Tove Tastesen")  # her form is drawn
    wait_for_run(page)
    tab_to(page, "Højst aktive forløb")
    replace(page, "14")
    tab_to(page, "Aktiv (en inaktiv medarbejder kan ikke vælges som kontaktperson)")
    page.keyboard.press("Space")
    tab_to(page, "Gem ændringer")
    page.keyboard.press("Enter")
    saved(page, "Tove Tastesen (TT) er gemt.")
    edited = staff_table(lambda t: t["Tove Tastesen"][2] == "nej")["Tove Tastesen"]
    assert edited[1:5] == ["TT", "nej", "0", "14"]

    # Flyt forløb: all of the first person's courses (all are chosen) to a colleague chosen with the arrows.
    before = staff_table()
    open_tab(page, "Ret medarbejder", "Flyt forløb", -2)
    giver = chosen(page, "Flyt forløb fra").split(" (")[0]
    tab_to(page, "Til kollega")
    page.keyboard.press("ArrowDown")
    receiver = highlighted(page).split(" (")[0]
    page.keyboard.press("Enter")
    tab_to(page, "Flyt forløb", back=False)
    assert page.evaluate("() => document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Enter")
    moved = int(before[giver][3])
    saved(page, f"{moved} forløb er flyttet fra {giver} til {receiver}")
    after = staff_table(lambda t: t[giver][3] != before[giver][3])
    assert (after[giver][3], after[receiver][3]) == ("0", str(int(before[receiver][3]) + moved))


# ---------------------------------------------------------------------------------------
# Brugere (administrator): a new user, a new password for them, and the user deactivated


def a_real_option(option: str) -> bool:
    """Not the multiselect's own "Vælg alle" / "Vælg de 2 fundne" (Streamlit's words, `ui.CHROME_TEXTS`)."""
    return option != "" and re.fullmatch(r"Vælg alle|Vælg de \d+ fundne", option) is None


def pick_past_select_all(page, typed: str) -> str:  # type: ignore[no-untyped-def]
    """In a focused multiselect: type, then ArrowDown past the list's "Vælg alle" to the first match; Enter."""
    page.keyboard.type(typed)
    option = ""
    for _ in range(5):
        page.keyboard.press("ArrowDown")
        option = highlighted(page)
        if a_real_option(option):
            break
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    return option


@pytest.mark.slow
def test_a_user_created_given_a_password_and_deactivated_with_the_keyboard(page, server: Server) -> None:
    start(page, server, "demo-admin", "brugere")
    (unit,), = query(server, "SELECT name FROM unit ORDER BY id LIMIT 1")

    # Ny bruger: login, the role typed into its select, a unit, a first password; Enter on the button.
    tab_to(page, "Brugernavn (fx e-mailadresse)")
    page.keyboard.type("Tast@Kommune.dk")
    tab_to(page, "Rolle")
    for _ in range(4):  # Leder is above the chosen Medarbejder
        page.keyboard.press("ArrowUp")
        if highlighted(page) == "Leder":
            break
    page.keyboard.press("Enter")
    assert chosen(page, "Rolle") == "Leder"
    tab_to(page, "Enheder")
    assert pick_past_select_all(page, unit) == unit
    tab_to(page, "Adgangskode (mindst 12 tegn; tom ved login med kommunens konto)")
    page.keyboard.type("en-lang-adgangskode-1")
    tab_to(page, "Opret bruger")
    page.keyboard.press("Enter")
    saved(page, "Brugeren tast@kommune.dk er oprettet.")
    users = by_first_cell(page, until=lambda t: "tast@kommune.dk" in t)
    assert users["tast@kommune.dk"][1:5] == ["Leder", unit, "", "ja"]

    # Ny adgangskode: the user typed into the select, the password; Enter in the field saves.
    open_tab(page, "Ny bruger", "Ny adgangskode", 2)
    tab_to(page, "Bruger")
    page.keyboard.type("tast@")
    press_and_rerun(page)
    tab_to(page, "Ny adgangskode (mindst 12 tegn)")
    page.keyboard.type("en-anden-adgangskode-2")
    page.keyboard.press("Enter")
    saved(page, "Ny adgangskode sat for tast@kommune.dk; brugerens logins er afsluttet.")

    # Ret bruger: the user chosen, "Aktiv" unticked with Space; Space on the button.
    open_tab(page, "Ny adgangskode", "Ret bruger", -1)
    tab_to(page, "Bruger")
    page.keyboard.type("tast@")
    press_and_rerun(page)
    expect(panel(page).get_by_role("checkbox")).to_be_checked()  # the user's form is drawn
    wait_for_run(page)
    tab_to(page, "Aktiv (en deaktiveret bruger logges ud og kan ikke logge ind)")
    page.keyboard.press("Space")
    tab_to(page, "Gem ændringer")
    page.keyboard.press("Space")
    saved(page, "Brugeren tast@kommune.dk er gemt.")
    users = by_first_cell(page, until=lambda t: t["tast@kommune.dk"][4] == "nej")
    assert users["tast@kommune.dk"][1:5] == ["Leder", unit, "", "nej"]


# ---------------------------------------------------------------------------------------
# Import og eksport: a workbook chosen with the keyboard (the file chooser is the system's dialog), checked,
# imported; the DST list made


@pytest.mark.slow
def test_a_workbook_chosen_checked_and_imported_with_the_keyboard(page, server: Server) -> None:
    start(page, server, "demo-leder", "udveksling")
    # The uploader's own words are in Danish (`ui.CHROME_TEXTS`), its button's accessible name too.
    expect(page.get_by_test_id("stFileUploaderDropzoneInstructions")).to_have_text("200 MB pr. fil • XLSX, CSV")
    tab_until(page, lambda name: name.split() == ["upload", "Vælg", "fil"], "the file uploader's button (icon, text)")
    for attempt in range(3):  # seen once: an Enter pressed the moment the button got the focus opened nothing
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press("Enter")
            break
        except PlaywrightTimeout:
            assert attempt < 2, "Enter on the uploader's button never opened the file chooser"
            assert focused(page).split() == ["upload", "Vælg", "fil"]
    chooser.value.set_files({"name": "enhed.xlsx", "buffer": xlsx(good_sheets()),
                             "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    page.get_by_role("button", name="Kontrollér filen").wait_for(timeout=20_000)
    wait_for_run(page)
    tab_to(page, "Kontrollér filen")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Det tilføjes").wait_for(timeout=30_000)
    wait_for_run(page)
    counts = by_first_cell(panel(page))
    assert [counts[sheet][1] for sheet in ("henvisninger", "forloeb", "ors")] == ["4", "2", "3"]
    tab_to(page, "Importér")
    page.keyboard.press("Space")
    saved(page, "Importeret: tilføjet: 4 henvisninger, 2 forloeb, 3 ors, 1 netvaerksmoeder")

    # Danmarks Statistik: the month's list made with Enter on its button.
    open_tab(page, "Import", "Danmarks Statistik", 2)
    tab_to(page, "Lav listen")
    page.keyboard.press("Enter")
    saved(page, re.compile(r"^\d+ forløb startet eller afsluttet i [a-zæøå]+ \d{4}$"))

    # The imported waiting referral is on the waiting list.
    page.goto(f"{server.url}/henvisninger")
    wait_for_run(page)
    offered(page, "Vælg en ventende henvisning", "B-3", "B-3")


# ---------------------------------------------------------------------------------------
# Mødeskærm (leader): the screen's settings, and a screen's password renewed


@pytest.mark.slow
def test_the_meeting_screen_settings_and_a_renewed_screen_login_with_the_keyboard(page, server: Server) -> None:
    start(page, server, "demo-leder", "moedeskaerm")
    tab_to(page, "Sekunder pr. dias")
    replace(page, "40")
    tab_to(page, "Mørkt tema")
    page.keyboard.press("Space")
    tab_to(page, "Gem indstillinger")
    page.keyboard.press("Enter")
    saved(page, "Indstillingerne er gemt. Skærmene bruger dem fra næste dias.")
    page.reload()
    wait_for_run(page)
    page.get_by_text("Skærmen skifter dias hvert 40. sekund").wait_for(timeout=10_000)
    assert page.get_by_role("switch", name="Mørkt tema").is_checked(), "the saved theme is shown after a reload"

    tab_to(page, "Skærm")
    tab_to(page, "Tilbagekald")
    page.keyboard.press("Enter")
    saved(page, re.compile(r"^demo-skaerm er tilbagekaldt: \d+ login afsluttet, kontoen er deaktiveret\.$"))
    assert query(server, "SELECT active FROM user WHERE login = 'demo-skaerm'") == [(0,)]
    tab_to(page, "Forny")  # the screen's login back, with a new password
    page.keyboard.press("Enter")
    saved(page, re.compile(r"^Ny adgangskode til demo-skaerm \(vises kun nu\)"))
    assert len(page.locator('[data-testid="stCode"]').inner_text().strip()) >= 12


# ---------------------------------------------------------------------------------------
# Henvisninger: a waiting referral rejected; found by search, corrected, put back on the waiting list, deleted


@pytest.mark.slow
def test_a_referral_decided_corrected_reopened_and_deleted_with_the_keyboard(page, server: Server) -> None:
    (ref, year), = query(server, (
        "SELECT citizen.ref, citizen.birth_year FROM referral JOIN citizen ON citizen.id = referral.citizen_id "
        "WHERE referral.status = 'waiting' AND (SELECT count(*) FROM referral other WHERE other.citizen_id = "
        "citizen.id) = 1 AND (SELECT count(*) FROM citizen c2 WHERE c2.ref LIKE '%' || citizen.ref || '%') = 1 "
        "ORDER BY referral.id DESC LIMIT 1"))
    start(page, server, "demo-medarbejder", "henvisninger")
    before = waiting_count(page)

    # Afvis: the referral typed into the choice; the radio option with the arrow keys, the reason; Enter saves.
    tab_to(page, "Vælg en ventende henvisning")
    page.keyboard.type(ref)
    press_and_rerun(page)
    open_tab(page, "Start forløb", "Afvis eller træk tilbage", 1)
    tab_to(page, "Afvist")  # a radio group with nothing chosen: Tab lands on its first option
    page.keyboard.press("Space")
    assert page.get_by_role("radio", name="Afvist").is_checked()
    tab_to(page, "Årsag")
    choose_with_arrows(page, "Borgeren takkede nej")
    tab_to(page, "Gem afgørelse")
    page.keyboard.press("Enter")
    saved(page, f"Henvisningen for borger {ref} er afvist {TODAY} (borgeren takkede nej).")
    assert waiting_count(page) == before - 1, "it has left the waiting list"

    # Found by its reference (Enter searches), the birth year corrected; Enter saves; the choice shows it.
    tab_to(page, "Borgerens reference (hele eller en del af den)")
    page.keyboard.type(ref)
    press_and_rerun(page)
    expect(page.get_by_role("button", name="Sæt på ventelisten igen")).to_be_visible()
    tab_to(page, "Fødselsår")
    replace(page, str(year - 1))
    page.keyboard.press("Enter")
    saved(page, re.compile(rf"^Rettelserne til borger {re.escape(ref)}s henvisning modtaget .* er gemt\.$"))
    # The form, filled again from the database after the save, shows the corrected year, and so does the
    # "Borger" choice above it (`entry.keep_choice`).
    expect(page.get_by_role("spinbutton", name="Fødselsår").last).to_have_value(str(year - 1))
    expect(page.get_by_role("combobox", name="Borger", exact=True)).to_have_value(re.compile(rf" · født {year - 1}"))

    # Sæt på ventelisten igen: Space on the button; it is waiting again.
    tab_to(page, "Sæt på ventelisten igen")
    page.keyboard.press("Space")
    saved(page, f"Henvisningen for borger {ref} står igen på ventelisten.")
    assert waiting_count(page) == before

    # Slet: the confirmation ticked with Space, Enter on the button; gone from the waiting list.
    tab_until(page, lambda name: name.startswith(f"Ja, henvisningen for borger {ref}"), "the confirmation box")
    page.keyboard.press("Space")
    tab_to(page, "Slet henvisningen")
    page.keyboard.press("Enter")
    saved(page, re.compile(rf"^Henvisningen for borger {re.escape(ref)} modtaget .* er slettet\.$"))
    assert waiting_count(page) == before - 1


@pytest.mark.slow
def test_two_references_merged_after_a_refusal_with_the_keyboard(page, server: Server) -> None:
    # Two citizens of the unit born the same year, each with one decided referral and no course, whose
    # references appear in no other reference (so the search finds exactly one).
    (keep, keep_id, merged, merged_id), = query(server, (
        "SELECT a.ref, a.id, b.ref, b.id FROM citizen a JOIN citizen b ON b.unit_id = a.unit_id "
        "AND b.birth_year = a.birth_year AND b.id > a.id "
        "WHERE " + " AND ".join(
            f"(SELECT count(*) FROM referral r WHERE r.citizen_id = {c}.id "
            "AND r.status IN ('rejected', 'withdrawn')) = 1 "
            f"AND (SELECT count(*) FROM referral r WHERE r.citizen_id = {c}.id) = 1 "
            f"AND (SELECT count(*) FROM course WHERE course.citizen_id = {c}.id) = 0 "
            f"AND (SELECT count(*) FROM citizen o WHERE o.ref LIKE '%' || {c}.ref || '%') = 1" for c in "ab")
        + " AND (SELECT received FROM referral WHERE citizen_id = a.id) <> "
          "(SELECT received FROM referral WHERE citizen_id = b.id) ORDER BY a.id LIMIT 1"))
    start(page, server, "demo-medarbejder", "henvisninger")
    tab_to(page, "Borgerens reference (hele eller en del af den)")
    page.keyboard.type(keep)
    press_and_rerun(page)
    merge_field = "Den anden reference (dens henvisninger og forløb flyttes til"
    tab_until(page, lambda name: name.startswith(merge_field), "the merge form's reference")

    page.keyboard.type("FINDES-IKKE-1")  # no such citizen: refused, and what was typed stays
    press_and_rerun(page)
    expect(page.get_by_text("Ingen borger i enheden har præcis referencen 'FINDES-IKKE-1'.")).to_be_visible()
    expect(page.get_by_role("textbox", name=re.compile(re.escape(merge_field)))).to_have_value("FINDES-IKKE-1")

    tab_until(page, lambda name: name.startswith(merge_field), "the merge form's reference")
    replace(page, merged)
    page.keyboard.press("Enter")
    saved(page, f"Borger {merged} er lagt sammen med borger {keep}.")
    assert query(server, f"SELECT count(*) FROM citizen WHERE id = {merged_id}") == [(0,)]
    assert query(server, f"SELECT count(*) FROM referral WHERE citizen_id = {keep_id}") == [(2,)]


# ---------------------------------------------------------------------------------------
# ORS: an SRS score, an ORS score corrected, the SRS deleted, the staff member's PIN


@pytest.mark.slow
def test_an_srs_a_corrected_ors_a_deleted_srs_and_a_pin_with_the_keyboard(page, server: Server) -> None:
    (ref,), = query(server, (
        "SELECT citizen.ref FROM course JOIN citizen ON citizen.id = course.citizen_id "
        f"WHERE course.\"end\" IS NULL AND course.start <= '{clock.today().isoformat()}' "
        "AND course.form = 'individual' AND EXISTS (SELECT 1 FROM orsscore WHERE orsscore.course_id = course.id) "
        "AND NOT EXISTS (SELECT 1 FROM srsscore WHERE srsscore.course_id = course.id) "
        "AND (SELECT count(*) FROM citizen c2 WHERE c2.ref LIKE '%' || citizen.ref || '%') = 1 "
        "ORDER BY course.id DESC LIMIT 1"))
    start(page, server, "demo-medarbejder", "ors")
    tab_to(page, "Borger")
    page.keyboard.type(ref)
    page.keyboard.press("Enter")
    page.get_by_text("Gem ORS (Enter)").wait_for(timeout=20_000)
    wait_for_run(page)
    srs_heading = page.locator("p").filter(has=page.locator("strong", has_text=re.compile(r"^SRS$")))
    assert srs_heading.count() == 0, "the course has no SRS yet"

    # SRS: the expander opened with Enter, four items typed with Tab between them, Enter saves.
    tab_until(page, lambda name: name.endswith("SRS for sessionen (valgfri)"), "the SRS expander")
    page.keyboard.press("Enter")
    tab_to(page, "Relation")
    for value, item in (("8", "Relation"), ("9", "Mål og emner"), ("7,5", "Tilgang"), ("8,5", "Generelt")):
        assert focused(page) == item
        page.keyboard.type(value)
        if item != "Generelt":
            page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    saved(page, re.compile(rf"^Gemt: SRS 33,0 for {re.escape(ref)} \(session \d+, "))
    expect(srs_heading).to_have_count(1)  # the course's SRS table is there
    srs = by_first_cell(page, index=1, until=lambda t: any(numbers(row[6:7]) == [33] for row in t.values()))
    assert [numbers(row[2:7]) for row in srs.values()] == [[8, 9, 7.5, 8.5, 33]]

    # An ORS corrected: chosen by typing its label; its first item typed over; Enter on "Gem rettelse".
    first = by_first_cell(page)["1"]
    tab_to(page, "Ret eller slet en måling")
    page.keyboard.type("ORS · session 1 ·")
    press_and_rerun(page)
    tab_to(page, "Individuelt")
    replace(page, "9,9")
    tab_to(page, "Gem rettelse")
    page.keyboard.press("Enter")
    saved(page, re.compile(rf"^Rettet: ORS [\d,]+ for {re.escape(ref)} \(session 1, "))
    corrected = by_first_cell(page, until=lambda t: numbers(t["1"][2:3]) == [9.9])["1"]
    assert corrected[1] == first[1] and numbers(corrected[2:6]) == [9.9, *numbers(first[3:6])], "only that item"

    # The SRS deleted: chosen, "Ja, slet denne måling" ticked with Space, Enter on "Slet måling".
    tab_to(page, "Ret eller slet en måling")
    page.keyboard.type("total 33,0")
    press_and_rerun(page)
    tab_to(page, "Ja, slet denne måling")
    page.keyboard.press("Space")
    tab_to(page, "Slet måling")
    page.keyboard.press("Enter")
    saved(page, re.compile(rf"^Slettet: SRS · session \d+ · .* · total 33,0 for {re.escape(ref)}\.$"))
    expect(srs_heading).to_have_count(0)  # no SRS table again

    # Min PIN: the expander opened with Enter, the PIN twice; Enter saves.
    tab_until(page, lambda name: name.endswith("Min PIN til selvregistrering"), "the PIN expander")
    page.keyboard.press("Enter")
    tab_to(page, "Ny PIN")
    page.keyboard.type("4826")
    tab_to(page, "Gentag PIN")
    page.keyboard.type("4826")
    page.keyboard.press("Enter")
    saved(page, "Din PIN er sat.")
    expect(page.get_by_role("button", name="Åbn selvregistrering")).to_be_enabled()

# ---------------------------------------------------------------------------------------
# Revisionslog (leader): a search, a citizen's extract, old entries purged; the export and the note's buttons


@pytest.mark.slow
def test_the_audit_log_searched_extracted_and_purged_and_the_exports_with_the_keyboard(page, server: Server) -> None:
    (ref,), = query(server, "SELECT citizen_ref FROM auditevent WHERE citizen_ref LIKE 'SAG-%' LIMIT 1")
    start(page, server, "demo-leder", "revisionslog")

    # The search: a user typed, Enter; every row shown is that user's.
    tab_to(page, "Bruger")
    page.keyboard.type("demo-leder")
    page.keyboard.press("Enter")
    users = by_first_cell(page, until=lambda t: {row[1] for row in t.values()} == {"demo-leder"})  # by time
    assert len(users) >= 1 and {row[1] for row in users.values()} == {"demo-leder"}

    # The citizen's extract: the reference typed after the unit, Enter.
    tab_to(page, "Enhed")
    page.keyboard.press("Tab")
    assert focused(page) == "Borgerreference"
    page.keyboard.type(ref)
    page.keyboard.press("Enter")
    made = saved(page, re.compile(rf"^Udtræk for borger {re.escape(ref)}: \d+ poster, ældste først\.$"))
    assert int(made.split(": ")[1].split()[0]) >= 1
    assert len(table_rows(page, 1)) > 1, "the extract's table has the entries"

    # The purge: Enter on the button; the count it said was due is deleted.
    due = page.get_by_text(re.compile(r"^Loggen gemmes i ")).inner_text()
    count = re.search(r"(\d[\d.]*) poster er fra før", due).group(1)  # type: ignore[union-attr]
    tab_to(page, "Slet poster ud over opbevaringstiden")
    page.keyboard.press("Enter")
    saved(page, f"{count} poster er slettet.")
    page.get_by_text(re.compile(r" 0 poster er fra før ")).wait_for(timeout=10_000)

    # Import og eksport, Eksport: Enter on "Lav udtræk" offers the file.
    page.goto(f"{server.url}/udveksling")
    wait_for_run(page)
    open_tab(page, "Import", "Eksport", 1)
    tab_to(page, "Lav udtræk")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Hent udtrækket (.xlsx)").wait_for(timeout=20_000)
    wait_for_run(page)
    tab_to(page, "Hent udtrækket (.xlsx)")  # and it is reached with Tab

    # Udvalgsnotat: the period, the unit and the button are reached with Tab (making the note is tested elsewhere).
    page.goto(f"{server.url}/udvalgsnotat")
    wait_for_run(page)
    tab_to(page, "Periode")
    tab_to(page, "Enhed")
    tab_to(page, "Lav udvalgsnotat")
    assert page.get_by_role("button", name="Lav udvalgsnotat").is_enabled()


# ---------------------------------------------------------------------------------------
# Selvregistrering: the tablet opened from ORS, the citizen's four sliders moved with the keys, saved, left by PIN


def course_on_ors_with_a_pin(page, server: Server, *, offset: int, pin: str) -> str:  # type: ignore[no-untyped-def]
    """demo-medarbejder on ORS with a running individual course found with the keyboard (the `offset`-th,
    so tests do not share one) and the self-report PIN set to `pin`; the citizen's reference."""
    (ref,), = query(server, (
        "SELECT citizen.ref FROM course JOIN citizen ON citizen.id = course.citizen_id "
        f"WHERE course.\"end\" IS NULL AND course.start <= '{clock.today().isoformat()}' "
        "AND course.form = 'individual' AND (SELECT count(*) FROM citizen c2 WHERE c2.ref LIKE '%' || citizen.ref "
        f"|| '%') = 1 ORDER BY course.id LIMIT 1 OFFSET {offset}"))
    start(page, server, "demo-medarbejder", "ors")
    tab_to(page, "Borger")
    page.keyboard.type(ref)
    page.keyboard.press("Enter")
    page.get_by_text("Gem ORS (Enter)").wait_for(timeout=20_000)
    wait_for_run(page)
    tab_until(page, lambda name: name.endswith("Min PIN til selvregistrering"), "the PIN expander")
    page.keyboard.press("Enter")
    for label in ("Ny PIN", "Gentag PIN"):
        tab_to(page, label)
        page.keyboard.type(pin)
    page.keyboard.press("Enter")
    saved(page, "Din PIN er sat.")
    return ref


@pytest.mark.slow
def test_a_self_report_marked_with_the_arrow_keys_and_left_with_the_pin(page, server: Server) -> None:
    course_on_ors_with_a_pin(page, server, offset=2, pin="5937")
    tab_to(page, "Åbn selvregistrering", back=True)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Hvordan har du haft det?").wait_for(timeout=20_000)
    wait_for_run(page)

    # The four sliders: End, Home, five steps right, five steps left (each step a tenth of a point).
    moves = ((["End"], "10,0"), (["Home"], "0,0"), (["ArrowRight"] * 5, "5,5"), (["ArrowLeft"] * 5, "4,5"))
    for number, (item, (keys, shown)) in enumerate(zip(codes.ORS_ITEMS.values(), moves, strict=True)):
        tab_to(page, item)
        for key in keys:
            page.keyboard.press(key)
        expect(page.get_by_test_id("stSliderThumbValue").nth(number)).to_have_text(shown)
        wait_for_run(page)
    tab_to(page, "Gem")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Dine svar er gemt.").wait_for(timeout=20_000)
    wait_for_run(page)

    # The staff member leaves with the PIN; back on ORS, the score is there.
    tab_until(page, lambda name: name.endswith("Til medarbejderen: afslut selvregistrering"), "the leave expander")
    page.keyboard.press("Enter")
    tab_to(page, "Din PIN")
    page.keyboard.type("5937")
    page.keyboard.press("Enter")
    saved(page, "Selvregistreringen er afsluttet, og borgerens ORS er gemt.")
    offered(page, "Ret eller slet en måling", "total 20,0", f"{TODAY} · total 20,0")


@pytest.mark.slow
def test_a_code_for_another_tablet_and_an_ors_with_sliders_with_the_keyboard(
    page, browser, server: Server
) -> None:
    ref = course_on_ors_with_a_pin(page, server, offset=3, pin="4826")
    tab_to(page, "Åbn på en anden tablet", back=True)
    page.keyboard.press("Enter")
    saved(page, "Selvregistrering på en anden tablet.")
    code = page.locator('p[style*="monospace"]').first.inner_text().strip()
    assert len(code) == 9 and code[4] == "-", code

    # The tablet: nobody signed in; the code typed into the login page's form, Enter opens the self-report.
    tablet = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        tablet.goto(server.url)
        wait_for_run(tablet)
        tab_to(tablet, "Kode fra medarbejderen")
        tablet.keyboard.type(code)
        tablet.keyboard.press("Enter")
        tablet.get_by_role("heading", name="Hvordan har du haft det?").wait_for(timeout=30_000)
        assert ref not in tablet.locator("body").inner_text()
    finally:
        tablet.context.close()

    # Back on the PC: ORS with sliders instead of numbers (Space on the toggle), each moved by keys, Enter saves.
    tab_to(page, "Brug skydere")
    page.keyboard.press("Space")
    wait_for_run(page)
    for item, keys in zip(codes.ORS_ITEMS.values(), (["End"], ["Home"], ["ArrowRight"] * 5, ["ArrowLeft"] * 5),
                          strict=True):
        tab_to(page, item)
        for key in keys:
            page.keyboard.press(key)
        wait_for_run(page)
    tab_to(page, "Gem ORS")
    page.keyboard.press("Enter")
    saved(page, f"Gemt: ORS 20,0 for {ref}")  # 10,0 + 0,0 + 5,5 + 4,5


# ---------------------------------------------------------------------------------------
# Indstillinger and Sletning (administrator): a shorter retention typed in, then the citizens it makes due
# deleted with Space on the confirmation and Enter on the button. Last in the module: it deletes citizens.


@pytest.mark.slow
def test_settings_changed_and_due_citizens_deleted_with_the_keyboard(page, server: Server) -> None:
    start(page, server, "demo-admin", "indstillinger")
    tab_to(page, "Borgerdata slettes efter (år)")
    replace(page, "1")
    tab_to(page, "Gem")
    page.keyboard.press("Enter")
    saved(page, "Indstillingerne er gemt.")
    page.reload()
    wait_for_run(page)
    assert page.get_by_role("spinbutton", name="Borgerdata slettes efter (år)").input_value() == "1", "it is saved"

    page.goto(f"{server.url}/sletning")
    wait_for_run(page)
    page.get_by_text("Opbevaringstid: 1 år").wait_for(timeout=10_000)
    heading = page.get_by_role("heading", name=re.compile(r"borgere skal slettes$")).inner_text()
    due = int(heading.split()[0].replace(".", ""))
    assert due > 0
    tab_until(page, lambda name: name.startswith("Jeg har gennemgået listen"), "the confirmation box")
    page.keyboard.press("Space")
    button = page.get_by_role("button", name=f"Slet {fmt.integer(due)} borgere permanent")
    expect(button).to_be_enabled()
    tab_to(page, f"Slet {fmt.integer(due)} borgere permanent")
    page.keyboard.press("Enter")
    saved(page, f"{fmt.integer(due)} borgere er slettet permanent.")
    page.get_by_text("Ingen borgere skal slettes i dag.").wait_for(timeout=10_000)
