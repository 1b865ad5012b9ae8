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

On another tablet, one that nobody is signed in to: the staff member opens the self-report with
`open_code` and gets a single-use code (8 characters from an alphabet without look-alikes, shown
as ABCD-EFGH) and a link (`?selvregistrering=CODE`), valid `OPEN_MINUTES`. Only the code's
SHA-256 is stored. The tablet redeems it once (`redeem_code`, from the login page): that creates
a login session of the staff member with method `LOGIN_METHOD`, locked to the opening from its
first moment, and the browser is signed in with it as after a normal login (same cookie), so a
reload stays on the self-report. The citizen then has `OPEN_MINUTES` from the redeeming. The
right PIN closes the opening and ends that login session at once: the tablet returns to the
login page and never becomes a staff member's browser. A login session of that method without
an open opening (its course deleted, say) is ended on sight (`tablet_lock`, asked by `app.py`).
A wrong, expired or used code is refused with one Danish message each and logged as "denied"
under the login `TABLET_LOGIN`.
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
from fokus.errors import FokusError, NotFoundError, ValidationError
from fokus.models import AuditEvent, Citizen, Course, LoginSession, OrsScore, SelfReportSession, User

PAGE = "pages/selvregistrering.py"
RETURN_COURSE_KEY = "fokus_selfreport_course"  # session state: the course the ORS page shows after leaving
OPEN_MINUTES = 15  # how long an opening takes its one ORS
CODE_POLL_SECONDS = 4  # how often the staff member's page looks up how far the tablet has come
MAX_WRONG_PINS = 5  # wrong PINs before the login session ends
KEEP_CLOSED = timedelta(days=1)  # closed openings are deleted after this
AUDIT_DETAIL = "selvregistrering"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I/1, O/0: read aloud or typed without mistakes
CODE_LENGTH = 8
CODE_PARAM = "selvregistrering"  # the link's query parameter
LOGIN_METHOD = "selfreport"  # `LoginSession.method` of a tablet signed in by a code
TABLET_LOGIN = "tablet"  # the audit log's name for a tablet that offered a code

Leaving = Literal["left", "ended", "wrong", "signed_out"]
TabletLock = Literal["locked", "stray"]


class CodeRefused(FokusError):
    """A code that opens nothing: unknown, expired, used, or no longer valid."""

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

def _running_today(course: Course) -> bool:
    day = today()
    return course.start <= day and (course.end is None or course.end >= day)


def _opening(session: Session, actor: Actor, course_id: int) -> tuple[Course, User]:
    """The course and the opener, when the actor may open a self-report for it now."""
    course = session.get(Course, course_id) if isinstance(course_id, int) else None
    if course is None:
        raise NotFoundError("Forløbet findes ikke (længere). Genindlæs siden.")
    actor.require_writer(course.unit_id)
    user = _user(session, actor)
    if not user.pin_hash:
        raise ValidationError("Sæt din PIN under »Min PIN« først: den skal bruges for at forlade selvregistreringen.",
                              "pin")
    if not _running_today(course):
        raise ValidationError("Selvregistrering kan kun åbnes for et forløb, der er i gang i dag.", "course_id")
    return course, user


def open_mode(
    session: Session, actor: Actor, *, course_id: int, login_token: str | None, now: datetime | None = None
) -> SelfReportSession:
    """Lock the actor's login session to the self-report page for one course."""
    course, user = _opening(session, actor, course_id)
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


# ---------------------------------------------------------------------------------------
# Opening on another tablet: a single-use code

def normalise_code(text: object) -> str | None:
    """The code as stored, from what was typed: any case, with or without a dash or spaces."""
    if not isinstance(text, str):
        return None
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code


def show_code(code: str) -> str:
    """ABCDEFGH as ABCD-EFGH: two halves are easier to read aloud and to type."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def tablet_link(page_url: str, code: str, *, page: str = "ors") -> str:
    """The link to the app with the code, from the address of the page the staff member is on.

    The page's own path segment (`/ors`) is dropped; a base path the app is served under stays."""
    base = page_url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if base.endswith(f"/{page}"):
        base = base[: -len(page) - 1]
    return f"{base}/?{CODE_PARAM}={show_code(code)}"


def open_code(
    session: Session, actor: Actor, *, course_id: int, now: datetime | None = None
) -> tuple[SelfReportSession, str]:
    """Open the self-report for one course on a tablet nobody is signed in to: the opening and its code.

    An earlier code of the same staff member for the same course that no tablet has used yet
    stops working: the newest code given to the citizen is the one that counts."""
    course, user = _opening(session, actor, course_id)
    now = now or now_utc()
    session.exec(delete(SelfReportSession).where(
        col(SelfReportSession.created_by) == user.id,
        (col(SelfReportSession.closed) < now - KEEP_CLOSED)
        | (col(SelfReportSession.login_token_hash).is_(None) & (col(SelfReportSession.expires) < now - KEEP_CLOSED))))
    for earlier in session.exec(select(SelfReportSession).where(
            SelfReportSession.created_by == user.id, SelfReportSession.course_id == course.id,
            col(SelfReportSession.login_token_hash).is_(None), col(SelfReportSession.closed).is_(None))):
        earlier.closed = now
        earlier.version += 1
        session.add(earlier)
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(SelfReportSession.id).where(SelfReportSession.code_hash == _token_hash(code))).first() \
                is None:
            break
    mode = SelfReportSession(code_hash=_token_hash(code), course_id=course.id, created_by=user.id,
                             created=now, expires=now + timedelta(minutes=OPEN_MINUTES))
    session.add(mode)
    session.flush()
    audit.record(session, actor, "created", "selfreportsession", mode.id,
                 citizen=session.get(Citizen, course.citizen_id), detail=f"{AUDIT_DETAIL} åbnet med kode")
    return mode, code


CodeProgress = Literal["waiting", "open", "saved", "ended"]


def code_progress(session: Session, actor: Actor, *, course_id: int, code: str,
                  now: datetime | None = None) -> CodeProgress:
    """How far the opening behind `code` (this staff member's, for this course) has come: "waiting" for a
    tablet, "open" on one, "saved" (the citizen's ORS is saved), or "ended" unused (expired, closed, or
    replaced by a newer code). It reads the opening alone, nothing of the citizen's."""
    course = session.get(Course, course_id) if isinstance(course_id, int) else None
    if course is None:
        raise NotFoundError("Forløbet findes ikke (længere). Genindlæs siden.")
    actor.require_writer(course.unit_id)
    user = _user(session, actor)
    mode = session.exec(select(SelfReportSession).where(
        SelfReportSession.code_hash == _token_hash(str(code)), SelfReportSession.course_id == course.id,
        SelfReportSession.created_by == user.id)).first()
    if mode is not None and mode.used is not None:
        return "saved"
    if mode is None or mode.closed is not None or (now or now_utc()) > _aware(mode.expires):
        return "ended"
    return "waiting" if mode.login_token_hash is None else "open"


def _refusal(session: Session, mode: SelfReportSession | None, now: datetime) -> tuple[str, str] | None:
    """Why this code opens nothing (the message, the audit detail), or None when it opens the mode."""
    if mode is None:
        return "Koden findes ikke. Tjek den, eller bed medarbejderen om en ny.", "ukendt kode"
    if mode.login_token_hash is not None:
        return "Koden er allerede brugt. Bed medarbejderen om en ny.", "kode allerede brugt"
    if now > _aware(mode.expires):
        return "Koden er udløbet. Bed medarbejderen om en ny.", "kode udløbet"
    user = session.get(User, mode.created_by)
    course = session.get(Course, mode.course_id)
    if mode.closed is not None or user is None or not user.active or course is None or not _running_today(course):
        return "Koden gælder ikke længere. Bed medarbejderen om en ny.", "kode gælder ikke længere"
    return None


def redeem_code(code: object, *, now: datetime | None = None) -> tuple[Actor, str]:
    """Sign a tablet in to the self-report that `code` opened: the opener and the new login token.

    Used once. Refusals raise CodeRefused after their "denied" entry is committed (so this
    opens its own transaction, as `fokus.auth.login` does)."""
    now = now or now_utc()
    normalised = normalise_code(code)
    with db.write_session() as session:
        mode = session.exec(select(SelfReportSession).where(
            SelfReportSession.code_hash == _token_hash(normalised)).with_for_update()).first() if normalised else None
        refusal = _refusal(session, mode, now)
        if refusal is not None:
            audit.record(session, Actor(TABLET_LOGIN, "none", frozenset()), "denied", "selfreportsession",
                         mode.id if mode else None, detail=f"{AUDIT_DETAIL}: {refusal[1]}")
            outcome: tuple[Actor, str] | None = None
        else:
            user = session.get(User, mode.created_by) if mode else None
            assert mode is not None and user is not None  # `_refusal` has seen both
            token = secrets.token_urlsafe(32)
            session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, method=LOGIN_METHOD,
                                     created=now, last_seen=now))
            mode.login_token_hash = _token_hash(token)
            mode.expires = now + timedelta(minutes=OPEN_MINUTES)
            mode.version += 1
            session.add(mode)
            actor = auth.actor_for(session, user)
            course = session.get(Course, mode.course_id)
            audit.record(session, actor, "login", "selfreportsession", mode.id,
                         citizen=session.get(Citizen, course.citizen_id) if course else None,
                         detail=f"{AUDIT_DETAIL}: tablet åbnet med kode")
            outcome = actor, token
    if outcome is None:
        raise CodeRefused(refusal[0] if refusal else "", "code")
    return outcome


def tablet_lock(login_token: str | None) -> TabletLock | None:
    """For `app.py`, on every run: "locked" shows the self-report page alone; "stray" is a tablet's
    login session whose opening is gone, to be ended at once; None is an ordinary login session."""
    if not isinstance(login_token, str) or not login_token:
        return None
    with db.read_session() as session:
        if active_mode(session, login_token) is not None:
            return "locked"
        method = session.exec(select(LoginSession.method).where(
            LoginSession.token_hash == _token_hash(login_token))).first()
        return "stray" if method == LOGIN_METHOD else None


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
    return tablet_lock(login_token) == "locked"


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

    "left": the mode is closed (the staff member's own tablet goes back to the app). "ended":
    the mode is closed and, as the tablet was signed in by a code, its login session has ended;
    the caller signs the browser out. "wrong": refused and logged; the caller's transaction must
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
        login = session.exec(select(LoginSession).where(LoginSession.token_hash == mode.login_token_hash)).first()
        if login is None or login.method != LOGIN_METHOD:
            return "left"
        session.delete(login)
        audit.record(session, actor, "logout", detail=f"{AUDIT_DETAIL}: tabletten er logget ud")
        return "ended"
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
