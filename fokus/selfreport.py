"""Tablet self-report (DESIGN §6): a citizen marks the four ORS lines on a tablet themselves.

A staff member opens it for one course from the ORS page, on their own signed-in tablet. From
then on their login session (the SHA-256 of its token, as `LoginSession` keeps it) is locked to
the self-report page: `app.py` asks `is_locked` on every run and shows nothing else, no menu and
no data about anyone, also after a reload or in a new tab (the cookie finds the same login
session). The opening takes one ORS, within `OPEN_MINUTES`; it is recorded as entered by the
staff member, with "selvregistrering" in the audit entry. The tablet then shows a neutral
"Tak" screen until the staff member leaves the mode with their own 4–6 digit PIN.

A wrong PIN is refused and logged; after `MAX_WRONG_PINS` wrong PINs the login session ends, so
guessing leads to the login page, never into the app. The PIN is hashed with argon2 like the
passwords, and is set by each staff member for themselves.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from fokus import audit, auth, db, services
from fokus.actor import WRITER_ROLES, Actor
from fokus.clock import now_utc, today
from fokus.errors import NotFoundError, ValidationError
from fokus.models import AuditEvent, Citizen, Course, LoginSession, OrsScore, SelfReportSession, User

PAGE = "pages/selvregistrering.py"
RETURN_COURSE_KEY = "fokus_selfreport_course"  # session state: the course the ORS page shows after leaving
OPEN_MINUTES = 15  # how long an opening takes its one ORS
MAX_WRONG_PINS = 5  # wrong PINs before the login session ends
KEEP_CLOSED = timedelta(days=1)  # closed openings are deleted after this
AUDIT_DETAIL = "selvregistrering"

Leaving = Literal["left", "wrong", "signed_out"]

_hasher = PasswordHasher()
_PIN = re.compile(r"^\d{4,6}$")


def _token_hash(token: str) -> str:
    # As `fokus.auth` stores login sessions, so that a mode is found from the session's token.
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=now_utc().tzinfo)


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFoundError("Din bruger findes ikke (længere). Log ind igen.")
    return user


# ---------------------------------------------------------------------------------------
# The staff member's PIN

def check_pin_rules(pin: object) -> str:
    """4–6 digits, not one digit repeated and not a straight run like 1234 or 9876."""
    text = pin.strip() if isinstance(pin, str) else ""
    if not _PIN.match(text):
        raise ValidationError("PIN skal være 4–6 cifre.", "pin")
    steps = {int(b) - int(a) for a, b in zip(text, text[1:], strict=False)}
    if steps in ({0}, {1}, {-1}):
        raise ValidationError("PIN er for let at gætte (fx 1111 eller 1234): vælg andre cifre.", "pin")
    return text


def set_pin(session: Session, actor: Actor, *, pin: str, repeated: str) -> None:
    """Set the signed-in user's own PIN (typed twice); only those who may open a self-report need one."""
    actor.require_role(*WRITER_ROLES, what="PIN til selvregistrering")
    user = _user(session, actor)
    new = check_pin_rules(pin)
    if (repeated or "").strip() != new:
        raise ValidationError("De to PIN-koder er ikke ens: skriv den samme to gange.", "repeated")
    user.pin_hash = auth.hash_password(new)
    user.version += 1
    session.add(user)
    audit.record(session, actor, "changed", "user", user.id, detail="PIN til selvregistrering sat")


def has_pin(session: Session, actor: Actor) -> bool:
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    return bool(user and user.pin_hash)


def _pin_matches(user: User, pin: object) -> bool:
    if not user.pin_hash or not isinstance(pin, str) or not pin.strip():
        return False
    try:
        return _hasher.verify(user.pin_hash, pin.strip())
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------------------------------
# Opening, the one save, leaving

def open_mode(
    session: Session, actor: Actor, *, course_id: int, login_token: str | None, now: datetime | None = None
) -> SelfReportSession:
    """Lock the actor's login session to the self-report page for one course."""
    course = session.get(Course, course_id) if isinstance(course_id, int) else None
    if course is None:
        raise NotFoundError("Forløbet findes ikke (længere). Genindlæs siden.")
    actor.require_writer(course.unit_id)
    user = _user(session, actor)
    if not user.pin_hash:
        raise ValidationError("Sæt din PIN under »Min PIN« først: den skal bruges for at forlade selvregistreringen.",
                              "pin")
    day = today()
    if course.start > day or (course.end is not None and course.end < day):
        raise ValidationError("Selvregistrering kan kun åbnes for et forløb, der er i gang i dag.", "course_id")
    token_hash = _token_hash(login_token) if login_token else None
    login = session.exec(select(LoginSession).where(LoginSession.token_hash == token_hash)).first() \
        if token_hash else None
    if login is None or login.user_id != user.id:
        raise ValidationError("Din login-session er udløbet: log ind igen, og åbn selvregistreringen igen.", "login")
    now = now or now_utc()
    session.exec(delete(SelfReportSession).where(
        col(SelfReportSession.created_by) == user.id, col(SelfReportSession.closed) < now - KEEP_CLOSED))
    for earlier in session.exec(select(SelfReportSession).where(
            SelfReportSession.login_token_hash == token_hash, col(SelfReportSession.closed).is_(None))):
        earlier.closed = now
        earlier.version += 1
        session.add(earlier)
    mode = SelfReportSession(
        code_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(), course_id=course.id, created_by=user.id,
        login_token_hash=token_hash, created=now, expires=now + timedelta(minutes=OPEN_MINUTES),
    )
    session.add(mode)
    session.flush()
    audit.record(session, actor, "created", "selfreportsession", mode.id,
                 citizen=session.get(Citizen, course.citizen_id), detail=f"{AUDIT_DETAIL} åbnet")
    return mode


def active_mode(session: Session, login_token: str | None) -> SelfReportSession | None:
    """The opening the login session with this token is locked to, if any."""
    if not isinstance(login_token, str) or not login_token:
        return None
    return session.exec(
        select(SelfReportSession)
        .where(SelfReportSession.login_token_hash == _token_hash(login_token),
               col(SelfReportSession.closed).is_(None))
        .order_by(col(SelfReportSession.id).desc())
    ).first()


def is_locked(login_token: str | None) -> bool:
    """For `app.py`, on every run: is this login session in self-report mode?"""
    if not isinstance(login_token, str) or not login_token:
        return False
    with db.read_session() as session:
        return active_mode(session, login_token) is not None


def save_ors(
    session: Session, actor: Actor, *, login_token: str | None, items: dict[str, int], now: datetime | None = None
) -> OrsScore:
    """The citizen's ORS, dated today, entered by the staff member who opened the mode."""
    mode = active_mode(session, login_token)
    if mode is None:
        raise NotFoundError("Selvregistreringen er afsluttet. Giv tabletten tilbage til medarbejderen.")
    if mode.used is not None:
        raise ValidationError("Svarene er allerede gemt. Giv tabletten tilbage til medarbejderen.", "used")
    now = now or now_utc()
    if now > _aware(mode.expires):
        raise ValidationError("Tiden til selvregistreringen er gået. Giv tabletten tilbage til medarbejderen.",
                              "expires")
    score = services.add_ors(session, actor, course_id=mode.course_id, day=today(), items=items)
    # add_ors wrote the "created" entry in this transaction: it says how the score was entered.
    entry = session.exec(select(AuditEvent).where(
        AuditEvent.table_name == "orsscore", AuditEvent.row_id == score.id, AuditEvent.action == "created")).one()
    entry.detail = AUDIT_DETAIL
    mode.used = now
    mode.version += 1
    session.add(mode)
    return score


def is_used(session: Session, login_token: str | None) -> bool:
    mode = active_mode(session, login_token)
    return mode is not None and mode.used is not None


def leave(
    session: Session, actor: Actor, *, login_token: str | None, pin: str, now: datetime | None = None
) -> Leaving:
    """Leave the mode with the signed-in staff member's PIN.

    "left": the mode is closed. "wrong": refused and logged; the caller's transaction must
    commit (so this returns rather than raises). "signed_out": the last allowed wrong PIN; the
    login session has ended and the caller signs the browser out.
    """
    mode = active_mode(session, login_token)
    if mode is None:
        return "left"
    user = _user(session, actor)
    now = now or now_utc()
    if _pin_matches(user, pin):
        mode.closed = now
        mode.version += 1
        session.add(mode)
        audit.record(session, actor, "changed", "selfreportsession", mode.id, detail=f"{AUDIT_DETAIL} afsluttet")
        return "left"
    mode.failed_pins += 1
    mode.version += 1
    session.add(mode)
    audit.record(session, actor, "denied", "selfreportsession", mode.id,
                 detail=f"{AUDIT_DETAIL}: forkert PIN ({mode.failed_pins} af {MAX_WRONG_PINS})")
    if mode.failed_pins < MAX_WRONG_PINS:
        return "wrong"
    mode.closed = now
    session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == mode.login_token_hash))
    audit.record(session, actor, "logout", detail=f"{AUDIT_DETAIL}: for mange forkerte PIN-koder")
    return "signed_out"
