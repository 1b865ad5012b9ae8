"""Entry forms in a real browser: a good save empties the form on screen, a refused one keeps what was typed.

AppTest cannot see this: a widget whose key is only forgotten on the server goes on showing (and
sending) the old text in the browser. `fokus.entry` sets the fields' starting values instead.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from fokus import clock
from tests.e2e.conftest import DemoDatabase, log_in, run_after, wait_for_run
from tests.e2e.helpers import field, open_page, select


def shown_choice(page, label: str):  # type: ignore[no-untyped-def]
    """A selectbox's input as the browser shows it (its value is "" when nothing is chosen)."""
    return page.get_by_role("combobox", name=label, exact=True).filter(visible=True).first


def type_referral(page, ref: str, birth_year: str) -> None:  # type: ignore[no-untyped-def]
    field(page, "Borgerens reference").fill(ref)
    field(page, "Fødselsår").fill(birth_year)
    select(page, "Henviser", "Jobcenter")
    select(page, "Målgruppe", "Psykisk")
    page.get_by_role("button", name="Gem henvisning").click()


def test_a_saved_referral_empties_the_form_and_a_refused_one_keeps_what_was_typed(
    page, app_url: str, demo_database: DemoDatabase
) -> None:
    page.set_viewport_size({"width": 1366, "height": 1600})
    log_in(page, app_url, "demo-medarbejder", demo_database.password)
    open_page(page, app_url, "henvisninger")

    # Streamlit's own hint under a field being typed in is in Danish (`ui.CHROME_TEXTS`), its count kept.
    field(page, "Borgerens reference").fill("SAG")
    expect(page.get_by_test_id("InputInstructions").filter(visible=True).first).to_have_text(
        "Tryk Enter for at sende3/40")

    # A date field's parts and its calendar have Danish names for a screen reader, also after a month is turned.
    received = page.get_by_test_id("stDateInput").filter(has_text="Modtaget").first
    expect(received.get_by_role("spinbutton", name="dag, Modtaget")).to_be_visible()
    received.get_by_role("button").first.click()
    calendar = page.get_by_test_id("stDateInputCalendar")
    calendar.get_by_role("button", name="Forrige måned").click()
    month = (clock.today().replace(day=1) - timedelta(days=1)).month
    expect(calendar.get_by_role("grid").first).to_have_attribute(
        "aria-label", re.compile(rf"^Vælg dato, \S+ {clock.today().year - (month == 12)}$"))
    expect(calendar.get_by_role("button", name="Næste måned")).to_be_visible()
    page.keyboard.press("Escape")
    expect(calendar).to_be_hidden()

    # A choice list's own words too: nothing matches what is typed.
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Henviser", visible=True).first.click()
    page.keyboard.type("zzzz")
    expect(page.get_by_test_id("stSelectboxVirtualDropdown")).to_have_text("Ingen resultater")
    page.keyboard.press("Escape")

    type_referral(page, "SAG-E2E-1", "1984")
    page.get_by_text("Henvisningen for borger SAG-E2E-1").wait_for(timeout=20_000)
    wait_for_run(page)
    expect(field(page, "Borgerens reference")).to_have_value("")
    expect(field(page, "Fødselsår")).to_have_value("")
    expect(shown_choice(page, "Henviser")).to_have_value("")
    expect(shown_choice(page, "Målgruppe")).to_have_value("")

    # Born 1900: 120 years old at the referral, and no age note — refused, and nothing typed is lost.
    type_referral(page, "SAG-E2E-2", "1900")
    page.get_by_text("uden for 18–65 år").wait_for(timeout=20_000)
    wait_for_run(page)
    expect(field(page, "Borgerens reference")).to_have_value("SAG-E2E-2")
    expect(field(page, "Fødselsår")).to_have_value("1900")
    expect(shown_choice(page, "Henviser")).to_have_value("Jobcenter")
    expect(shown_choice(page, "Målgruppe")).to_have_value("Psykisk")

    # The corrected birth year goes through, and the form is empty again: not re-sent with the old text.
    field(page, "Fødselsår").fill("1990")
    page.get_by_role("button", name="Gem henvisning").click()
    page.get_by_text("Henvisningen for borger SAG-E2E-2").wait_for(timeout=20_000)
    wait_for_run(page)
    expect(field(page, "Borgerens reference")).to_have_value("")
    expect(field(page, "Fødselsår")).to_have_value("")
    expect(shown_choice(page, "Henviser")).to_have_value("")
    page.get_by_role("button", name="Gem henvisning").click()  # an empty form is refused, not saved again
    page.get_by_text("Henvisningen for borger SAG-E2E-2").wait_for(state="detached", timeout=20_000)
    wait_for_run(page)
    assert page.locator('[data-testid="stAlertContentError"]').count() >= 1

    # Found again below and its birth year corrected: the chosen citizen's label says the new year at once.
    # (A selectbox keeps its choice by the label it showed: without `entry.keep_choice` the browser went on
    # showing "født 1990" until the next search.)
    field(page, "Borgerens reference (hele eller en del af den)").fill("SAG-E2E-2")
    run_after(page, page.get_by_role("button", name="Søg").click)
    expect(shown_choice(page, "Borger")).to_have_value("SAG-E2E-2 · født 1990")
    # The correction form is drawn after the choice, later in the same run: until it is there, the only
    # "Fødselsår" on the page is the new-referral form's (CI once typed 1991 there and saved no change).
    corrections = page.locator('[data-testid="stForm"]').filter(
        has=page.get_by_role("button", name="Gem rettelser"), visible=True)
    expect(corrections.get_by_label("Fødselsår", exact=True)).to_have_value("1990")
    corrections.get_by_label("Fødselsår", exact=True).fill("1991")
    corrections.get_by_role("button", name="Gem rettelser").click()
    page.get_by_text("Rettelserne til borger SAG-E2E-2").wait_for(timeout=20_000)
    wait_for_run(page)
    expect(corrections.get_by_label("Fødselsår", exact=True)).to_have_value("1991")  # saved, filled from the database
    expect(shown_choice(page, "Borger")).to_have_value("SAG-E2E-2 · født 1991")
    expect(field(page, "Fødselsår")).to_have_value("")  # the new-referral form above was not touched
