"""Tablet self-report (DESIGN §6), on SQLite and PostgreSQL: the staff PIN, opening the mode for one
course, the citizen's one ORS, and leaving only with the right PIN; on the staff member's own
tablet, or on another one that redeems a single-use code."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, delete, select

from fokus import auth, clock, db, selfreport
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.errors import NotFoundError, PermissionDenied, ValidationError
from fokus.models import AuditEvent, Course, LoginSession, OrsScore, SelfReportSession, User
from tests.apptest_helpers import sign_in
from tests.test_rules import refused, snapshot

ITEMS = {"individual": 62, "interpersonal": 75, "social": 48, "overall": 55}


@dataclass(frozen=True)
class Tablet:
    actor: Actor
    token: str
    course_id: int
    ended_course_id: int


def days_ago(days: int):  # type: ignore[no-untyped-def]
    return clock.today() - timedelta(days=days)


@pytest.fixture
def tablet(unit_id: int) -> Tablet:
    """A staff member signed in on a tablet, with a PIN, and a running and an ended course."""
    actor, token = sign_in("tablet@faxe.dk", "staff")
    with db.write_session() as s:
        running = svc.register_referral(s, SYSTEM, unit_id=unit_id, citizen_ref="SAG-2001", birth_year=1980,
                                        received=days_ago(30), referrer="socialcenter", target_group="psychic")
        course = svc.start_course(s, SYSTEM, referral_id=running.id, start=days_ago(20), form="individual")
        ended = svc.register_referral(s, SYSTEM, unit_id=unit_id, citizen_ref="SAG-2002", birth_year=1980,
                                      received=days_ago(90), referrer="jobcenter", target_group="social")
        ended_course = svc.start_course(s, SYSTEM, referral_id=ended.id, start=days_ago(80), form="individual")
        svc.end_course(s, SYSTEM, course_id=ended_course.id, end=days_ago(10), end_reason="completed")
        selfreport.set_pin(s, actor, pin="2580", repeated="2580")
    return Tablet(actor=actor, token=token, course_id=course.id, ended_course_id=ended_course.id)


def open_mode(tablet: Tablet) -> SelfReportSession:
    with db.write_session() as s:
        return selfreport.open_mode(s, tablet.actor, course_id=tablet.course_id, login_token=tablet.token)


def entries(login: str) -> list[tuple[str, str, str]]:
    with db.read_session() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.user_login == login).order_by(AuditEvent.id)).all()
        return [(e.action, e.table_name, e.detail) for e in rows]


# ---------------------------------------------------------------------------------------
# The PIN

@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "", "1111", "1234", "98765", " 12 34"])
def test_a_pin_is_four_to_six_digits_and_not_one_that_is_guessed_first(pin: str) -> None:
    with pytest.raises(ValidationError) as caught:
        selfreport.check_pin_rules(pin)
    assert caught.value.field == "pin" and "PIN" in caught.value.message


@pytest.mark.parametrize("pin", ["2580", "1357", "904512", " 7391 "])
def test_a_pin_of_four_to_six_mixed_digits_is_accepted(pin: str) -> None:
    assert selfreport.check_pin_rules(pin) == pin.strip()


def test_a_staff_member_sets_their_own_pin_stored_only_as_an_argon2_hash(tablet: Tablet) -> None:
    with db.read_session() as s:
        user = s.get(User, tablet.actor.user_id)
        assert user is not None and user.pin_hash is not None
    assert user.pin_hash.startswith("$argon2") and "2580" not in user.pin_hash
    assert ("changed", "user", "PIN til selvregistrering sat") in entries(tablet.actor.login)


def test_a_pin_typed_differently_the_second_time_is_refused(tablet: Tablet) -> None:
    refused(lambda s: selfreport.set_pin(s, tablet.actor, pin="3691", repeated="3692"),
            field="repeated", words=["ikke ens"])


# ---------------------------------------------------------------------------------------
# Opening

def test_opening_locks_only_this_login_session_to_the_self_report_page(tablet: Tablet) -> None:
    _, other_token = auth.login("tablet@faxe.dk", "test-adgangskode-42")
    assert not selfreport.is_locked(tablet.token)
    mode = open_mode(tablet)
    assert selfreport.is_locked(tablet.token)
    assert not selfreport.is_locked(other_token)  # the same user's laptop goes on as before
    assert mode.expires - mode.created == timedelta(minutes=selfreport.OPEN_MINUTES)
    assert entries(tablet.actor.login)[-1] == ("created", "selfreportsession", "selvregistrering åbnet")


def test_opening_needs_the_staff_members_pin_first(unit_id: int, tablet: Tablet) -> None:
    actor, token = sign_in("uden-pin@faxe.dk", "staff")
    refused(lambda s: selfreport.open_mode(s, actor, course_id=tablet.course_id, login_token=token),
            field="pin", words=["Min PIN"])


def test_opening_is_refused_for_a_course_that_has_ended(tablet: Tablet) -> None:
    refused(lambda s: selfreport.open_mode(s, tablet.actor, course_id=tablet.ended_course_id,
                                           login_token=tablet.token),
            field="course_id", words=["i gang i dag"])


def test_opening_is_refused_without_a_live_login_session(tablet: Tablet) -> None:
    refused(lambda s: selfreport.open_mode(s, tablet.actor, course_id=tablet.course_id, login_token="udløbet"),
            field="login", words=["log ind igen"])


def test_opening_for_another_units_course_is_refused_and_logged(tablet: Tablet) -> None:
    with db.write_session() as s:
        other = svc.create_unit(s, SYSTEM, name="Anden enhed", municipality="Køge")
        referral = svc.register_referral(s, SYSTEM, unit_id=other.id, citizen_ref="K-1", birth_year=1980,
                                         received=days_ago(30), referrer="other", target_group="physical")
        course = svc.start_course(s, SYSTEM, referral_id=referral.id, start=days_ago(20), form="individual")
    with pytest.raises(PermissionDenied), db.write_session() as s:
        selfreport.open_mode(s, tablet.actor, course_id=course.id, login_token=tablet.token)
    assert entries(tablet.actor.login)[-1][0] == "denied"
    assert not selfreport.is_locked(tablet.token)


# ---------------------------------------------------------------------------------------
# The citizen's ORS

def test_the_citizens_ors_is_saved_for_the_course_as_entered_by_the_staff_member(tablet: Tablet) -> None:
    open_mode(tablet)
    with db.write_session() as s:
        score = selfreport.save_ors(s, tablet.actor, login_token=tablet.token, items=ITEMS)
    with db.read_session() as s:
        stored = s.get(OrsScore, score.id)
        assert stored is not None
        assert (stored.course_id, stored.date, stored.session_no) == (tablet.course_id, clock.today(), 1)
        assert (stored.individual, stored.interpersonal, stored.social, stored.overall) == (62, 75, 48, 55)
        assert stored.entered_by == tablet.actor.user_id
        assert selfreport.is_used(s, tablet.token)
    assert ("created", "orsscore", "selvregistrering") in entries(tablet.actor.login)
    assert selfreport.is_locked(tablet.token)  # the "Tak" screen stays until the PIN


def test_an_opening_takes_one_ors_only(tablet: Tablet) -> None:
    open_mode(tablet)
    with db.write_session() as s:
        selfreport.save_ors(s, tablet.actor, login_token=tablet.token, items=ITEMS)
    refused(lambda s: selfreport.save_ors(s, tablet.actor, login_token=tablet.token, items=ITEMS),
            field="used", words=["allerede gemt"])


def test_an_opening_not_used_in_time_takes_no_ors(tablet: Tablet) -> None:
    mode = open_mode(tablet)
    late = mode.expires + timedelta(seconds=1)
    refused(lambda s: selfreport.save_ors(s, tablet.actor, login_token=tablet.token, items=ITEMS, now=late),
            field="expires", words=["tiden", "medarbejderen"])


def test_an_item_outside_the_scale_is_refused_without_a_trace(tablet: Tablet) -> None:
    open_mode(tablet)
    refused(lambda s: selfreport.save_ors(s, tablet.actor, login_token=tablet.token, items={**ITEMS, "social": 101}),
            field="social", words=["0 til 10"])


def test_without_an_open_mode_nothing_is_saved(tablet: Tablet) -> None:
    refused(lambda s: selfreport.save_ors(s, tablet.actor, login_token=tablet.token, items=ITEMS),
            field=None, words=["afsluttet"], error=NotFoundError)


# ---------------------------------------------------------------------------------------
# Leaving

def leave(tablet: Tablet, pin: str) -> str:
    with db.write_session() as s:
        return selfreport.leave(s, tablet.actor, login_token=tablet.token, pin=pin)


def test_leaving_needs_the_right_pin_and_a_wrong_one_is_refused_and_logged(tablet: Tablet) -> None:
    open_mode(tablet)
    assert leave(tablet, "0852") == "wrong"
    assert selfreport.is_locked(tablet.token)
    assert entries(tablet.actor.login)[-1] == ("denied", "selfreportsession", "selvregistrering: forkert PIN (1 af 5)")
    assert leave(tablet, "2580") == "left"
    assert not selfreport.is_locked(tablet.token)
    assert entries(tablet.actor.login)[-1] == ("changed", "selfreportsession", "selvregistrering afsluttet")


def test_too_many_wrong_pins_end_the_login_session(tablet: Tablet) -> None:
    open_mode(tablet)
    outcomes = [leave(tablet, "1357") for _ in range(selfreport.MAX_WRONG_PINS)]
    assert outcomes == ["wrong"] * (selfreport.MAX_WRONG_PINS - 1) + ["signed_out"]
    assert auth.resume(tablet.token) is None  # the tablet is at the login page, not in the app
    assert not selfreport.is_locked(tablet.token)
    assert entries(tablet.actor.login)[-1] == ("logout", "", "selvregistrering: for mange forkerte PIN-koder")


def test_a_course_deleted_takes_its_openings_with_it(tablet: Tablet) -> None:
    open_mode(tablet)
    with db.write_session() as s:
        s.exec(delete(LoginSession))
        s.exec(delete(Course).where(Course.id == tablet.course_id))
    with db.read_session() as s:
        assert s.exec(select(SelfReportSession)).all() == []


def test_a_refused_opening_keeps_the_one_already_open(tablet: Tablet) -> None:
    open_mode(tablet)
    refused(lambda s: selfreport.open_mode(s, tablet.actor, course_id=tablet.ended_course_id,
                                           login_token=tablet.token),
            field="course_id", words=["i gang i dag"])
    assert selfreport.is_locked(tablet.token)


# ---------------------------------------------------------------------------------------
# Another tablet, opened with a single-use code

def open_code(tablet: Tablet, **other: Any) -> tuple[SelfReportSession, str]:
    with db.write_session() as s:
        return selfreport.open_code(s, tablet.actor, course_id=other.pop("course_id", tablet.course_id), **other)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def leave_code_tablet(tablet_token: str, tablet: Tablet, pin: str) -> str:
    with db.write_session() as s:
        return selfreport.leave(s, tablet.actor, login_token=tablet_token, pin=pin)


def test_a_code_is_eight_characters_without_look_alikes_shown_in_two_halves(tablet: Tablet) -> None:
    codes = [open_code(tablet)[1] for _ in range(5)]
    for code in codes:
        assert len(code) == 8 and set(code) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        assert not set(code) & set("IO01")
    assert len(set(codes)) == 5
    assert selfreport.show_code("K7MP2QXA") == "K7MP-2QXA"


@pytest.mark.parametrize("typed", ["K7MP-2QXA", "k7mp2qxa", " k7mp 2qxa ", "K7MP - 2QXA"])
def test_a_code_is_read_in_any_case_with_or_without_its_dash_or_spaces(typed: str) -> None:
    assert selfreport.normalise_code(typed) == "K7MP2QXA"


@pytest.mark.parametrize("typed", ["", "K7MP-2QX", "K7MP-2QXAB", "K7MP-2QX0", "K7MP_2QXA", None, 12345678])
def test_a_code_of_the_wrong_length_or_with_other_characters_is_no_code(typed: object) -> None:
    assert selfreport.normalise_code(typed) is None


def test_the_link_is_the_apps_address_with_the_code(tablet: Tablet) -> None:
    assert selfreport.tablet_link("http://127.0.0.1:8501/ors", "K7MP2QXA") == \
        "http://127.0.0.1:8501/?selvregistrering=K7MP-2QXA"
    assert selfreport.tablet_link("https://fokus.faxe.dk/app/ors", "K7MP2QXA") == \
        "https://fokus.faxe.dk/app/?selvregistrering=K7MP-2QXA"
    assert selfreport.tablet_link("https://fokus.faxe.dk/", "K7MP2QXA") == \
        "https://fokus.faxe.dk/?selvregistrering=K7MP-2QXA"


def test_opening_a_code_stores_only_its_hash_and_locks_no_login_session(tablet: Tablet) -> None:
    mode, code = open_code(tablet)
    assert mode.code_hash == sha256(code) and mode.login_token_hash is None
    assert mode.expires - mode.created == timedelta(minutes=selfreport.OPEN_MINUTES)
    assert not selfreport.is_locked(tablet.token), "the staff member's own browser goes on as before"
    assert code not in repr(snapshot())
    assert entries(tablet.actor.login)[-1] == ("created", "selfreportsession", "selvregistrering åbnet med kode")


def test_a_code_is_refused_without_a_pin_for_an_ended_course_and_for_another_unit(unit_id: int,
                                                                                     tablet: Tablet) -> None:
    actor, _ = sign_in("uden-pin@faxe.dk", "staff")
    refused(lambda s: selfreport.open_code(s, actor, course_id=tablet.course_id), field="pin", words=["Min PIN"])
    refused(lambda s: selfreport.open_code(s, tablet.actor, course_id=tablet.ended_course_id),
            field="course_id", words=["i gang i dag"])
    with db.write_session() as s:
        other = svc.create_unit(s, SYSTEM, name="Anden enhed", municipality="Køge")
        referral = svc.register_referral(s, SYSTEM, unit_id=other.id, citizen_ref="K-1", birth_year=1980,
                                         received=days_ago(30), referrer="other", target_group="physical")
        course = svc.start_course(s, SYSTEM, referral_id=referral.id, start=days_ago(20), form="individual")
    with pytest.raises(PermissionDenied), db.write_session() as s:
        selfreport.open_code(s, tablet.actor, course_id=course.id)
    assert entries(tablet.actor.login)[-1][0] == "denied"
    with db.read_session() as s:
        assert s.exec(select(SelfReportSession)).all() == []


def test_redeeming_the_code_signs_the_tablet_in_as_the_opener_locked_to_the_self_report(tablet: Tablet) -> None:
    mode, code = open_code(tablet)
    actor, token = selfreport.redeem_code(selfreport.show_code(code).lower())
    assert (actor.login, actor.user_id, actor.role) == (tablet.actor.login, tablet.actor.user_id, "staff")
    assert selfreport.tablet_lock(token) == "locked" and selfreport.is_locked(token)
    assert selfreport.tablet_lock(tablet.token) is None
    with db.read_session() as s:
        login = s.exec(select(LoginSession).where(LoginSession.token_hash == sha256(token))).one()
        assert (login.user_id, login.method) == (tablet.actor.user_id, "selfreport")
        stored = s.get(SelfReportSession, mode.id)
        assert stored is not None and stored.login_token_hash == sha256(token)
    assert entries(tablet.actor.login)[-1] == ("login", "selfreportsession", "selvregistrering: tablet åbnet med kode")


def test_the_citizen_has_the_open_minutes_from_the_moment_the_tablet_redeems_the_code(tablet: Tablet) -> None:
    mode, code = open_code(tablet)
    later = mode.created + timedelta(minutes=10)
    _, token = selfreport.redeem_code(code, now=later)
    with db.read_session() as s:
        stored = s.get(SelfReportSession, mode.id)
        assert stored is not None
        expires = stored.expires if stored.expires.tzinfo else stored.expires.replace(tzinfo=later.tzinfo)  # SQLite
        assert expires == later + timedelta(minutes=selfreport.OPEN_MINUTES)


def test_on_a_code_tablet_the_citizen_saves_and_the_right_pin_ends_the_tablets_login(tablet: Tablet) -> None:
    _, code = open_code(tablet)
    actor, token = selfreport.redeem_code(code)
    with db.write_session() as s:
        score = selfreport.save_ors(s, actor, login_token=token, items=ITEMS)
    with db.read_session() as s:
        stored = s.get(OrsScore, score.id)
        assert stored is not None and (stored.course_id, stored.entered_by) == (tablet.course_id, tablet.actor.user_id)
    assert leave_code_tablet(token, tablet, "0852") == "wrong"
    assert selfreport.tablet_lock(token) == "locked" and auth.resume(token) is not None
    assert leave_code_tablet(token, tablet, "2580") == "ended"
    assert auth.resume(token) is None, "the tablet is at the login page, never a staff member's browser"
    assert selfreport.tablet_lock(token) is None
    assert auth.resume(tablet.token) is not None, "the staff member's own login goes on"
    assert entries(tablet.actor.login)[-5:] == [
        ("login", "selfreportsession", "selvregistrering: tablet åbnet med kode"),
        ("created", "orsscore", "selvregistrering"),
        ("denied", "selfreportsession", "selvregistrering: forkert PIN (1 af 5)"),
        ("changed", "selfreportsession", "selvregistrering afsluttet"),
        ("logout", "", "selvregistrering: tabletten er logget ud"),
    ]


def progress(tablet: Tablet, code: str, **other: Any) -> str:
    with db.read_session() as s:
        return selfreport.code_progress(s, other.pop("actor", tablet.actor), course_id=tablet.course_id, code=code,
                                        **other)


def test_the_staff_members_page_follows_a_code_from_waiting_to_saved(unit_id: int, tablet: Tablet) -> None:
    mode, code = open_code(tablet)
    assert progress(tablet, code) == "waiting"
    assert progress(tablet, code, now=mode.expires + timedelta(seconds=1)) == "ended"
    colleague, _ = sign_in("kollega@faxe.dk", "staff")
    assert progress(tablet, code, actor=colleague) == "ended", "another staff member's code tells a colleague nothing"
    actor, token = selfreport.redeem_code(code)
    assert progress(tablet, code) == "open"
    with db.write_session() as s:
        selfreport.save_ors(s, actor, login_token=token, items=ITEMS)
    assert progress(tablet, code) == "saved"
    assert leave_code_tablet(token, tablet, "2580") == "ended"
    assert progress(tablet, code) == "saved", "still saved after the tablet is left"
    _, replaced = open_code(tablet)
    open_code(tablet)
    assert progress(tablet, replaced) == "ended"
    outsider = Actor("leder@koege.dk", "leader", frozenset({unit_id + 1000}), tablet.actor.user_id)
    with pytest.raises(PermissionDenied), db.read_session() as s:
        selfreport.code_progress(s, outsider, course_id=tablet.course_id, code=replaced)


def test_too_many_wrong_pins_on_a_code_tablet_end_its_login(tablet: Tablet) -> None:
    _, code = open_code(tablet)
    _, token = selfreport.redeem_code(code)
    outcomes = [leave_code_tablet(token, tablet, "1357") for _ in range(selfreport.MAX_WRONG_PINS)]
    assert outcomes[-1] == "signed_out"
    assert auth.resume(token) is None


def refused_code(code: object, words: list[str], **other: Any) -> None:
    """Redeeming `code` fails with a message of these words; the one thing written is the denial."""
    before = snapshot()
    with pytest.raises(selfreport.CodeRefused) as caught:
        selfreport.redeem_code(code, **other)
    for word in words:
        assert word.lower() in caught.value.message.lower(), (word, caught.value.message)
    after = snapshot()
    assert {name: rows for name, rows in after.items() if name != "auditevent"} == \
        {name: rows for name, rows in before.items() if name != "auditevent"}
    assert len(after["auditevent"]) == len(before["auditevent"]) + 1
    with db.read_session() as s:
        denial = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert denial is not None and (denial.user_login, denial.action) == ("tablet", "denied")
    assert denial.detail.startswith("selvregistrering: ")


def test_a_code_is_used_once(tablet: Tablet) -> None:
    _, code = open_code(tablet)
    selfreport.redeem_code(code)
    refused_code(code, ["allerede brugt"])


@pytest.mark.parametrize("typed", ["", "ABCD", "ABCD-EFG1", "ABCD-EFGH"])
def test_an_unknown_or_malformed_code_is_refused(tablet: Tablet, typed: str) -> None:
    open_code(tablet)  # another code exists; this one is not it (8 random characters: never ABCDEFGH here)
    refused_code(typed, ["findes ikke"])


def test_an_expired_code_is_refused(tablet: Tablet) -> None:
    mode, code = open_code(tablet)
    refused_code(code, ["udløbet"], now=mode.expires + timedelta(seconds=1))


def test_a_newer_code_for_the_same_course_replaces_the_unused_one(unit_id: int, tablet: Tablet) -> None:
    _, first = open_code(tablet)
    with db.write_session() as s:
        referral = svc.register_referral(s, SYSTEM, unit_id=unit_id, citizen_ref="SAG-2003", birth_year=1980,
                                         received=days_ago(30), referrer="socialcenter", target_group="psychic")
        other_course = svc.start_course(s, SYSTEM, referral_id=referral.id, start=days_ago(20), form="group")
    _, for_other_course = open_code(tablet, course_id=other_course.id)
    _, second = open_code(tablet)
    refused_code(first, ["gælder ikke længere"])
    selfreport.redeem_code(second)
    selfreport.redeem_code(for_other_course)  # another citizen's code, opened meanwhile, still works


def test_a_code_is_refused_once_its_course_has_ended_or_its_opener_is_deactivated(tablet: Tablet) -> None:
    _, code = open_code(tablet)
    with db.write_session() as s:
        svc.end_course(s, SYSTEM, course_id=tablet.course_id, end=days_ago(1), end_reason="completed")
    refused_code(code, ["gælder ikke længere"])
    with db.write_session() as s:
        svc.reopen_course(s, SYSTEM, course_id=tablet.course_id, expected_version=None)
        user = s.get(User, tablet.actor.user_id)
        assert user is not None
        user.active = False
        s.add(user)
    refused_code(code, ["gælder ikke længere"])


def test_a_code_tablets_login_without_its_opening_is_stray_and_an_own_tablets_is_not(tablet: Tablet) -> None:
    _, code = open_code(tablet)
    _, token = selfreport.redeem_code(code)
    open_mode(tablet)
    with db.write_session() as s:
        s.exec(delete(SelfReportSession))  # as when the course is deleted
    assert selfreport.tablet_lock(token) == "stray"
    assert selfreport.tablet_lock(tablet.token) is None
    assert selfreport.tablet_lock("ukendt") is None and selfreport.tablet_lock(None) is None


def test_two_tablets_redeeming_one_code_at_once_sign_in_only_one(tablet: Tablet) -> None:
    _, code = open_code(tablet)
    results: list[str] = []

    def redeem() -> None:
        try:
            selfreport.redeem_code(code)
            results.append("in")
        except selfreport.CodeRefused:
            results.append("refused")

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["in", "refused"]
    with db.read_session() as s:
        assert len(s.exec(select(LoginSession).where(LoginSession.method == "selfreport")).all()) == 1
