"""In chromium: with OpenID Connect configured, sign in through a real provider (started by the
test) and land as the fokus user with the same e-mail and the role kept in fokus."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import oidc_provider_mock
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.conftest import _free_port
from tests.e2e.conftest import ROOT, DemoDatabase, screenshot_dir, start_server, wait_for_run

pytestmark = pytest.mark.e2e

OIDC_LOGIN = "oidc-leder@faxe.dk"


@pytest.fixture
def oidc_app(demo_database: DemoDatabase, tmp_path: Path) -> Iterator[str]:
    copy = tmp_path / "fokus.db"
    engine = sa.create_engine(demo_database.url)
    with engine.connect() as connection:
        connection.exec_driver_sql(f"VACUUM INTO '{copy}'")
    engine.dispose()
    url = f"sqlite:///{copy}"
    subprocess.run(
        [sys.executable, "-m", "fokus", "user", "add", OIDC_LOGIN, "--role", "leader", "--unit", "FOKUS Faxe",
         "--no-password"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True,
    )
    with oidc_provider_mock.run_server_in_thread(port=0) as provider:
        port = _free_port()
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "fokus-test"\n'
            f'client_secret = "{secrets.token_urlsafe(16)}"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        process, app_url = start_server(url, tmp_path / "streamlit.log", "--secrets.files", str(secrets_file),
                                        port=port)
        yield app_url
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_user_signs_in_through_the_identity_provider_and_gets_the_role_kept_in_fokus(page, oidc_app: str) -> None:
    page.goto(oidc_app)
    wait_for_run(page)
    assert page.get_by_label("Adgangskode").count() == 0, "no local password form when OIDC is configured"
    page.get_by_role("button", name="Log ind med kommunens konto").click()

    page.locator('input[name="sub"]').wait_for(timeout=20_000)
    page.locator('input[name="sub"]').fill(OIDC_LOGIN)
    page.get_by_role("button", name="Authorize").click()

    page.get_by_text("Logget ind som").wait_for(timeout=30_000)
    wait_for_run(page)
    expect(page.get_by_text(OIDC_LOGIN).first).to_be_visible()
    expect(page.get_by_text("Leder").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir() / "oidc-logged-in.png"))

    page.reload()
    wait_for_run(page)
    page.get_by_text("Logget ind som").wait_for(timeout=20_000)


def test_an_identity_unknown_to_fokus_is_refused(page, oidc_app: str) -> None:
    page.goto(oidc_app)
    wait_for_run(page)
    page.get_by_role("button", name="Log ind med kommunens konto").click()
    page.locator('input[name="sub"]').fill("ukendt@faxe.dk")
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text("er ikke oprettet som aktiv bruger i fokus").wait_for(timeout=30_000)
    assert page.get_by_text("Logget ind som").count() == 0
