"""In chromium: the app opens on demo data, shows its navigation and draws its charts, and the
browser never asks anything of a host but the app's own."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import screenshot_dir, wait_for_run

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width,height", [(1366, 900), (1920, 1080)])
def test_overblik_shows_navigation_and_a_drawn_chart(page, app_url: str, width: int, height: int) -> None:
    requested_hosts: set[str] = set()
    page.on("request", lambda request: requested_hosts.add(urlparse(request.url).netloc))
    page.set_viewport_size({"width": width, "height": height})
    page.goto(app_url)
    wait_for_run(page)

    navigation = page.locator('[data-testid="stSidebarNav"]')
    assert navigation.get_by_text("Overblik").is_visible()
    page.locator(".js-plotly-plot .plot-container").first.wait_for(timeout=20_000)
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.get_by_text("Forløbsstarter pr. måned").first.is_visible()
    page.screenshot(path=str(screenshot_dir() / f"overblik-{width}x{height}.png"))

    assert requested_hosts == {urlparse(app_url).netloc}, f"requests left the app: {requested_hosts}"
