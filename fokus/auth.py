"""Signing in: local accounts with argon2 hashes, lock-out, and server-side login sessions.

A login session is a random token that the browser keeps in an HttpOnly cookie (see
`fokus.web`); the database stores only the token's SHA-256, so a stolen backup cannot be used to
sign in. A session ends at logout, after `idle_timeout_minutes` without a click, after
`session_max_hours` in all, or when the user is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, func, select

from fokus import audit, db, settings
from fokus import validate as v
from fokus.actor import ROLES, Actor
from fokus.clock import now_utc
from fokus.cpr import looks_like_cpr
from fokus.errors import FokusError, NotFoundError, ValidationError
from fokus.models import LoginSession, Staff, Unit, User, UserUnit

_hasher = PasswordHasher()
# Verified against when the login is unknown, so that a wrong login takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("fokus-dummy-password-for-timing")
MIN_PASSWORD_LENGTH = 12
# Don't write last_seen on every click: once a minute is exact enough for a 30-minute timeout.
TOUCH_EVERY = timedelta(seconds=60)


class LoginRefused(FokusError):
    """Wrong login or password, a locked or deactivated account: one message for all."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: object, login: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Adgangskoden skal være mindst {MIN_PASSWORD_LENGTH} tegn.", "password")
    if login.lower() in password.lower():
        raise ValidationError("Adgangskoden må ikke indeholde brugernavnet.", "password")
    if len(set(password)) < 5:
        raise ValidationError("Adgangskoden er for ensformig: brug flere forskellige tegn.", "password")
    return password


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=now_utc().tzinfo)


def actor_for(session: Session, user: User) -> Actor:
    if user.role == "admin":
        units: frozenset[int] | None = None
    else:
        units = frozenset(session.exec(select(UserUnit.unit_id).where(UserUnit.user_id == user.id)).all())
    return Actor(login=user.login, role=user.role, unit_ids=units, user_id=user.id)


def _open(session: Session, user: User, method: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, method=method))
    return token


def login(login_name: str, password: str, *, now: datetime | None = None) -> tuple[Actor, str]:
    """Check a local login; return the actor and a new session token, or raise LoginRefused.

    Every attempt is logged. After `max_failed_logins` wrong passwords in a row the account is
    locked for `lockout_minutes`, also against the right password.
    """
    now = now or now_utc()
    name = (login_name or "").strip().lower()
    if looks_like_cpr(name):  # never let a CPR number typed as a login reach the log
        name = ""
    refused = LoginRefused("Forkert brugernavn eller adgangskode, eller kontoen er spærret.")
    with db.write_session() as session:
        user = session.exec(select(User).where(func.lower(User.login) == name)).first() if name else None
        if user is None or not user.password_hash:
            _verify(_DUMMY_HASH, password or "")
            audit.record(session, Actor(name[:120] or "?", "none", frozenset()), "login_failed",
                         detail="ukendt bruger")
            outcome: tuple[Actor, str] | None = None
        elif not user.active:
            _verify(user.password_hash, password or "")
            audit.record(session, actor_for(session, user), "login_failed", detail="deaktiveret konto")
            outcome = None
        elif user.locked_until is not None and _aware(user.locked_until) > now:
            _verify(user.password_hash, password or "")
            audit.record(session, actor_for(session, user), "login_failed", detail="spærret konto")
            outcome = None
        elif not _verify(user.password_hash, password or ""):
            user.failed_logins += 1
            user.locked_until = None  # a lock that has run out is over: don't report it as current
            if user.failed_logins >= settings.get(session, "max_failed_logins"):
                user.locked_until = now + timedelta(minutes=settings.get(session, "lockout_minutes"))
                user.failed_logins = 0
            session.add(user)
            audit.record(session, actor_for(session, user), "login_failed",
                         detail="forkert adgangskode" + ("; kontoen er spærret" if user.locked_until else ""))
            outcome = None
        else:
            user.failed_logins, user.locked_until = 0, None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            session.add(user)
            actor = actor_for(session, user)
            audit.record(session, actor, "login", detail="adgangskode")
            outcome = actor, _open(session, user, "password")
    if outcome is None:
        raise refused
    return outcome


def login_oidc(email: str) -> tuple[Actor, str]:
    """A user signed in by the municipality's identity provider: match them to a fokus user."""
    name = (email or "").strip().lower()
    with db.write_session() as session:
        user = session.exec(select(User).where(func.lower(User.login) == name)).first() if name else None
        if user is None or not user.active:
            audit.record(session, Actor(name[:120] or "?", "none", frozenset()), "login_failed",
                         detail="OIDC: ingen aktiv bruger i fokus")
            outcome: tuple[Actor, str] | None = None
        else:
            actor = actor_for(session, user)
            audit.record(session, actor, "login", detail="OpenID Connect")
            outcome = actor, _open(session, user, "oidc")
    if outcome is None:
        raise LoginRefused(
            f"{email} er ikke oprettet som aktiv bruger i fokus. Bed en administrator om adgang."
        )
    return outcome


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def resume(token: str | None, *, touch: bool = True, now: datetime | None = None) -> Actor | None:
    """The actor of a live session, or None when the token is unknown, idle too long or expired."""
    if not isinstance(token, str) or not token:
        return None
    now = now or now_utc()
    with db.write_session() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == _token_hash(token))).first()
        if row is None:
            return None
        user = session.get(User, row.user_id)
        idle = timedelta(minutes=settings.get(session, "idle_timeout_minutes"))
        longest = timedelta(hours=settings.get(session, "session_max_hours"))
        if (user is None or not user.active or now - _aware(row.last_seen) > idle
                or now - _aware(row.created) > longest):
            session.delete(row)
            if user is not None:
                audit.record(session, actor_for(session, user), "logout", detail="udløbet")
            return None
        if touch and now - _aware(row.last_seen) >= min(TOUCH_EVERY, idle / 10):
            row.last_seen = now
            session.add(row)
        return actor_for(session, user)


def seconds_left(token: str | None, *, now: datetime | None = None) -> float:
    """How long the session has before it ends, idle or at its longest (0 when it has ended). Reads only."""
    if not isinstance(token, str) or not token:
        return 0.0
    now = now or now_utc()
    with db.read_session() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == _token_hash(token))).first()
        if row is None:
            return 0.0
        idle = timedelta(minutes=settings.get(session, "idle_timeout_minutes"))
        longest = timedelta(hours=settings.get(session, "session_max_hours"))
        ends = min(_aware(row.last_seen) + idle, _aware(row.created) + longest)
        return max(0.0, (ends - now).total_seconds())


def logout(token: str | None, actor: Actor | None) -> None:
    if not token:
        return
    with db.write_session() as session:
        found = session.exec(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        if actor is not None and found.rowcount:
            audit.record(session, actor, "logout")


# ---------------------------------------------------------------------------------------
# User administration (administrators only)

def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise NotFoundError("Brugeren findes ikke.")
    return user


def _set_units(session: Session, user: User, unit_ids: list[int]) -> None:
    known = set(session.exec(select(Unit.id)).all())
    unknown = set(unit_ids) - known
    if unknown:
        raise ValidationError("Vælg enheder fra listen.", "unit_ids")
    if user.role != "admin" and not unit_ids:
        raise ValidationError("Vælg mindst én enhed, brugeren skal arbejde i.", "unit_ids")
    session.exec(delete(UserUnit).where(UserUnit.user_id == user.id))
    for unit_id in sorted(set(unit_ids)):
        session.add(UserUnit(user_id=user.id, unit_id=unit_id))


def _check_staff(session: Session, staff_id: int | None, unit_ids: list[int]) -> None:
    if staff_id is None:
        return
    staff = session.get(Staff, staff_id) if isinstance(staff_id, int) else None
    if staff is None or staff.unit_id not in unit_ids:
        raise ValidationError("Vælg en medarbejder fra en af brugerens enheder.", "staff_id")


def create_user(
    session: Session,
    actor: Actor,
    *,
    login: str,
    role: str,
    password: str | None,
    unit_ids: list[int],
    staff_id: int | None = None,
) -> User:
    """A new account. `password` may be None for users who sign in through OpenID Connect."""
    actor.require_role("admin", what="brugeradministration")
    name = v.required_text(login, "login", "Brugernavn", max_length=120).lower()
    role_ = v.code(role, {role: role for role in ROLES}, "role", "Rolle")
    if session.exec(select(User).where(func.lower(User.login) == name)).first():
        raise ValidationError(f"Brugernavnet {name} findes allerede.", "login")
    hashed = hash_password(check_password_rules(password, name)) if password is not None else None
    user = User(login=name, role=role_, password_hash=hashed)
    session.add(user)
    session.flush()
    _set_units(session, user, unit_ids)
    _check_staff(session, staff_id, unit_ids)
    user.staff_id = staff_id
    audit.record(session, actor, "created", "user", user.id, detail=f"{name} ({role_})")
    return user


def update_user(
    session: Session,
    actor: Actor,
    *,
    user_id: int,
    role: str,
    unit_ids: list[int],
    staff_id: int | None,
    active: bool,
    expected_version: int | None = None,
) -> User:
    actor.require_role("admin", what="brugeradministration")
    user = _user(session, user_id)
    if expected_version is not None and user.version != expected_version:
        from fokus.errors import ConflictError

        raise ConflictError("Brugeren er ændret af en anden imens: genindlæs og prøv igen.")
    if user.id == actor.user_id and (not active or role != "admin"):
        raise ValidationError("Du kan ikke fjerne din egen administratoradgang.", "role")
    user.role = v.code(role, {role: role for role in ROLES}, "role", "Rolle")
    user.active = v.boolean(active, "active", "Aktiv")
    _set_units(session, user, unit_ids)
    _check_staff(session, staff_id, unit_ids)
    user.staff_id = staff_id
    user.version += 1
    session.add(user)
    if not user.active:
        session.exec(delete(LoginSession).where(LoginSession.user_id == user.id))
    audit.record(session, actor, "changed", "user", user.id,
                 detail=f"{user.login}: rolle {user.role}, {'aktiv' if user.active else 'deaktiveret'}")
    return user


def reset_password(session: Session, actor: Actor, *, user_id: int, password: str) -> None:
    """Set a new password (administrators for anyone; everyone for themselves) and end their sessions."""
    if actor.user_id is None or actor.user_id != user_id:  # before the lookup: no probing for user ids
        actor.require_role("admin", what="brugeradministration")
    user = _user(session, user_id)
    user.password_hash = hash_password(check_password_rules(password, user.login))
    user.failed_logins, user.locked_until = 0, None
    user.version += 1
    session.add(user)
    session.exec(delete(LoginSession).where(LoginSession.user_id == user.id))
    audit.record(session, actor, "changed", "user", user.id, detail=f"{user.login}: ny adgangskode")


def list_users(session: Session, actor: Actor) -> list[dict[str, object]]:
    actor.require_role("admin", what="brugeradministration")
    units = {u.id: u.name for u in session.exec(select(Unit)).all()}
    staff = {s.id: f"{s.name} ({s.initials})" for s in session.exec(select(Staff)).all()}
    links: dict[int, list[str]] = {}
    for link in session.exec(select(UserUnit)).all():
        links.setdefault(link.user_id, []).append(units.get(link.unit_id, "?"))
    return [
        {"id": user.id, "login": user.login, "role": user.role, "active": user.active,
         "units": sorted(links.get(user.id or 0, [])), "staff": staff.get(user.staff_id) if user.staff_id else None,
         "locked": user.locked_until is not None and _aware(user.locked_until) > now_utc(),
         "version": user.version, "staff_id": user.staff_id}
        for user in session.exec(select(User).order_by(col(User.login))).all()
    ]
