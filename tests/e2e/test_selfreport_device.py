"""In chromium, two browsers: the staff member's PC opens the self-report for one course and gets a
single-use code; a tablet nobody is signed in to opens the link, shows the four lines and nothing
about anyone, saves, says "Tak" (also after a reload), refuses a wrong PIN, and with the right one
goes to the login page; the link used again is refused; the PC's ORS page follows the tablet without a
reload (waiting, open, saved) and has the new score."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from fokus import clock, fmt
from tests.e2e.conftest import DemoDatabase, copy_of, log_in, screenshot_dir, serving, wait_for_run
from tests.e2e.helpers import field, open_page

pytestmark = pytest.mark.e2e

SCREENSHOT = Path("/tmp/selfreport_device.png")
PIN = "2580"
# Each line marked with the keyboard from the middle (5,0): steps of 0,1 to the right (+) or left (-).
STEPS = {"Individuelt": 12, "Nære relationer": 25, "Socialt": -2, "Generelt": 5}  # 6,2 + 7,5 + 4,8 + 5,5 = 24,0


@pytest.fixture
def tablet_app(demo_database: DemoDatabase, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A server on a copy of the demo database; a running course's citizen and its staff member's name."""
    copy = copy_of(demo_database.url, tmp_path)
    engine = sa.create_engine(copy)
    with engine.connect() as connection:
        ref, staff = connection.exec_driver_sql(
            "SELECT citizen.ref, staff.name FROM course JOIN citizen ON citizen.id = course.citizen_id "
            "JOIN staff ON staff.id = course.contact_person_id "
            f"WHERE course.\"end\" IS NULL AND course.start <= '{clock.today().isoformat()}' "
            "ORDER BY course.id LIMIT 1").one()
    engine.dispose()
    with serving(copy, tmp_path / "streamlit.log") as app_url:
        yield app_url, ref, staff


def find_citizen(page, ref: str) -> None:  # type: ignore[no-untyped-def]
    search = page.get_by_label("Borger", exact=True)
    search.fill(ref)
    search.press("Enter")
    wait_for_run(page)
    page.get_by_text("Gem ORS (Enter)").wait_for(timeout=20_000)


def mark_line(page, label: str, steps: int) -> None:  # type: ignore[no-untyped-def]
    thumb = page.get_by_role("slider", name=label)
    thumb.focus()
    for _ in range(abs(steps)):
        thumb.press("ArrowRight" if steps > 0 else "ArrowLeft")
    expected = fmt.tenths(50 + steps)
    deadline = time.monotonic() + 20
    while thumb.get_attribute("aria-valuetext") != expected and thumb.get_attribute("aria-valuenow") != str(
            50 + steps):
        assert time.monotonic() < deadline, (label, thumb.get_attribute("aria-valuetext"))
        page.wait_for_timeout(100)
    wait_for_run(page)


def leave_with(page, pin: str) -> None:  # type: ignore[no-untyped-def]
    expander = page.get_by_text("Til medarbejderen: afslut selvregistrering")
    if not page.get_by_label("Din PIN").is_visible():
        expander.click()
    page.get_by_label("Din PIN").fill(pin)
    page.get_by_role("button", name="Afslut").click()


def test_a_tablet_opened_by_a_code_shows_the_self_report_alone_and_the_pin_sends_it_to_the_login_page(
    browser, tablet_app: tuple[str, str, str], demo_database: DemoDatabase
) -> None:
    app_url, ref, staff_name = tablet_app
    pc = browser.new_context(viewport={"width": 1366, "height": 1600}).new_page()
    log_in(pc, app_url, "demo-medarbejder", demo_database.password)
    open_page(pc, app_url, "ors")
    pc.get_by_text("Min PIN til selvregistrering").click()
    field(pc, "Ny PIN").fill(PIN)
    field(pc, "Gentag PIN").fill(PIN)
    pc.get_by_role("button", name="Sæt PIN").click()
    pc.get_by_text("Din PIN er sat.").wait_for(timeout=20_000)
    wait_for_run(pc)
    find_citizen(pc, ref)
    pc.get_by_role("button", name="Åbn på en anden tablet").click()
    pc.get_by_text("Selvregistrering på en anden tablet.").wait_for(timeout=20_000)
    wait_for_run(pc)
    code_text = pc.locator('p[style*="monospace"]').first.inner_text().strip()
    link = pc.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert len(code_text) == 9 and code_text[4] == "-"
    assert link == f"{app_url}/?selvregistrering={code_text}"
    expect(pc.get_by_text("Koden gælder én gang, til")).to_be_visible()
    expect(pc.get_by_text("Venter på tabletten …")).to_be_visible()
    pc.screenshot(path=str(screenshot_dir() / "selfreport-code-pc.png"))

    tablet = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    tablet.goto(link)
    wait_for_run(tablet)
    tablet.get_by_text("Hvordan har du haft det?").wait_for(timeout=30_000)
    wait_for_run(tablet)
    assert "selvregistrering=" not in tablet.url, "the code leaves the address bar at once"
    shown = tablet.locator("body").inner_text()
    for private in (ref, staff_name, "demo-medarbejder", "Logget ind som", "Log ud"):
        assert private not in shown, f"{private} is visible on the tablet"
    tablet.screenshot(path=str(SCREENSHOT))
    pc.get_by_text("Tabletten er åbnet: borgeren udfylder ORS nu.").wait_for(timeout=20_000)  # no reload on the PC

    for label, steps in STEPS.items():
        mark_line(tablet, label, steps)
    tablet.get_by_role("button", name="Gem").click()
    tablet.get_by_text("Tak!").wait_for(timeout=20_000)
    wait_for_run(tablet)
    tablet.screenshot(path=str(SCREENSHOT.with_name("selfreport_device_tak.png")))
    pc.get_by_text("Gemt fra tabletten: borgerens ORS for").wait_for(timeout=20_000)
    assert pc.locator('p[style*="monospace"]').count() == 0, "the used code is gone from the PC"
    pc.screenshot(path=str(screenshot_dir() / "selfreport-code-pc-saved.png"))
    deadline = time.monotonic() + 15
    while not any(c["name"] == "fokus_session" for c in tablet.context.cookies()):
        assert time.monotonic() < deadline, "the tablet's session cookie was never set"
        tablet.wait_for_timeout(100)

    tablet.reload()
    wait_for_run(tablet)
    tablet.get_by_text("Tak!").wait_for(timeout=30_000)
    assert tablet.get_by_text("Hvordan har du haft det?").count() == 0
    assert ref not in tablet.locator("body").inner_text()

    leave_with(tablet, "9999")
    tablet.get_by_text("Forkert PIN.").wait_for(timeout=20_000)
    wait_for_run(tablet)
    expect(tablet.get_by_text("Tak!")).to_be_visible()
    leave_with(tablet, PIN)
    tablet.get_by_label("Brugernavn").wait_for(timeout=30_000)
    tablet.get_by_text("Selvregistreringen er afsluttet.").wait_for(timeout=20_000)
    wait_for_run(tablet)
    assert tablet.get_by_text("Logget ind som").count() == 0
    tablet.screenshot(path=str(screenshot_dir() / "selfreport-device-left.png"))

    tablet.goto(link)
    wait_for_run(tablet)
    tablet.get_by_text("Koden er allerede brugt").wait_for(timeout=30_000)
    assert tablet.get_by_text("Hvordan har du haft det?").count() == 0
    tablet.reload()
    wait_for_run(tablet)
    tablet.get_by_label("Brugernavn").wait_for(timeout=30_000)

    open_page(pc, app_url, "ors")
    find_citizen(pc, ref)
    pc.locator('[data-testid="stSelectbox"]').filter(has_text="Ret eller slet en måling").first.click()
    newest = f"{fmt.day(clock.today())} · total 24,0"
    pc.keyboard.type("total 24,0")  # a long list is drawn in part: filter first
    pc.get_by_role("option").filter(has_text=newest).first.wait_for(timeout=20_000)
    pc.context.close()
    tablet.context.close()
