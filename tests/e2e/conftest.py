"""A real fokus server on a free port, with demo data, and Debian's chromium to drive it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import IN_CI, _free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (`-m e2e`): `./test.sh` runs them on their own, on two
    workers (`--dist loadgroup`): the tests that mostly wait (xdist_group "idle") on one, all the others
    one after another on the other, for they time real pages and must not share the CPU with each other."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group("busy"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    }


def start_server(database_url: str, log_path: Path, *extra_args: str,
                 port: int | None = None) -> tuple[subprocess.Popen, str]:
    port = port or _free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", *extra_args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"streamlit did not start; log: {log_path.read_text()}")


@dataclass(frozen=True)
class DemoDatabase:
    url: str
    password: str  # the demo logins' password (see `python -m fokus demo`)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> DemoDatabase:
    path = tmp_path_factory.mktemp("e2e") / "fokus.db"
    url = f"sqlite:///{path}"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "fokus", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    note = (path.parent / "demo-login.txt").read_text(encoding="utf-8")
    password = next(line.split(":", 1)[1].strip() for line in note.splitlines() if "adgangskode" in line)
    return DemoDatabase(url, password)


EMPTY_ADMIN, EMPTY_PASSWORD = "admin@tom.dk", "tom-database-kode-4711"


def empty_with_admin(folder: Path) -> str:
    """An initialised, empty SQLite database in `folder` whose only user is one administrator
    (EMPTY_ADMIN, EMPTY_PASSWORD), made through the command line: its URL."""
    url = f"sqlite:///{folder / 'fokus.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "fokus", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "fokus", "user", "add", EMPTY_ADMIN, "--role", "admin", "--password-stdin"],
                   cwd=ROOT, env=env, check=True, capture_output=True, input=f"{EMPTY_PASSWORD}\n", text=True)
    return url


def copy_of(database_url: str, folder: Path) -> str:
    """A private copy of a SQLite database (a test that writes leaves the shared one alone)."""
    copy = folder / "fokus.db"
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        connection.exec_driver_sql(f"VACUUM INTO '{copy}'")
    engine.dispose()
    return f"sqlite:///{copy}"


@contextmanager
def serving(database_url: str, log_path: Path) -> Iterator[str]:
    """A server on `database_url` for the block: its address; stopped afterwards."""
    process, url = start_server(database_url, log_path)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def app_url(demo_database: DemoDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(demo_database.url, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


def wait_for_run(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]',
        timeout=30_000,
    )
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=30_000)


def run_after(page, act: Callable[[], None]) -> None:  # type: ignore[no-untyped-def]
    """Do `act` (a click, a key) that makes the app run again, and wait for that run to finish.

    `wait_for_run` alone can return before the run has begun: the browser says "notRunning" until the
    server answers, and a field looked up then may be one the run is about to draw again, or another
    field of the same name while the run has not drawn this one yet."""
    # Seen as the run state turning "running", or, for a run so short that the browser drew its start and its
    # end at once, as the number a signed-in page's run writes (`signin._idle_timer`) going up.
    page.evaluate("""() => { window.fokusRan = false; window.fokusRunBefore = window.fokusRun || 0;
        const app = document.querySelector('[data-testid="stApp"]');
        new MutationObserver((_, observer) => {
            if (app.getAttribute('data-test-script-state') === 'running') {
                window.fokusRan = true; observer.disconnect(); } }).observe(app, {attributes: true}); }""")
    act()
    try:
        page.wait_for_function("() => window.fokusRan === true || (window.fokusRun || 0) > window.fokusRunBefore",
                               timeout=20_000)
    except PlaywrightTimeout:
        seen = page.evaluate("""() => [window.fokusRunBefore, window.fokusRun || 0, document.querySelector(
            '[data-testid="stApp"]').getAttribute('data-test-script-state'), document.activeElement.outerHTML]""")
        raise AssertionError(f"no run followed the action in 20 s (run number before and now, state, focus): "
                             f"{seen}") from None
    wait_for_run(page)


def log_in(page, app_url: str, login: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Open the app and sign in through the login form, with the keyboard."""
    page.goto(app_url)
    wait_for_run(page)
    page.get_by_label("Brugernavn").fill(login)
    page.get_by_label("Adgangskode").fill(password)
    page.keyboard.press("Enter")
    page.get_by_text("Logget ind som").wait_for(timeout=30_000)
    wait_for_run(page)
    # The session cookie arrives by a request the page makes after the login; a test that goes
    # straight to another URL must not overtake it (a person clicking in the menu does not).
    deadline = time.monotonic() + 15
    while not any(c["name"] == "fokus_session" for c in page.context.cookies()):
        assert time.monotonic() < deadline, "the session cookie was never set"
        page.wait_for_timeout(100)


def screenshot_dir() -> Path:
    path = ROOT / "test-results" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


__all__ = ["DemoDatabase", "log_in", "wait_for_run", "screenshot_dir", "start_server", "shutil"]
