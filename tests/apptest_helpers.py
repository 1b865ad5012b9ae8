"""AppTest with a signed-in user: a real login session, its token handed to the app.

The token goes into `st.session_state` the way `fokus.signin` keeps it after a login (the
browser cannot write there), so the app resumes the session exactly as on a real run.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from fokus import auth, db
from fokus.actor import SYSTEM, Actor
from fokus.models import Unit, User

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PASSWORD = "test-adgangskode-42"


def ensure_user(login: str, role: str, unit_names: list[str] | None = None) -> None:
    """A user with PASSWORD, in the named units (default: every unit), created once."""
    with db.write_session() as session:
        if session.exec(select(User.id).where(User.login == login)).first() is not None:
            return
        units = session.exec(select(Unit)).all()
        unit_ids = [u.id for u in units if unit_names is None or u.name in unit_names]
        auth.create_user(session, SYSTEM, login=login, role=role, password=PASSWORD,
                         unit_ids=[] if role == "admin" else [int(i) for i in unit_ids if i is not None])


def sign_in(login: str, role: str, unit_names: list[str] | None = None) -> tuple[Actor, str]:
    ensure_user(login, role, unit_names)
    return auth.login(login, PASSWORD)


def app_as(login: str, role: str, page: str | None = None, unit_names: list[str] | None = None,
           timeout: float = 60) -> AppTest:
    """The app, run once as this user, then switched to `page` (a path like "pages/overblik.py")."""
    _, token = sign_in(login, role, unit_names)
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["fokus_token"] = token
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def click(at: AppTest, label: str) -> AppTest:
    """Click the button labelled `label`, run the page, and check it ran without an exception."""
    next(button for button in at.button if button.label == label).click().run()
    assert not at.exception, at.exception
    return at
