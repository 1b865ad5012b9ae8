"""In chromium: a session left alone for the idle time is signed out by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import EMPTY_ADMIN, EMPTY_PASSWORD, empty_with_admin, log_in, screenshot_dir, serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def one_minute_server(tmp_path: Path) -> Iterator[str]:
    """A server on an empty database with one administrator, whose idle timeout is the shortest allowed: one
    minute. Not the demo database: this test waits on a worker of its own (test.sh), which need not write it."""
    url = empty_with_admin(tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO setting (key, value, version) VALUES ('idle_timeout_minutes', '1', 1)")
    engine.dispose()
    with serving(url, tmp_path / "streamlit.log") as app_url:
        yield app_url


@pytest.mark.xdist_group("idle")  # mostly waiting: test.sh runs it beside the other browser tests
def test_an_idle_session_is_signed_out_after_the_idle_time(page, one_minute_server: str) -> None:
    log_in(page, one_minute_server, EMPTY_ADMIN, EMPTY_PASSWORD)
    started = time.monotonic()
    page.get_by_text("Du er logget ud, fordi du ikke har brugt fokus").wait_for(timeout=120_000)
    waited = time.monotonic() - started
    assert 55 <= waited <= 100, waited
    page.get_by_label("Brugernavn").wait_for(timeout=20_000)  # the form follows the message
    page.screenshot(path=str(screenshot_dir() / "logged-out-idle.png"))
    page.reload()
    page.get_by_label("Brugernavn").wait_for(timeout=20_000)
