"""Signing in (DESIGN §8): passwords, lock-out, login sessions and their timeouts, user
administration, OpenID Connect, the one-time cookie tickets and the command line.

Everything that needs no AppTest runs on SQLite and on PostgreSQL (`db_url`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import subprocess
import sys
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type
from sqlmodel import SQLModel, col, func, select
from starlette.applications import Starlette

from fokus import auth, db, settings, web
from fokus.actor import SYSTEM, Actor
from fokus.clock import now_utc
from fokus.errors import PermissionDenied, ValidationError
from fokus.models import AuditEvent, LoginSession, Unit, User
from fokus.services import create_unit
from tests.conftest import REAL_HASHERS

if TYPE_CHECKING:
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "en-god-adgangskode-42"
REFUSED = "Forkert brugernavn eller adgangskode, eller kontoen er spærret."
ADMIN = Actor("admin@faxe.dk", "admin", None, user_id=None)


# ---------------------------------------------------------------------------------------
# Helpers

def make_user(login: str, role: str = "staff", unit_ids: list[int] | None = None,
              password: str | None = PASSWORD) -> int:
    with db.write_session() as session:
        user = auth.create_user(session, SYSTEM, login=login, role=role, password=password,
                                unit_ids=[] if unit_ids is None else unit_ids)
        assert user.id is not None
        return user.id


def events(action: str | None = None) -> list[AuditEvent]:
    with db.read_session() as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(session.exec(query).all())


def sessions_of(user_id: int) -> list[LoginSession]:
    with db.read_session() as session:
        return list(session.exec(select(LoginSession).where(LoginSession.user_id == user_id)).all())


def user_row(login: str) -> User | None:
    with db.read_session() as session:
        return session.exec(select(User).where(User.login == login)).first()


def put_setting(key: str, value: float) -> None:
    with db.write_session() as session:
        settings.put(session, ADMIN, key, value)


def refusal(call: Callable[[], object]) -> str:
    with pytest.raises(auth.LoginRefused) as refused:
        call()
    return refused.value.message


# ---------------------------------------------------------------------------------------
# Login

def test_the_right_password_gives_an_actor_with_the_users_units_and_a_token(unit_id: int) -> None:
    user_id = make_user("lene@faxe.dk", "leader", [unit_id])

    actor, token = auth.login("lene@faxe.dk", PASSWORD)

    assert actor == Actor("lene@faxe.dk", "leader", frozenset({unit_id}), user_id=user_id)
    assert isinstance(token, str) and len(token) >= 40
    [row] = sessions_of(user_id)
    assert row.method == "password"


def test_an_administrator_signs_in_to_every_unit(unit_id: int) -> None:
    make_user("chef@faxe.dk", "admin")
    actor, _ = auth.login("chef@faxe.dk", PASSWORD)
    assert actor.role == "admin" and actor.unit_ids is None


def test_the_login_name_is_matched_whatever_its_case_and_surrounding_spaces(unit_id: int) -> None:
    make_user("lene@faxe.dk", "staff", [unit_id])
    actor, _ = auth.login("  LENE@Faxe.DK ", PASSWORD)
    assert actor.login == "lene@faxe.dk"


def test_wrong_password_unknown_user_and_deactivated_user_get_one_and_the_same_refusal(unit_id: int) -> None:
    make_user("lene@faxe.dk", "staff", [unit_id])
    gone = make_user("gone@faxe.dk", "staff", [unit_id])
    with db.write_session() as session:
        auth.update_user(session, SYSTEM, user_id=gone, role="staff", unit_ids=[unit_id], staff_id=None, active=False)
    before = len(events())

    messages = {
        refusal(lambda: auth.login("lene@faxe.dk", "forkert-adgangskode-1")),
        refusal(lambda: auth.login("ukendt@faxe.dk", PASSWORD)),
        refusal(lambda: auth.login("gone@faxe.dk", PASSWORD)),
        refusal(lambda: auth.login("", "")),
    }

    assert messages == {REFUSED}
    failed = events()[before:]
    assert [(e.action, e.user_login, e.detail) for e in failed] == [
        ("login_failed", "lene@faxe.dk", "forkert adgangskode"),
        ("login_failed", "ukendt@faxe.dk", "ukendt bruger"),
        ("login_failed", "gone@faxe.dk", "deaktiveret konto"),
        ("login_failed", "?", "ukendt bruger"),
    ]
    assert sessions_of(gone) == []


def test_every_attempt_leaves_exactly_one_audit_entry(unit_id: int) -> None:
    make_user("lene@faxe.dk", "staff", [unit_id])
    for password, action in ((PASSWORD, "login"), ("forkert-adgangskode-1", "login_failed"), (PASSWORD, "login")):
        before = len(events())
        with contextlib.suppress(auth.LoginRefused):
            auth.login("lene@faxe.dk", password)
        assert [e.action for e in events()[before:]] == [action]


@pytest.mark.parametrize("typed", ["010190-1234", "0101901234", "010190 1234", "lene 010190-1234"])
def test_a_cpr_number_typed_as_login_name_never_reaches_the_log(typed: str, db_url: str) -> None:
    assert refusal(lambda: auth.login(typed, PASSWORD)) == REFUSED
    [entry] = events()
    assert entry.action == "login_failed" and entry.user_login == "?"
    logged = f"{entry.user_login} {entry.detail} {entry.citizen_ref}"
    assert "1234" not in logged and "010190" not in logged


def test_the_account_locks_after_max_failed_logins_even_against_the_right_password(unit_id: int) -> None:
    put_setting("max_failed_logins", 3)
    put_setting("lockout_minutes", 10)
    make_user("lene@faxe.dk", "staff", [unit_id])
    start = now_utc()

    for minute in range(3):
        refusal(lambda m=minute: auth.login("lene@faxe.dk", "forkert-adgangskode-1", now=start + timedelta(minutes=m)))
    assert refusal(lambda: auth.login("lene@faxe.dk", PASSWORD, now=start + timedelta(minutes=3))) == REFUSED
    assert refusal(lambda: auth.login("lene@faxe.dk", PASSWORD, now=start + timedelta(minutes=11))) == REFUSED

    actor, _ = auth.login("lene@faxe.dk", PASSWORD, now=start + timedelta(minutes=13))
    assert actor.login == "lene@faxe.dk"
    details = [e.detail for e in events("login_failed")]
    assert details == ["forkert adgangskode", "forkert adgangskode", "forkert adgangskode; kontoen er spærret",
                       "spærret konto", "spærret konto"]


def test_the_lock_follows_the_default_settings(unit_id: int) -> None:
    make_user("lene@faxe.dk", "staff", [unit_id])
    start = now_utc()
    with db.read_session() as session:
        most, minutes = settings.get(session, "max_failed_logins"), settings.get(session, "lockout_minutes")
    assert (most, minutes) == (5, 15)
    for _ in range(int(most)):
        refusal(lambda: auth.login("lene@faxe.dk", "forkert-adgangskode-1", now=start))
    refusal(lambda: auth.login("lene@faxe.dk", PASSWORD, now=start + timedelta(minutes=minutes - 1)))
    auth.login("lene@faxe.dk", PASSWORD, now=start + timedelta(minutes=minutes + 1))


def test_a_successful_login_resets_the_count_of_wrong_passwords(unit_id: int) -> None:
    put_setting("max_failed_logins", 3)
    make_user("lene@faxe.dk", "staff", [unit_id])
    for _ in range(2):
        refusal(lambda: auth.login("lene@faxe.dk", "forkert-adgangskode-1"))
    auth.login("lene@faxe.dk", PASSWORD)
    assert user_row("lene@faxe.dk").failed_logins == 0  # type: ignore[union-attr]
    for _ in range(2):
        refusal(lambda: auth.login("lene@faxe.dk", "forkert-adgangskode-1"))
    auth.login("lene@faxe.dk", PASSWORD)


def test_a_wrong_password_after_the_lock_ran_out_is_not_logged_as_locked(unit_id: int) -> None:
    put_setting("max_failed_logins", 3)
    make_user("lene@faxe.dk", "staff", [unit_id])
    start = now_utc()
    for _ in range(3):
        refusal(lambda: auth.login("lene@faxe.dk", "forkert-adgangskode-1", now=start))

    refusal(lambda: auth.login("lene@faxe.dk", "forkert-adgangskode-1", now=start + timedelta(hours=1)))

    assert events("login_failed")[-1].detail == "forkert adgangskode"
    with db.read_session() as session:
        [listed] = auth.list_users(session, ADMIN)
    assert listed["locked"] is False


# ---------------------------------------------------------------------------------------
# Login sessions

def signed_in(unit_id: int, login: str = "lene@faxe.dk", role: str = "staff") -> tuple[int, Actor, str]:
    user_id = make_user(login, role, [unit_id])
    actor, token = auth.login(login, PASSWORD)
    return user_id, actor, token


def test_a_live_token_resumes_its_actor(unit_id: int) -> None:
    _, actor, token = signed_in(unit_id)
    assert auth.resume(token) == actor
    assert auth.resume("not-a-token") is None
    assert auth.resume(None) is None and auth.resume("") is None


def test_an_idle_session_ends_its_row_is_deleted_and_the_end_is_logged(unit_id: int) -> None:
    user_id, actor, token = signed_in(unit_id)

    assert auth.resume(token, now=now_utc() + timedelta(minutes=31)) is None

    assert sessions_of(user_id) == []
    last = events()[-1]
    assert (last.action, last.user_login, last.detail) == ("logout", actor.login, "udløbet")
    count = len(events())
    assert auth.resume(token) is None
    assert len(events()) == count


def test_each_click_postpones_the_idle_timeout_and_the_idle_setting_is_used(unit_id: int) -> None:
    put_setting("idle_timeout_minutes", 10)
    _, actor, token = signed_in(unit_id)
    start = now_utc()
    for minutes in (8, 16, 24):
        assert auth.resume(token, now=start + timedelta(minutes=minutes)) == actor
    assert auth.seconds_left(token, now=start + timedelta(minutes=24)) == pytest.approx(600, abs=1)
    assert auth.resume(token, now=start + timedelta(minutes=35)) is None


def test_a_session_ends_after_session_max_hours_however_busy(unit_id: int) -> None:
    put_setting("session_max_hours", 1)
    user_id, actor, token = signed_in(unit_id)
    start = now_utc()
    for minutes in range(20, 60, 20):
        assert auth.resume(token, now=start + timedelta(minutes=minutes)) == actor
    assert auth.seconds_left(token, now=start + timedelta(minutes=50)) == pytest.approx(600, abs=5)
    assert auth.seconds_left(token, now=start + timedelta(minutes=61)) == 0
    assert auth.resume(token, now=start + timedelta(minutes=61)) is None
    assert sessions_of(user_id) == []


def test_deactivating_a_user_ends_their_sessions(unit_id: int) -> None:
    user_id, _, token = signed_in(unit_id)
    _, _, other_token = signed_in(unit_id, "mette@faxe.dk")
    with db.write_session() as session:
        auth.update_user(session, ADMIN, user_id=user_id, role="staff", unit_ids=[unit_id], staff_id=None,
                         active=False)
    assert sessions_of(user_id) == []
    assert auth.resume(token) is None
    assert auth.resume(other_token) is not None


def test_a_changed_role_or_unit_takes_effect_at_the_next_click(unit_id: int) -> None:
    with db.write_session() as session:
        unit_b = create_unit(session, SYSTEM, name="Enhed B", municipality="Testkommune").id
    user_id, _, token = signed_in(unit_id)
    with db.write_session() as session:
        auth.update_user(session, ADMIN, user_id=user_id, role="screen", unit_ids=[unit_b], staff_id=None,
                         active=True)
    resumed = auth.resume(token)
    assert resumed is not None and (resumed.role, resumed.unit_ids) == ("screen", frozenset({unit_b}))


def test_logout_deletes_the_session_and_logs_it(unit_id: int) -> None:
    user_id, actor, token = signed_in(unit_id)
    auth.logout(token, actor)
    assert sessions_of(user_id) == []
    last = events()[-1]
    assert (last.action, last.user_login) == ("logout", actor.login)
    assert auth.resume(token) is None
    count = len(events())
    auth.logout(token, actor)  # twice, or with no token: nothing more happens
    auth.logout(None, actor)
    assert len(events()) == count


def test_only_the_sha256_of_a_token_is_stored(unit_id: int) -> None:
    user_id, _, token = signed_in(unit_id)
    [row] = sessions_of(user_id)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with db.read_session() as session:
        for table in SQLModel.metadata.sorted_tables:
            for values in session.execute(sa.select(table)).all():
                assert not any(token in str(value) for value in values), table.name


# ---------------------------------------------------------------------------------------
# Passwords

@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kort-kode-1", "Adgangskoden skal være mindst 12 tegn."),
        ("", "Adgangskoden skal være mindst 12 tegn."),
        ("mit-Lene@Faxe.dk-42", "Adgangskoden må ikke indeholde brugernavnet."),
        ("aaaabbbbccccdddd", "Adgangskoden er for ensformig: brug flere forskellige tegn."),
    ],
)
def test_weak_passwords_are_refused_with_a_danish_reason(password: str, message: str, unit_id: int) -> None:
    with pytest.raises(ValidationError) as refused, db.write_session() as session:
        auth.create_user(session, ADMIN, login="lene@faxe.dk", role="staff", password=password, unit_ids=[unit_id])
    assert (refused.value.message, refused.value.field) == (message, "password")
    assert user_row("lene@faxe.dk") is None

    user_id = make_user("lene@faxe.dk", "staff", [unit_id])
    with pytest.raises(ValidationError, match=message.split(":")[0]), db.write_session() as session:
        auth.reset_password(session, ADMIN, user_id=user_id, password=password)


def test_passwords_are_stored_as_argon2_hashes(unit_id: int) -> None:
    make_user("lene@faxe.dk", "staff", [unit_id])
    stored = user_row("lene@faxe.dk").password_hash  # type: ignore[union-attr]
    assert stored is not None and stored.startswith("$argon2") and PASSWORD not in stored


def test_the_app_hashes_passwords_and_pins_with_argon2id_at_its_standard_cost() -> None:
    # The tests hash at the smallest cost (conftest.quick_password_hashes); the app must not.
    for name, hasher in REAL_HASHERS.items():
        assert isinstance(hasher, PasswordHasher), name
        assert (hasher.type, hasher.memory_cost, hasher.time_cost) == (Type.ID, 65536, 3), name
        assert hasher.hash("en-god-adgangskode-1").startswith("$argon2id$v=19$m=65536,t=3,p=4$"), name


def test_a_new_password_ends_the_users_sessions_and_lifts_a_lock(unit_id: int) -> None:
    put_setting("max_failed_logins", 3)
    user_id, _, token = signed_in(unit_id)
    for _ in range(3):
        refusal(lambda: auth.login("lene@faxe.dk", "forkert-adgangskode-1"))

    with db.write_session() as session:
        auth.reset_password(session, ADMIN, user_id=user_id, password="en-helt-ny-kode-77")

    assert sessions_of(user_id) == [] and auth.resume(token) is None
    refusal(lambda: auth.login("lene@faxe.dk", PASSWORD))
    actor, _ = auth.login("lene@faxe.dk", "en-helt-ny-kode-77")
    assert actor.user_id == user_id


def test_a_user_may_set_their_own_password_but_no_one_elses(unit_id: int) -> None:
    user_id, actor, _ = signed_in(unit_id)
    other = make_user("mette@faxe.dk", "staff", [unit_id])
    with db.write_session() as session:
        auth.reset_password(session, actor, user_id=user_id, password="min-egen-nye-kode-9")
    with pytest.raises(PermissionDenied), db.write_session() as session:
        auth.reset_password(session, actor, user_id=other, password="en-anden-ny-kode-9")
    with pytest.raises(PermissionDenied), db.write_session() as session:  # no probing for ids either
        auth.reset_password(session, actor, user_id=other + 1000, password="en-anden-ny-kode-9")
    assert [e.user_login for e in events("denied")] == [actor.login, actor.login]
    auth.login("mette@faxe.dk", PASSWORD)


# ---------------------------------------------------------------------------------------
# User administration

def _admin_calls(unit_id: int, target: int) -> dict[str, Callable[..., object]]:
    return {
        "create_user": lambda s, a: auth.create_user(s, a, login="ny@faxe.dk", role="staff", password=None,
                                                     unit_ids=[unit_id]),
        "update_user": lambda s, a: auth.update_user(s, a, user_id=target, role="admin", unit_ids=[],
                                                     staff_id=None, active=True),
        "reset_password": lambda s, a: auth.reset_password(s, a, user_id=target, password="en-helt-ny-kode-77"),
        "list_users": lambda s, a: auth.list_users(s, a),
    }


@pytest.mark.parametrize("role", ["leader", "staff", "screen"])
def test_user_administration_is_for_administrators_only(role: str, unit_id: int) -> None:
    target = make_user("lene@faxe.dk", "staff", [unit_id])
    actor = Actor(f"{role}@faxe.dk", role, frozenset({unit_id}), user_id=target + 1000)
    calls = _admin_calls(unit_id, target)
    for name, call in calls.items():
        with pytest.raises(PermissionDenied, match="Din rolle giver ikke adgang"), db.write_session() as session:
            call(session, actor)
        assert events()[-1].action == "denied", name
    with pytest.raises(PermissionDenied), db.read_session() as session:  # a read is logged too
        auth.list_users(session, actor)
    denied = events("denied")
    assert [(e.user_login, e.detail) for e in denied] == [(actor.login, "brugeradministration")] * (len(calls) + 1)
    assert user_row("ny@faxe.dk") is None and user_row("lene@faxe.dk").role == "staff"  # type: ignore[union-attr]


def test_an_administrator_cannot_remove_their_own_administrator_access(unit_id: int) -> None:
    admin_id = make_user("chef@faxe.dk", "admin")
    me, _ = auth.login("chef@faxe.dk", PASSWORD)
    for role, active in (("leader", True), ("admin", False)):
        with pytest.raises(ValidationError, match="din egen administratoradgang"), db.write_session() as session:
            auth.update_user(session, me, user_id=admin_id, role=role, unit_ids=[unit_id], staff_id=None,
                             active=active)
    assert user_row("chef@faxe.dk").role == "admin"  # type: ignore[union-attr]
    other = make_user("chef2@faxe.dk", "admin")
    with db.write_session() as session:  # another administrator can
        auth.update_user(session, me, user_id=other, role="leader", unit_ids=[unit_id], staff_id=None, active=True)


def test_a_login_name_is_unique_whatever_its_case(unit_id: int) -> None:
    make_user("Lene@Faxe.dk", "staff", [unit_id])
    assert user_row("lene@faxe.dk") is not None
    with pytest.raises(ValidationError, match="findes allerede"), db.write_session() as session:
        auth.create_user(session, ADMIN, login=" LENE@FAXE.DK", role="leader", password=None, unit_ids=[unit_id])
    with db.read_session() as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 1


def test_a_user_who_is_not_an_administrator_needs_a_unit(db_url: str) -> None:
    with pytest.raises(ValidationError, match="mindst én enhed"), db.write_session() as session:
        auth.create_user(session, ADMIN, login="lene@faxe.dk", role="staff", password=PASSWORD, unit_ids=[])


# ---------------------------------------------------------------------------------------
# OpenID Connect

def test_oidc_matches_the_email_whatever_its_case(unit_id: int) -> None:
    user_id = make_user("lene@faxe.dk", "leader", [unit_id], password=None)
    actor, token = auth.login_oidc("Lene@FAXE.dk")
    assert actor == Actor("lene@faxe.dk", "leader", frozenset({unit_id}), user_id=user_id)
    assert auth.resume(token) == actor
    [row] = sessions_of(user_id)
    assert row.method == "oidc"
    last = events()[-1]
    assert (last.action, last.detail) == ("login", "OpenID Connect")


def test_a_user_without_a_password_cannot_sign_in_with_one(unit_id: int) -> None:
    make_user("lene@faxe.dk", "leader", [unit_id], password=None)
    assert refusal(lambda: auth.login("lene@faxe.dk", "")) == REFUSED


def test_oidc_refuses_unknown_and_deactivated_users_and_logs_it(unit_id: int) -> None:
    gone = make_user("gone@faxe.dk", "staff", [unit_id], password=None)
    with db.write_session() as session:
        auth.update_user(session, ADMIN, user_id=gone, role="staff", unit_ids=[unit_id], staff_id=None, active=False)
    for email in ("ukendt@faxe.dk", "GONE@faxe.dk"):
        message = refusal(lambda e=email: auth.login_oidc(e))
        assert "ikke oprettet som aktiv bruger i fokus" in message
    assert [(e.action, e.user_login) for e in events("login_failed")] == [
        ("login_failed", "ukendt@faxe.dk"), ("login_failed", "gone@faxe.dk"),
    ]
    assert sessions_of(gone) == []


# ---------------------------------------------------------------------------------------
# The one-time tickets and the cookie routes

def test_a_ticket_is_redeemed_once_only() -> None:
    ticket = web.issue_ticket("token-1")
    assert web.redeem_ticket(ticket) == "token-1"
    assert web.redeem_ticket(ticket) is None
    assert web.redeem_ticket("no-such-ticket") is None


def test_an_expired_ticket_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(web.time, "monotonic", lambda: clock[0])
    ticket = web.issue_ticket("token-1")
    clock[0] += web.TICKET_SECONDS + 1
    assert web.redeem_ticket(ticket) is None


@pytest.fixture
def client() -> TestClient:
    with warnings.catch_warnings():  # starlette would rather have httpx2, which is not installed
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient(Starlette(routes=web.ROUTES), base_url="http://fokus.test")


def test_the_session_route_sets_an_httponly_strict_cookie_for_a_valid_ticket(client: TestClient) -> None:
    response = client.post("/_fokus/session", data={"ticket": web.issue_ticket("token-1")},
                           headers={"Origin": "http://fokus.test"})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{web.COOKIE}=token-1;")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    assert response.headers["cache-control"] == "no-store"


def test_the_cookie_is_secure_behind_https(client: TestClient) -> None:
    response = client.post("/_fokus/session", data={"ticket": web.issue_ticket("token-1")},
                           headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["set-cookie"]


def test_a_cross_origin_request_is_refused(client: TestClient) -> None:
    ticket = web.issue_ticket("token-1")
    for path in ("/_fokus/session", "/_fokus/logout"):
        response = client.post(path, data={"ticket": ticket}, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403 and "set-cookie" not in response.headers
    assert web.redeem_ticket(ticket) == "token-1"  # the refused request did not use it up


def test_a_bad_or_used_ticket_is_refused(client: TestClient) -> None:
    ticket = web.issue_ticket("token-1")
    assert client.post("/_fokus/session", data={"ticket": ticket}).status_code == 204
    for data in ({"ticket": ticket}, {"ticket": "made-up"}, {}):
        response = client.post("/_fokus/session", data=data)
        assert response.status_code == 403 and "set-cookie" not in response.headers
    assert client.get("/_fokus/session").status_code == 405


def test_the_logout_route_clears_the_cookie(client: TestClient) -> None:
    response = client.post("/_fokus/logout", headers={"Origin": "http://fokus.test"})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f'{web.COOKIE}="";') and "Max-Age=0" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


# ---------------------------------------------------------------------------------------
# The session cookie as Streamlit sees it (AppTest, SQLite)

def _cookie_app() -> None:
    import streamlit as st

    from fokus import signin

    actor = signin.establish()
    if actor is None:
        st.info(st.session_state.pop(signin.LOGGED_OUT_KEY, "Ikke logget ind."))
    else:
        st.write(f"Logget ind som {actor.login}")
        if st.button("Log ud", key="log_out"):
            signin.log_out(actor)


def test_an_ended_cookie_session_is_not_resumed_again_on_every_rerun(sqlite_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The cookie Streamlit reports stays the one the page was opened with, also after logout."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    make_user("lene@faxe.dk", "admin")
    _, token = auth.login("lene@faxe.dk", PASSWORD)
    monkeypatch.setattr(type(st.context), "cookies", property(lambda _self: {web.COOKIE: token}))
    at = AppTest.from_function(_cookie_app, default_timeout=30).run()
    assert at.markdown[0].value == "Logget ind som lene@faxe.dk"

    at.button(key="log_out").click().run()
    assert [info.value for info in at.info] == ["Du er logget ud."]
    at.run()
    assert [info.value for info in at.info] == ["Ikke logget ind."]
    assert [e.action for e in events()].count("logout") == 1


# ---------------------------------------------------------------------------------------
# The command line

def fokus_cli(*args: str, url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fokus", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, env={**os.environ, "DATABASE_URL": url}, timeout=300)


def test_cli_user_add_creates_a_user_who_can_sign_in(db_url: str, unit_id: int) -> None:
    result = fokus_cli("user", "add", "Anna@Faxe.dk", "--role", "leader", "--unit", "FOKUS Test", "--password-stdin",
                       url=db_url, stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert "anna@faxe.dk er oprettet med rollen leader" in result.stdout
    actor, _ = auth.login("anna@faxe.dk", PASSWORD)
    assert (actor.role, actor.unit_ids) == ("leader", frozenset({unit_id}))
    listed = fokus_cli("user", "list", url=db_url)
    assert "anna@faxe.dk" in listed.stdout and "FOKUS Test" in listed.stdout


def test_cli_refuses_a_short_password_in_danish(db_url: str, unit_id: int) -> None:
    result = fokus_cli("user", "add", "anna@faxe.dk", "--role", "staff", "--unit", "FOKUS Test", "--password-stdin",
                       url=db_url, stdin="kort\n")
    assert result.returncode == 2
    assert "fejl: Adgangskoden skal være mindst 12 tegn." in result.stderr
    assert "Traceback" not in result.stderr
    assert user_row("anna@faxe.dk") is None


def test_cli_refuses_an_unknown_unit(db_url: str, unit_id: int) -> None:
    result = fokus_cli("user", "add", "anna@faxe.dk", "--role", "staff", "--unit", "Ukendt", "--password-stdin",
                       url=db_url, stdin=PASSWORD + "\n")
    assert result.returncode == 2 and "Ukendt enhed: Ukendt" in result.stderr


def test_cli_passwd_sets_a_new_password(db_url: str, unit_id: int) -> None:
    make_user("anna@faxe.dk", "staff", [unit_id])
    result = fokus_cli("user", "passwd", "ANNA@faxe.dk", "--password-stdin", url=db_url, stdin="en-helt-ny-kode-77\n")
    assert result.returncode == 0, result.stderr
    auth.login("anna@faxe.dk", "en-helt-ny-kode-77")


@pytest.mark.slow
def test_cli_demo_prints_a_demo_login_and_keeps_the_password_file_private(sqlite_url: str) -> None:
    result = fokus_cli("demo", url=sqlite_url)
    assert result.returncode == 0, result.stderr
    assert "demo-leder" in result.stdout and "adgangskode: demo-" in result.stdout
    note = Path(sqlite_url.removeprefix("sqlite:///")).with_name("demo-login.txt")
    assert stat.S_IMODE(note.stat().st_mode) == 0o600
    password = result.stdout.split("adgangskode: ")[1].split()[0]
    assert password in note.read_text(encoding="utf-8")
    actor, _ = auth.login("demo-leder", password)
    assert actor.role == "leader" and actor.unit_ids is not None and len(actor.unit_ids) == 1


def _counts() -> tuple[int, ...]:
    with db.read_session() as session:
        return tuple(session.exec(select(func.count()).select_from(model)).one()
                     for model in (Unit, User, AuditEvent))


def test_cli_demo_if_empty_leaves_a_database_with_data_alone(db_url: str, unit_id: int) -> None:
    before = _counts()
    result = fokus_cli("demo", "--if-empty", url=db_url)
    assert result.returncode == 0, result.stderr
    assert "Databasen har allerede data" in result.stdout
    assert _counts() == before
    refused = fokus_cli("demo", url=db_url)
    assert refused.returncode == 2 and "tom database" in refused.stderr
    assert _counts() == before
