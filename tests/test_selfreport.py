"""Tablet self-report (DESIGN §6), on SQLite and PostgreSQL: the staff PIN, opening the mode for one
course, the citizen's one ORS, and leaving only with the right PIN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import delete, select

from fokus import auth, clock, db, selfreport
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.errors import NotFoundError, PermissionDenied, ValidationError
from fokus.models import AuditEvent, Course, LoginSession, OrsScore, SelfReportSession, User
from tests.apptest_helpers import sign_in
from tests.test_rules import refused

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
