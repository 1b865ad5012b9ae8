"""In chromium: sign in, see the charts, stay signed in across a reload, see only the role's
pages — and the browser never asks anything of a host but the app's own."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from fokus import access
from fokus.actor import Actor
from tests.e2e.conftest import DemoDatabase, log_in, screenshot_dir, wait_for_run
from tests.e2e.helpers import open_page

pytestmark = pytest.mark.e2e


def menu_of(role: str) -> list[str]:
    """The menu a role should see: the pages fokus.access gives it, in order."""
    return [spec.title for spec in access.pages_for(Actor("x", role, frozenset()))]


def _menu(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [text.strip() for text in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


@pytest.mark.parametrize("width,height", [(1366, 900), (1920, 1080)])
def test_a_leader_signs_in_sees_the_drawn_overview_and_stays_signed_in_after_reload(
    page, app_url: str, demo_database: DemoDatabase, width: int, height: int
) -> None:
    requested_hosts: set[str] = set()
    page.on("request", lambda request: requested_hosts.add(urlparse(request.url).netloc))
    page.set_viewport_size({"width": width, "height": height})
    page.goto(app_url)
    wait_for_run(page)
    page.screenshot(path=str(screenshot_dir() / f"login-{width}x{height}.png"))
    assert page.locator(".js-plotly-plot").count() == 0, "figures shown before login"

    log_in(page, app_url, "demo-leder", demo_database.password)
    page.locator(".js-plotly-plot .plot-container").first.wait_for(timeout=20_000)
    expect(page.get_by_text("Forløbsstarter pr. måned").first).to_be_visible()
    assert _menu(page) == menu_of("leader")
    page.screenshot(path=str(screenshot_dir() / f"overblik-{width}x{height}.png"))

    cookie = next(c for c in page.context.cookies() if c["name"] == "fokus_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    page.reload()
    wait_for_run(page)
    page.get_by_text("Logget ind som").wait_for(timeout=20_000)
    page.locator(".js-plotly-plot .plot-container").first.wait_for(timeout=20_000)

    assert requested_hosts == {urlparse(app_url).netloc}, f"requests left the app: {requested_hosts}"

    # Forløb's list of active courses fits beside the menu: no column is hidden behind a sideways scroll.
    open_page(page, app_url, "forloeb")
    scroller = page.locator('[data-testid="stDataFrame"] .dvn-scroller').first
    scroller.wait_for(timeout=20_000)
    assert scroller.evaluate("e => e.scrollWidth - e.clientWidth") <= 1, "the active courses scroll sideways"

    # An address that is no page: Streamlit's own dialog says so in Danish (`ui.CHROME_TEXTS`).
    open_page(page, app_url, "findes-ikke")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Siden findes ikke")
    expect(dialog).to_contain_text("Du ser i stedet den første side.")
    expect(dialog.get_by_role("button", name="Luk", exact=True)).to_be_visible()


@pytest.mark.parametrize(("login", "role"), [("demo-medarbejder", "staff"), ("demo-admin", "admin")])
def test_each_role_sees_only_its_own_pages(page, app_url: str, demo_database: DemoDatabase, login: str,
                                           role: str) -> None:
    log_in(page, app_url, login, demo_database.password)
    assert _menu(page) == menu_of(role)
    assert "Brugere" in menu_of("admin") and "Brugere" not in menu_of("staff")


def test_a_wrong_password_is_refused_in_danish_and_the_login_is_kept(page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_run(page)
    page.get_by_label("Brugernavn").fill("demo-leder")
    page.get_by_label("Adgangskode").fill("forkert-adgangskode")
    page.keyboard.press("Enter")
    page.get_by_text("Forkert brugernavn eller adgangskode").wait_for(timeout=20_000)
    assert page.get_by_label("Brugernavn").input_value() == "demo-leder"


def test_logging_out_ends_the_session_also_for_a_reload(page, app_url: str, demo_database: DemoDatabase) -> None:
    log_in(page, app_url, "demo-medarbejder", demo_database.password)
    page.get_by_role("button", name="Log ud").click()
    page.get_by_text("Du er logget ud").wait_for(timeout=20_000)
    page.reload()
    wait_for_run(page)
    page.get_by_label("Brugernavn").wait_for(timeout=20_000)
    assert page.get_by_text("Logget ind som").count() == 0
