"""Small Playwright helpers for Streamlit's widgets."""

from __future__ import annotations

from tests.e2e.conftest import wait_for_run


def select(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Open the selectbox labelled `label` and click the first option containing `option`."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label, visible=True).first.click()
    page.keyboard.type(option)  # long lists are virtual: filter first, so the option is drawn
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_for_run(page)


def first_option(page, label: str) -> str:  # type: ignore[no-untyped-def]
    """The text of the first option of a selectbox (the list is closed again)."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label, visible=True).first.click()
    text = page.get_by_role("option").first.inner_text()
    page.keyboard.press("Escape")
    return text


def radio(page, group: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.locator('[data-testid="stRadio"]').filter(has_text=group, visible=True).first.get_by_text(
        option, exact=True).click()


def open_page(page, app_url: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{app_url}/{path}")
    wait_for_run(page)


def field(page, label: str):  # type: ignore[no-untyped-def]
    """The visible input labelled `label` (tabs keep hidden copies of the same form)."""
    return page.get_by_label(label, exact=True).filter(visible=True).first


def multiselect(page, label: str, options: list[str]) -> None:  # type: ignore[no-untyped-def]
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label, visible=True).first
    for option in options:
        box.click()
        page.keyboard.type(option)
        page.get_by_role("option").filter(has_text=option).first.click()
    page.keyboard.press("Escape")
