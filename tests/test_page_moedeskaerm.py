"""Mødeskærm in AppTest (SQLite): the screen role sees it alone; a leader sets it up and manages screens.

A small unit: two courses started 40 and 30 days ago (citizens "BORGER-XQ7" and "BORGER-ZK2",
contact person "Anna Andersen"): every count on the screen is "<5".
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from fokus import auth, clock, db, services, settings
from fokus.actor import SYSTEM
from fokus.models import AuditEvent
from tests.apptest_helpers import APP, PASSWORD, app_as, sign_in

PAGE = "pages/moedeskaerm.py"
CITIZENS = ("BORGER-XQ7", "BORGER-ZK2")
STAFF = "Anna Andersen"


@pytest.fixture
def unit(sqlite_url: str) -> int:
    today = clock.today()
    with db.write_session() as s:
        unit = services.create_unit(s, SYSTEM, name="FOKUS Test", municipality="Testkommune").id
        anna = services.add_staff(s, SYSTEM, unit_id=unit, name=STAFF, initials="AA").id
        for ref, days in zip(CITIZENS, (40, 30), strict=True):
            referral = services.register_referral(
                s, SYSTEM, unit_id=unit, citizen_ref=ref, birth_year=1980, received=today - timedelta(days=days + 5),
                referrer="socialcenter", target_group="psychic")
            services.start_course(s, SYSTEM, referral_id=referral.id, start=today - timedelta(days=days), form="group",
                                  contact_person_id=anna)
    return unit


def _all_text(at: AppTest) -> str:
    parts = [str(getattr(node, "value", "")) for kind in ("title", "markdown", "caption", "info", "success")
             for node in getattr(at, kind)]
    parts += [str(node.proto.body) for node in at.get("html")]
    return "\n".join(parts)


def test_the_screen_role_sees_the_meeting_screen_alone_without_menu_or_buttons(unit: int) -> None:
    at = app_as("skaerm@faxe.dk", "screen", None, ["FOKUS Test"])
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Tilgang"]
    assert not at.sidebar.children and not at.button and not at.get("form")
    text = _all_text(at)
    assert "&lt;5" in text or "<5" in text
    for name in (*CITIZENS, STAFF, "Anna"):
        assert name not in text
    for path in sorted((Path(APP).parent / "pages").glob("*.py")):
        if path.name != "moedeskaerm.py":
            with pytest.raises(ValueError):  # "Could not find a navigation page": not registered for the screen
                at.switch_page(f"pages/{path.name}")


def test_the_screen_shows_the_next_slide_at_each_refresh(unit: int) -> None:
    at = app_as("skaerm@faxe.dk", "screen", None, ["FOKUS Test"])
    seen = [at.title[0].value]
    for _ in range(2):
        at.run()
        seen.append(at.title[0].value)
    assert seen == ["Tilgang", "Forløb og venteliste", "Gruppeandel"]


def test_a_revoked_screen_is_signed_out_and_its_password_signs_nothing_in(unit: int) -> None:
    _, token = sign_in("skaerm@faxe.dk", "screen", ["FOKUS Test"])
    leader = app_as("leder@faxe.dk", "leader", PAGE, ["FOKUS Test"])
    leader.selectbox(key="moedeskaerm-skaerm").select("skaerm@faxe.dk").run()
    leader.button(key="moedeskaerm-tilbagekald").click().run()
    assert "tilbagekaldt: 1 login afsluttet" in leader.success[0].value
    assert auth.resume(token) is None  # the screen's next refresh finds no session (browser test: login page)
    at = AppTest.from_file(APP, default_timeout=60)  # a reload of the screen
    at.session_state["fokus_token"] = token
    at.run()
    assert [t.value for t in at.title] == ["fokus"] and at.text_input(key="login_user") is not None
    with pytest.raises(auth.LoginRefused):  # deactivated: the old password signs nothing in
        auth.login("skaerm@faxe.dk", PASSWORD)


def test_renewing_a_screen_gives_a_new_password_once_and_ends_its_old_logins(unit: int) -> None:
    _, token = sign_in("skaerm@faxe.dk", "screen", ["FOKUS Test"])
    leader = app_as("leder@faxe.dk", "leader", PAGE, ["FOKUS Test"])
    leader.selectbox(key="moedeskaerm-skaerm").select("skaerm@faxe.dk").run()
    leader.button(key="moedeskaerm-forny").click().run()
    password = leader.code[0].value
    assert auth.resume(token) is None
    actor, _ = auth.login("skaerm@faxe.dk", password)
    assert actor.role == "screen"
    with db.read_session() as s:
        details = [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.user_login == "leder@faxe.dk")
                                            .order_by(col(AuditEvent.id))).all()]
    assert any("mødeskærm fornyet" in d for d in details) and not any(password in d for d in details)


def test_a_leader_changes_the_slide_time_and_the_slides_on_the_page(unit: int) -> None:
    leader = app_as("leder@faxe.dk", "leader", PAGE, ["FOKUS Test"])
    assert not leader.exception
    assert [t.value for t in leader.title][0] == "Mødeskærm"
    assert not leader.selectbox, "one unit: nothing to choose"
    leader.number_input(key=f"moedeskaerm-sekunder-{unit}").set_value(8)
    leader.multiselect(key=f"moedeskaerm-dias-{unit}").set_value(["ors", "network"])
    leader.button(key="FormSubmitter:moedeskaerm-indstillinger-Gem indstillinger").click().run()
    assert leader.success[0].value.startswith("Indstillingerne er gemt")
    with db.read_session() as s:
        assert settings.get(s, "screen_slide_seconds", unit) == 8
        assert [settings.get(s, f"screen_show_{key}", unit) for key in ("intake", "ors", "network")] == [0, 1, 1]
    screen = app_as("skaerm@faxe.dk", "screen", None, ["FOKUS Test"])
    assert [t.value for t in screen.title] == ["ORS-fremgang"]


def test_a_leaders_screen_settings_are_their_units_alone(unit: int) -> None:
    # one deployment, two units kept apart: a leader of one unit changed every unit's screen before
    with db.write_session() as s:
        other_unit = services.create_unit(s, SYSTEM, name="FOKUS Anden", municipality="Andenkommune").id
    leader = app_as("leder@faxe.dk", "leader", PAGE, ["FOKUS Test"])
    assert "Gælder mødeskærmen for FOKUS Test; ingen andre enheders skærme." in _all_text(leader)
    leader.toggle(key=f"moedeskaerm-moerkt-{unit}").set_value(True)
    leader.multiselect(key=f"moedeskaerm-dias-{unit}").set_value(["network"])
    leader.button(key="FormSubmitter:moedeskaerm-indstillinger-Gem indstillinger").click().run()
    assert leader.success[0].value.startswith("Indstillingerne er gemt")
    assert _titles("skaerm@anden.dk", "FOKUS Anden") == ["Tilgang"], "the other unit's screen is as before"
    assert _titles("skaerm@faxe.dk", "FOKUS Test") == ["Netværksmøder"]

    # an administrator chooses: installation-wide (the other unit follows it; the leader's unit keeps its own) …
    admin = app_as("admin@faxe.dk", "admin", PAGE, [])
    assert admin.selectbox(key="moedeskaerm-enhed").options == [
        "Alle enheder uden egne indstillinger", "FOKUS Anden", "FOKUS Test"]
    assert "alle enheder, der ikke har gemt deres egne" in _all_text(admin)
    admin.multiselect(key="moedeskaerm-dias-alle").set_value(["ors"])
    admin.number_input(key="moedeskaerm-sekunder-alle").set_value(20)
    admin.button(key="FormSubmitter:moedeskaerm-indstillinger-Gem indstillinger").click().run()
    assert admin.success[0].value.startswith("Indstillingerne er gemt")
    assert _titles("skaerm@anden.dk", "FOKUS Anden") == ["ORS-fremgang"]
    assert _titles("skaerm@faxe.dk", "FOKUS Test") == ["Netværksmøder"]
    with db.read_session() as s:
        assert settings.get(s, "screen_slide_seconds", unit) == 15, "the leader's whole choice is the unit's own"
        assert settings.get(s, "screen_dark", unit) == 1 and settings.get(s, "screen_dark") == 0

    # … or one unit, whose form shows that unit's settings
    admin.selectbox(key="moedeskaerm-enhed").set_value(unit).run()
    assert admin.toggle(key=f"moedeskaerm-moerkt-{unit}").value is True
    assert admin.multiselect(key=f"moedeskaerm-dias-{unit}").value == ["network"]
    admin.selectbox(key="moedeskaerm-enhed").set_value(other_unit).run()
    assert admin.multiselect(key=f"moedeskaerm-dias-{other_unit}").value == ["ors"]
    admin.multiselect(key=f"moedeskaerm-dias-{other_unit}").set_value(["load"])
    admin.button(key="FormSubmitter:moedeskaerm-indstillinger-Gem indstillinger").click().run()
    assert _titles("skaerm@anden.dk", "FOKUS Anden") == ["Forløb og venteliste"]
    assert _titles("skaerm@faxe.dk", "FOKUS Test") == ["Netværksmøder"]
    with db.read_session() as s:
        assert settings.get(s, "screen_show_load") == 0, "installation-wide as the administrator left it"
        details = [e.detail for e in s.exec(select(AuditEvent).where(AuditEvent.table_name == "unitsetting")).all()]
    assert "screen_dark=1" in details and "screen_show_network=1" in details and "screen_show_load=1" in details


def _titles(login: str, unit_name: str) -> list[str]:
    """What a screen of this unit shows first."""
    return [t.value for t in app_as(login, "screen", None, [unit_name]).title]
