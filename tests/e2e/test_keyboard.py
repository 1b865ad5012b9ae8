"""Entry forms with the keyboard alone, in chromium: Tab and Shift+Tab to move, typing, arrow keys and Enter in
selects, Enter or Space to save. No click and no `fill`: each field is reached by Tab from where the focus is.

On a copy of the demo database (the saves must not change what other browser tests see): the login, a new
referral (it shows in the confirmation and on the waiting list), its course started from the waiting list
(the confirmation; it leaves the list) and an ORS score for a running course (it
shows in the confirmation and in the course's list of scores).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fokus import clock, fmt
from tests.e2e.conftest import DemoDatabase, copy_of, serving, wait_for_run

pytestmark = pytest.mark.e2e

# The accessible name of the focused element: its aria-label, its <label>, or its text (a button).
FOCUSED = """() => { const e = document.activeElement; if (!e || e === document.body) return '';
    return (e.getAttribute('aria-label') || (e.labels && e.labels.length ? e.labels[0].innerText : '')
            || e.innerText || '').trim(); }"""


@pytest.fixture
def keyboard_app(demo_database: DemoDatabase, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server on a copy of the demo database, and a citizen with a running course of demo-medarbejder's unit."""
    copy = copy_of(demo_database.url, tmp_path)
    engine = sa.create_engine(copy)
    with engine.connect() as connection:
        ref = connection.exec_driver_sql(
            "SELECT citizen.ref FROM course JOIN citizen ON citizen.id = course.citizen_id "
            f"WHERE course.\"end\" IS NULL AND course.start <= '{clock.today().isoformat()}' "
            "ORDER BY course.id LIMIT 1").scalar_one()
    engine.dispose()
    with serving(copy, tmp_path / "streamlit.log") as app_url:
        yield app_url, ref


def focused(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate(FOCUSED)


def tab_to(page, name: str, *, back: bool = False, limit: int = 120) -> None:  # type: ignore[no-untyped-def]
    """Press Tab (Shift+Tab) until the element named `name` has the focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        if now == name:
            return
        seen.append(now)
    raise AssertionError(f"Tab never reached {name!r}; it went through {seen}")


def choose_with_arrows(page, option: str, limit: int = 20) -> None:  # type: ignore[no-untyped-def]
    """In a focused select: ArrowDown opens the list and moves down it until `option` is highlighted; Enter."""
    for _ in range(limit):
        page.keyboard.press("ArrowDown")
        active = page.evaluate("""() => { const box = document.activeElement;
            const id = box && box.getAttribute('aria-activedescendant');
            const option = id && document.getElementById(id); return option ? option.innerText.trim() : ''; }""")
        if active == option:
            page.keyboard.press("Enter")
            return
    raise AssertionError(f"the arrow keys never reached {option!r}")


def log_in_with_keyboard(page, app_url: str, login: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url)
    wait_for_run(page)
    tab_to(page, "Brugernavn")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    assert focused(page) == "Adgangskode"
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.get_by_text("Logget ind som").wait_for(timeout=30_000)
    wait_for_run(page)
    deadline = time.monotonic() + 15  # the session cookie arrives by a request after the login (see log_in)
    while not any(c["name"] == "fokus_session" for c in page.context.cookies()):
        assert time.monotonic() < deadline, "the session cookie was never set"
        page.wait_for_timeout(100)


def waiting_count(page) -> int:  # type: ignore[no-untyped-def]
    heading = page.get_by_role("heading", name=re.compile(r"^Venteliste \(")).first.inner_text()
    return int(re.search(r"\(([\d.]+)\)", heading).group(1).replace(".", ""))  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_referral_its_course_and_an_ors_score_entered_with_the_keyboard_alone(
        page, keyboard_app: tuple[str, str], demo_database: DemoDatabase) -> None:
    app_url, course_ref = keyboard_app
    page.set_viewport_size({"width": 1366, "height": 1000})
    log_in_with_keyboard(page, app_url, "demo-medarbejder", demo_database.password)

    # A referral: reference, birth year, (the date stays today), Henviser by typing, Målgruppe by arrows, Enter.
    page.goto(f"{app_url}/henvisninger")
    wait_for_run(page)
    before = waiting_count(page)
    tab_to(page, "Borgerens reference")
    page.keyboard.type("TAST-1")
    page.keyboard.press("Tab")
    assert focused(page) == "Fødselsår"
    page.keyboard.type("1988")
    tab_to(page, "Henviser")
    page.keyboard.type("Jobc")
    page.keyboard.press("Enter")
    tab_to(page, "Målgruppe")  # past the select's own "Clear value" button
    choose_with_arrows(page, "Socialt")
    tab_to(page, "Gem henvisning")
    tab_to(page, "Målgruppe", back=True)  # Shift+Tab back over the age note: the choices are still there
    tab_to(page, "Gem henvisning")
    page.keyboard.press("Enter")
    page.get_by_text("Henvisningen for borger TAST-1").wait_for(timeout=20_000)
    wait_for_run(page)
    assert waiting_count(page) == before + 1
    # The waiting list has it: the choice under the list offers it (typed into with the keyboard).
    tab_to(page, "Vælg en ventende henvisning")
    page.keyboard.type("TAST-1")
    option = page.get_by_role("option").filter(has_text="TAST-1").first
    option.wait_for(timeout=10_000)
    assert f"TAST-1 · modtaget {fmt.day(clock.today())}" in option.inner_text()

    # Its course started from there: Enter chooses it; the form by the arrow keys in the radio group, the
    # contact person by the arrow keys, Space on the button.
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Start forløb").wait_for(timeout=20_000)
    wait_for_run(page)
    tab_to(page, "Gruppe")  # the radio group: Tab lands on its checked option
    page.keyboard.press("ArrowDown")
    assert focused(page) == "Individuelt"
    assert page.get_by_role("radio", name="Individuelt").is_checked()
    tab_to(page, "Kontaktperson")
    page.keyboard.press("ArrowDown")  # opens the list on its first option
    page.keyboard.press("Enter")
    tab_to(page, "Start forløb")
    page.keyboard.press("Space")
    started = page.get_by_text(re.compile(r"Forløb F\S+ er startet .* for borger TAST-1 \(individuelt\)"))
    started.wait_for(timeout=20_000)
    wait_for_run(page)
    assert waiting_count(page) == before, "the started referral has left the waiting list"

    # An ORS score: the citizen searched with Enter, four items typed with Tab between them, Enter saves.
    page.goto(f"{app_url}/ors")
    wait_for_run(page)
    tab_to(page, "Borger")
    page.keyboard.type(course_ref)
    page.keyboard.press("Enter")
    page.get_by_text("Gem ORS (Enter)").wait_for(timeout=20_000)
    wait_for_run(page)
    tab_to(page, "Individuelt")
    for value, label in (("6,2", "Individuelt"), ("7,5", "Nære relationer"), ("4,8", "Socialt"),
                         ("5,5", "Generelt")):
        assert focused(page) == label
        page.keyboard.type(value)
        if label != "Generelt":
            page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text(f"Gemt: ORS 24,0 for {course_ref}").wait_for(timeout=20_000)
    wait_for_run(page)
    tab_to(page, "Ret eller slet en måling")
    page.keyboard.type("total 24,0")
    newest = page.get_by_role("option").filter(has_text=f"{fmt.day(clock.today())} · total 24,0").first
    newest.wait_for(timeout=10_000)
    page.keyboard.press("Escape")
