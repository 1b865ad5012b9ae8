"""In chromium: a session left alone for the idle time is signed out by itself."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import DemoDatabase, log_in, screenshot_dir, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def one_minute_server(demo_database: DemoDatabase, tmp_path: Path) -> Iterator[str]:
    # A copy of the demo database whose idle timeout is the shortest allowed: one minute.
    source = Path(demo_database.url.removeprefix("sqlite:///"))
    copy = tmp_path / "fokus.db"
    engine = sa.create_engine(demo_database.url)
    with engine.connect() as connection:
        connection.exec_driver_sql(f"VACUUM INTO '{copy}'")
    engine.dispose()
    assert source.exists()
    url = f"sqlite:///{copy}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO setting (key, value, version) VALUES ('idle_timeout_minutes', '1', 1)")
    engine.dispose()
    process, app_url = start_server(url, tmp_path / "streamlit.log")
    yield app_url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def test_an_idle_session_is_signed_out_after_the_idle_time(page, one_minute_server: str,
                                                          demo_database: DemoDatabase) -> None:
    log_in(page, one_minute_server, "demo-leder", demo_database.password)
    started = time.monotonic()
    page.get_by_text("Du er logget ud, fordi du ikke har brugt fokus").wait_for(timeout=120_000)
    waited = time.monotonic() - started
    assert 55 <= waited <= 100, waited
    page.get_by_label("Brugernavn").wait_for(timeout=20_000)  # the form follows the message
    page.screenshot(path=str(screenshot_dir() / "logged-out-idle.png"))
    page.reload()
    page.get_by_label("Brugernavn").wait_for(timeout=20_000)
