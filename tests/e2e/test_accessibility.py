"""WCAG 2.1 AA in chromium: axe-core on every page and every meeting-screen slide, on the demo data and on
an empty database (one administrator, nothing else). No violation of impact "serious" or "critical" may
remain; what axe finds of lower impact is written with the rest to <tmp>/fokus-accessibility/<run>.json
(not test-results/: pytest-playwright empties that when any browser test starts).

Each page is scanned when it is fully drawn (the script has run, every plotly chart has its SVG), with its
expanders opened and then on each of its tabs, so the tables behind the charts and the forms folded away
are scanned too. The self-report page, which only a tablet opened by a code shows, is scanned on a copy of
the demo database.
Overblik's charts must each have a text alternative: an accessible name (their alt text) and the table
behind them in an expander.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import col, select

from fokus import access, auth, clock, codes, db, screen, selfreport
from fokus.models import Course, User
from tests.e2e.conftest import (
    EMPTY_ADMIN,
    EMPTY_PASSWORD,
    DemoDatabase,
    copy_of,
    empty_with_admin,
    log_in,
    serving,
    start_server,
    wait_for_run,
)
from tests.e2e.test_meeting_screen import open_screen

pytestmark = pytest.mark.e2e

AXE = Axe()
BLOCKING = ("serious", "critical")
ADMIN_PAGES = [page for page in access.PAGES if "admin" in page.roles]

# Violations inside Streamlit's own widgets that the app cannot change: (axe rule, CSS selector of the
# failing element, why). Only a node that matches its rule's selector is left out; anything else fails.
EXCLUDED: list[tuple[str, str, str]] = [
    # st.navigation(sections) draws the menu as <ul> > <div> (section header and its items) > <li>: the <div>
    # between them breaks the list semantics. Streamlit's own markup; the app only passes the pages.
    ("list", '[data-testid="stSidebarNavItems"]', "Streamlit's sidebar menu: <div> inside <ul>"),
    ("listitem", '[data-testid="stSidebarNavItems"]', "Streamlit's sidebar menu: <li> inside a <div>"),
]


@dataclass(frozen=True)
class Server:
    url: str
    login: str
    password: str
    name: str  # "demo" or "tom"


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on an initialised, empty database whose only row of note is one administrator."""
    folder = tmp_path_factory.mktemp("tom")
    process, app_url = start_server(empty_with_admin(folder), folder / "streamlit.log")
    yield Server(app_url, EMPTY_ADMIN, EMPTY_PASSWORD, "tom")
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def demo_app(app_url: str, demo_database: DemoDatabase) -> Server:
    return Server(app_url, "demo-admin", demo_database.password, "demo")


def wait_drawn(page) -> None:  # type: ignore[no-untyped-def]
    """The script has run and every chart is drawn (plotly has made its SVG)."""
    wait_for_run(page)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                 .every(chart => chart.querySelector('.js-plotly-plot .main-svg'))""", timeout=30_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)


def open_expanders(page) -> None:  # type: ignore[no-untyped-def]
    """Open every closed expander, so what is folded away is scanned too."""
    closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(closed.count()):
        closed.first.click()
    wait_drawn(page)


def excluded(page, rule: str, target: list) -> bool:  # type: ignore[no-untyped-def,type-arg]
    selectors = [selector for excluded_rule, selector, _ in EXCLUDED if excluded_rule == rule]
    if not selectors or len(target) != 1:
        return False
    return bool(page.evaluate("([target, selectors]) => { const node = document.querySelector(target);"
                              " return !!node && selectors.some(s => node.closest(s)); }", [target[0], selectors]))


def scan(page, where: str, found: list[dict]) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Run axe on what the page shows now; add each violating node to `found`."""
    results = AXE.run(page).response
    for violation in results["violations"]:
        for node in violation["nodes"]:
            found.append({"page": where, "rule": violation["id"], "impact": violation["impact"] or node["impact"],
                          "target": node["target"], "html": node.get("html", "")[:300],
                          "summary": node.get("failureSummary", ""),
                          "excluded": excluded(page, violation["id"], node["target"])})


REPORTS = Path(os.environ.get("FOKUS_A11Y_REPORTS") or Path(tempfile.gettempdir()) / "fokus-accessibility")


def report(found: list[dict], scanned: list[str], name: str) -> str:  # type: ignore[type-arg]
    """Every violation (any impact) to REPORTS/`name`.json; the blocking ones as lines."""
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / f"{name}.json").write_text(
        json.dumps({"scanned": scanned, "violations": found}, ensure_ascii=False, indent=1), encoding="utf-8")
    blocking = [v for v in found if v["impact"] in BLOCKING and not v["excluded"]]
    return "\n".join(f"{v['page']}: {v['rule']} ({v['impact']}) at {v['target']}: {v['summary'][:300]}"
                     for v in blocking)


def scan_pages(page, server: Server) -> tuple[list[dict], list[str]]:  # type: ignore[no-untyped-def,type-arg]
    found: list[dict] = []  # type: ignore[type-arg]
    scanned: list[str] = []
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(server.url)
    wait_drawn(page)
    scan(page, "login", found)
    scanned.append("login")
    log_in(page, server.url, server.login, server.password)
    for number, spec in enumerate(ADMIN_PAGES):
        page.goto(f"{server.url}/{spec.key if number else ''}")  # the first page is the default, at the root
        wait_drawn(page)
        assert page.get_by_role("dialog").count() == 0, f"{spec.key}: {page.get_by_role('dialog').inner_text()}"
        assert page.get_by_role("heading").count() > 0, spec.key
        open_expanders(page)
        scan(page, spec.key, found)
        scanned.append(spec.key)
        tabs = page.get_by_role("tab")
        for index in range(1, tabs.count()):  # what the other tabs show (the first is scanned above)
            name = tabs.nth(index).inner_text().strip()
            tabs.nth(index).click()
            wait_drawn(page)
            open_expanders(page)
            scan(page, f"{spec.key} [{name}]", found)
            scanned.append(f"{spec.key} [{name}]")
    # The slides as the leaders' and administrators' preview shows them; on the demo data the screen itself
    # shows each (test_every_slide_on_the_meeting_screen_itself): the same slide, not scanned twice.
    for key in screen.SLIDES if server.name == "tom" else ():
        for theme in ("lys", "moerk"):
            page.goto(f"{server.url}/moedeskaerm?dias={key}&tema={theme}")
            wait_drawn(page)
            scan(page, f"moedeskaerm?dias={key}&tema={theme}", found)
            scanned.append(f"dias {key} ({theme})")
    return found, scanned


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo_app", "empty_app"])
def test_no_serious_or_critical_violation_on_any_page_or_slide(page, request, which: str) -> None:
    server: Server = request.getfixturevalue(which)
    found, scanned = scan_pages(page, server)
    problems = report(found, scanned, server.name)
    assert not problems, f"axe-core ({len(scanned)} pages scanned, {server.name}):\n{problems}"


@pytest.mark.slow
def test_every_slide_on_the_meeting_screen_itself(page, demo_app: Server, demo_database: DemoDatabase) -> None:
    """As the screen role sees them: full screen, no menu, light and dark."""
    open_screen(page, demo_app.url, "demo-skaerm", demo_database.password)
    found: list[dict] = []  # type: ignore[type-arg]
    scanned: list[str] = []
    for key in screen.SLIDES:
        for theme in ("lys", "moerk"):
            page.goto(f"{demo_app.url}/?dias={key}&tema={theme}")
            page.locator(".fokus-target").wait_for(timeout=30_000)
            wait_drawn(page)
            scan(page, f"skærm ?dias={key}&tema={theme}", found)
            scanned.append(f"skærm {key} ({theme})")
    problems = report(found, scanned, "skaerm")
    assert not problems, f"axe-core ({len(scanned)} slides scanned):\n{problems}"


CHART_ALTERNATIVES = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(chart => {
    let next = chart.closest('[data-testid="stElementContainer"]').nextElementSibling;
    const expander = next && next.querySelector('[data-testid="stExpander"]');
    return {role: chart.getAttribute('role'), name: chart.getAttribute('aria-label') || '',
            title: (chart.querySelector('.gtitle') || {}).textContent || '',
            table: expander ? expander.querySelector('summary').innerText : ''};
})"""


@pytest.mark.slow
def test_every_chart_on_overblik_has_a_name_a_title_and_its_table(page, demo_app: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 1000})
    log_in(page, demo_app.url, demo_app.login, demo_app.password)
    page.goto(demo_app.url)
    wait_drawn(page)
    charts = page.evaluate(CHART_ALTERNATIVES)
    assert len(charts) >= 11, charts
    for chart in charts:
        assert chart["role"] == "figure" and len(chart["name"]) >= 20, f"no text alternative: {chart}"
        assert chart["title"].strip(), f"no title: {chart}"
        assert "Tabellen bag grafen" in chart["table"], f"no table right after the chart: {chart}"
    open_expanders(page)
    # Tables out of sight are drawn only when scrolled to: a window tall enough to show the whole page.
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": min(height + 40, 16_000)})
    tables = page.locator('[data-testid="stExpander"]').filter(has_text="Tabellen bag grafen").locator(
        '[data-testid="stDataFrame"]')
    assert tables.count() == len(charts), "every chart's expander holds its table"
    grids = tables.locator('[role="grid"], table')
    grids.nth(len(charts) - 1).wait_for(state="attached", timeout=10_000)
    assert grids.count() == len(charts), "every table can be read by a screen reader (a grid or table)"
    for index in range(grids.count()):
        rows = grids.nth(index).locator('[role="row"], tr').count()
        assert rows >= 2, f"the table behind chart {index + 1} ({charts[index]['title']}) has no rows"


@pytest.fixture
def tablet_code(demo_database: DemoDatabase, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server on a copy of the demo database, and a self-report code demo-medarbejder opened for a running
    course (the page no role has in its menu: a tablet shows it alone)."""
    copy = copy_of(demo_database.url, tmp_path)
    engine = db.engine_for(copy)
    with db.write_session(engine) as session:
        user = session.exec(select(User).where(User.login == "demo-medarbejder")).one()
        staff = auth.actor_for(session, user)
        course_id = session.exec(select(Course.id).where(col(Course.end).is_(None), Course.start <= clock.today(),
                                                         col(Course.unit_id).in_(staff.unit_ids or ()))
                                 .order_by(Course.id)).first()
        selfreport.set_pin(session, staff, pin="2580", repeated="2580")
        _, code = selfreport.open_code(session, staff, course_id=course_id)
    engine.dispose()
    with serving(copy, tmp_path / "streamlit.log") as app_url:
        yield app_url, code


@pytest.mark.slow
def test_the_self_report_on_a_tablet(page, tablet_code: tuple[str, str]) -> None:
    app_url, code = tablet_code
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(selfreport.tablet_link(app_url, code))
    page.get_by_text("Hvordan har du haft det?").wait_for(timeout=30_000)
    wait_drawn(page)
    open_expanders(page)
    found: list[dict] = []  # type: ignore[type-arg]
    scan(page, "selvregistrering", found)
    for label in codes.ORS_ITEMS.values():  # every line is marked before "Gem" saves
        thumb = page.get_by_role("slider", name=label)
        before = thumb.get_attribute("aria-valuetext")
        thumb.focus()
        thumb.press("ArrowRight")
        page.wait_for_function("([t, v]) => t.getAttribute('aria-valuetext') !== v",
                               arg=[thumb.element_handle(), before])
        wait_for_run(page)
    page.get_by_role("button", name="Gem").click()
    page.get_by_text("Tak!").wait_for(timeout=20_000)
    wait_drawn(page)
    scan(page, "selvregistrering, gemt", found)
    problems = report(found, ["selvregistrering", "selvregistrering, gemt"], "tablet")
    assert not problems, f"axe-core (the self-report on a tablet):\n{problems}"
