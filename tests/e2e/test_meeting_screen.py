"""The meeting screen in chromium at 1920×1080, signed in as `demo-skaerm` on the demo data.

The slide time is set to 3 seconds for these tests (each slide change reads the figures again).
Screenshots of every slide go to test-results/screenshots/moedeskaerm-<n>.png (and one dark one).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from fokus import auth, db, screen, screen_access, services, settings
from fokus.actor import SYSTEM
from fokus.clock import today
from fokus.models import Citizen, Staff, Unit
from tests.e2e.conftest import DemoDatabase, screenshot_dir, wait_for_run

SLIDE_SECONDS = 3
SMALL_UNIT = "Lille testenhed"
SMALL_SCREEN, SMALL_PASSWORD = "skaerm-lille@faxe.dk", "lille-skaerm-kode-93"


@pytest.fixture(scope="module")
def demo(demo_database: DemoDatabase) -> DemoDatabase:
    with db.write_session(db.engine_for(demo_database.url)) as session:
        settings.put(session, SYSTEM, "screen_slide_seconds", SLIDE_SECONDS)
    return demo_database


def _engine(demo: DemoDatabase):  # type: ignore[no-untyped-def]
    return db.engine_for(demo.url)


def open_screen(page, app_url: str, login: str, password: str, query: str = "") -> None:  # type: ignore[no-untyped-def]
    """Sign the screen in, then open `query` (e.g. "?dias=ors": the screen's one page is at the root)."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(app_url)
    wait_for_run(page)
    page.get_by_label("Brugernavn").fill(login)
    page.get_by_label("Adgangskode").fill(password)
    page.keyboard.press("Enter")
    page.locator(".fokus-target").wait_for(timeout=30_000)
    deadline = time.monotonic() + 15  # the cookie arrives by a request after the login (see log_in)
    while not any(c["name"] == "fokus_session" for c in page.context.cookies()):
        assert time.monotonic() < deadline, "the session cookie was never set"
        page.wait_for_timeout(100)
    if query:
        page.goto(f"{app_url}/{query}")
        page.locator(".fokus-target").wait_for(timeout=30_000)
        wait_for_run(page)


def test_every_slide_shown_large_and_without_a_citizen_reference_or_staff_name(
        page, app_url: str, demo: DemoDatabase) -> None:
    with db.read_session(_engine(demo)) as session:
        refs = set(session.exec(select(Citizen.ref)).all())
        names = set(session.exec(select(Staff.name)).all())
    open_screen(page, app_url, "demo-skaerm", demo.password)
    assert page.locator('[data-testid="stSidebar"]').count() == 0 or not page.locator(
        '[data-testid="stSidebar"]').is_visible()
    assert not page.locator('[data-testid="stHeader"]').is_visible()
    folder = screenshot_dir()
    for number, key in enumerate(screen.SLIDES, start=1):
        page.goto(f"{app_url}/?dias={key}")
        page.locator(".fokus-target").wait_for(timeout=30_000)
        wait_for_run(page)
        title = page.locator("h1").first.inner_text()
        assert title == screen.SLIDES[key]
        if key != "network":  # the network slide has no chart
            page.locator(".js-plotly-plot").wait_for(timeout=30_000)
        page.screenshot(path=str(folder / f"moedeskaerm-{number}.png"))
        text = page.locator("body").inner_text()
        assert not [ref for ref in refs if ref in text], key
        assert not [name for name in names if name in text or name.split()[0] in text], key
        size = page.locator(".fokus-big .v").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 96, "the big figure is readable across a room"
    page.goto(f"{app_url}/?dias=ors&tema=moerk")
    page.locator(".js-plotly-plot").wait_for(timeout=30_000)
    wait_for_run(page)
    page.screenshot(path=str(folder / "moedeskaerm-moerk.png"))
    page.set_viewport_size({"width": 1280, "height": 720})  # still whole on a smaller screen
    page.goto(f"{app_url}/?dias=load")
    page.locator(".js-plotly-plot").wait_for(timeout=30_000)
    wait_for_run(page)
    page.screenshot(path=str(folder / "moedeskaerm-1280.png"))
    for part in (".fokus-target", ".fokus-dots", ".js-plotly-plot"):
        box = page.locator(part).first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 720, part


def _intake_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator(".fokus-big .v").first.inner_text()


def test_a_save_elsewhere_shows_on_the_screen_within_the_refresh(page, app_url: str, demo: DemoDatabase) -> None:
    open_screen(page, app_url, "demo-skaerm", demo.password, "?dias=intake")
    before = _intake_text(page)
    assert re.fullmatch(r"[\d.]+", before), before
    with db.write_session(_engine(demo)) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.name != SMALL_UNIT)).first()
        referral = services.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref="SKAERM-TEST-1",
                                              birth_year=1985, received=today(), referrer="socialcenter",
                                              target_group="psychic")
        services.start_course(session, SYSTEM, referral_id=referral.id, start=today(), form="group")
    expected = f"{int(before.replace('.', '')) + 1:,}".replace(",", ".")
    page.locator(".fokus-big .v").first.filter(has_text=re.compile(f"^{re.escape(expected)}$")).wait_for(
        timeout=(SLIDE_SECONDS * 2 + 10) * 1000)


def test_a_small_unit_shows_under_five_and_hides_its_shares_and_a_revoked_screen_is_signed_out(
        page, app_url: str, demo: DemoDatabase) -> None:
    day = today()
    with db.write_session(_engine(demo)) as session:
        unit = services.create_unit(session, SYSTEM, name=SMALL_UNIT, municipality="Testkommune").id
        for number, form in enumerate(("group", "group", "individual")):
            referral = services.register_referral(
                session, SYSTEM, unit_id=unit, citizen_ref=f"LILLE-{number}", birth_year=1980,
                received=day - timedelta(days=60 - number), referrer="jobcenter", target_group="social")
            services.start_course(session, SYSTEM, referral_id=referral.id, start=day - timedelta(days=50 - number),
                                  form=form)
        user = auth.create_user(session, SYSTEM, login=SMALL_SCREEN, role="screen", password=SMALL_PASSWORD,
                                unit_ids=[unit])
        user_id = user.id
    open_screen(page, app_url, SMALL_SCREEN, SMALL_PASSWORD, "?dias=intake")
    assert page.locator(".fokus-big .v").all_inner_texts() == ["<5"]
    page.goto(f"{app_url}/?dias=group_share")
    page.locator(".fokus-target").wait_for(timeout=30_000)
    assert page.locator(".fokus-big .v").all_inner_texts() == ["for få", "<5"]
    page.screenshot(path=str(screenshot_dir() / "moedeskaerm-lille-enhed.png"))
    text = page.locator("body").inner_text()
    assert "LILLE-" not in text
    with db.write_session(_engine(demo)) as session:
        screen_access.revoke(session, SYSTEM, user_id=user_id)
    page.get_by_label("Brugernavn").wait_for(timeout=(SLIDE_SECONDS * 2 + 15) * 1000)
