"""In chromium: two people edit the same course at once. One save wins; the other gets the
"changed by someone else" message and keeps what they typed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DemoDatabase, log_in, wait_for_run
from tests.e2e.helpers import first_option, open_page, select

pytestmark = pytest.mark.e2e


def test_the_second_of_two_simultaneous_edits_gets_the_conflict_message_and_keeps_its_input(
    browser, app_url: str, demo_database: DemoDatabase
) -> None:
    first = browser.new_context(viewport={"width": 1366, "height": 1800}).new_page()
    second = browser.new_context(viewport={"width": 1366, "height": 1800}).new_page()
    log_in(first, app_url, "demo-leder", demo_database.password)
    log_in(second, app_url, "demo-medarbejder", demo_database.password)

    open_page(first, app_url, "forloeb")
    course = first_option(first, "Aktivt forløb").split(" · ")[0]
    for page in (first, second):
        if page is second:
            open_page(second, app_url, "forloeb")
        select(page, "Aktivt forløb", course)
        page.get_by_role("tab", name="Ret forløbet").click()
        page.get_by_label("Forløbsnr.").fill(f"{course}-{'A' if page is first else 'B'}")

    first.get_by_role("button", name="Gem rettelser").click()
    wait_for_run(first)
    first.get_by_text(f"Rettelserne til forløb {course}-A er gemt").wait_for(timeout=20_000)

    second.get_by_role("button", name="Gem rettelser").click()
    wait_for_run(second)
    second.get_by_text("ændret af en anden", exact=False).first.wait_for(timeout=20_000)
    assert second.get_by_label("Forløbsnr.").input_value() == f"{course}-B"
    first.context.close()
    second.context.close()
