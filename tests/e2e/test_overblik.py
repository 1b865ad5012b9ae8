"""Overblik in chromium on the demo data: every chart drawn at laptop and meeting-room size,
and a "Kræver handling" link opens the course it names."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DemoDatabase, log_in, screenshot_dir, wait_for_run

pytestmark = pytest.mark.e2e

CHARTS = 11  # capacity 2, group share and duration 2, ORS 3, referrals 2, next steps and groups 2


def drawn_charts(page) -> int:  # type: ignore[no-untyped-def]
    """Charts whose plot area holds at least one drawn trace (a bar, line or marker)."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].filter(plot =>
        plot.querySelectorAll('.plot .trace, .barlayer .point, .scatterlayer .trace').length > 0).length""")


# Every chart as drawn: its title and subtitle inside it (plotly cuts a long line, it never wraps one), and
# its legend under the tick labels and the axis title, not over them.
LAID_OUT = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot => {
    const box = plot.querySelector('.main-svg').getBoundingClientRect();
    const title = plot.querySelector('.gtitle')?.textContent ?? '';
    const problems = [];
    for (const text of plot.querySelectorAll('.gtitle, .gtitle-subtitle')) {
        if (text.getBoundingClientRect().right > box.right + 1) problems.push(`cut: ${text.textContent}`);
    }
    const legend = plot.querySelector('.legend');
    const under = [...plot.querySelectorAll('.xtick text, .g-xtitle text')].map(t => t.getBoundingClientRect().bottom);
    if (legend && under.length && legend.getBoundingClientRect().top < Math.max(...under) - 1) {
        problems.push('the legend covers the x-axis labels');
    }
    return problems.map(problem => `${title}: ${problem}`);
})"""


@pytest.mark.parametrize("width,height", [(1366, 900), (1920, 1080)])
def test_every_chart_of_overblik_is_drawn_on_the_demo_data(
    page, app_url: str, demo_database: DemoDatabase, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, app_url, "demo-leder", demo_database.password)
    started = time.monotonic()
    page.goto(app_url)
    wait_for_run(page)
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTS}",
                           timeout=30_000)
    seconds = time.monotonic() - started
    print(f"Overblik {width}x{height}: every chart drawn after {seconds:.2f} s")
    assert "Uventet fejl" not in page.inner_text("body")
    for name in ("Tilgang, 12 måneder", "Startet i gruppe", "ORS-fremgang, start → slut", "Kræver handling i dag"):
        # Waited for: in one CI run a tile's label was between two paints when the charts were done.
        expect(page.get_by_text(name).filter(visible=True).first).to_be_visible(timeout=10_000)
    page.screenshot(path=str(screenshot_dir() / f"overblik-top-{width}x{height}.png"))
    # The tiles of a row are as tall as its tallest, whatever the length of their captions.
    rows = page.evaluate("""() => [...document.querySelectorAll('[data-testid=stHorizontalBlock]')]
        .map(row => [...row.querySelectorAll('[data-testid=stMetric]')].map(metric =>
            Math.round(metric.closest('[data-testid=stVerticalBlock]').getBoundingClientRect().height)))
        .filter(heights => heights.length === 4)""")
    assert len(rows) == 3 and all(len(set(heights)) == 1 for heights in rows), rows
    # The whole page: Streamlit scrolls inside its main block, so the window grows to show it all.
    full = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(full + 40, 12_000)})
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTS}")
    page.wait_for_timeout(1500)  # plotly redraws at the new size
    assert drawn_charts(page) == CHARTS
    assert page.evaluate(LAID_OUT) == []
    page.screenshot(path=str(screenshot_dir() / f"overblik-{width}x{height}.png"), full_page=True)


def test_a_needs_action_link_opens_that_course_on_forloeb(page, app_url: str, demo_database: DemoDatabase) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, app_url, "demo-leder", demo_database.password)
    page.goto(app_url)
    wait_for_run(page)
    box = page.locator('[data-testid="stExpander"]').filter(has_text="Kræver handling i dag")
    link = box.locator('[data-testid="stPageLink"] a').first
    label = link.inner_text().strip().splitlines()[-1]  # after the icon's name
    assert label.startswith("F") and " · borger " in label, label
    link.click()
    wait_for_run(page)
    citizen_ref = label.split(" · borger ")[1]
    page.get_by_text(f"Registrér eller ret ORS og SRS for borger {citizen_ref}").wait_for(timeout=20_000)
    assert "forloeb=" not in page.url  # the link chose once; the address no longer holds it
