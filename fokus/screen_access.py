"""Revoking and renewing a meeting screen's access (issue 6): a leader for their units, an admin all.

A meeting screen is a user with the role "screen": it sees the Mødeskærm page alone and calls
no service function. It stays signed in while it refreshes itself (the page's own refresh
counts as activity), up to `session_max_hours`.

Rules decided here:
- "Tilbagekald" ends every login session of the screen user at once (the screen shows the login
  page at its next refresh, within a slide's time) and deactivates the account, so its password
  no longer signs anything in.
- "Forny" activates the account again with a new random password, shown once to the leader and
  kept only as a hash, and ends every login session it had: the screen is then signed in anew
  with that password on its login page. No link carries a secret: a URL ends up in browser
  history and proxy logs.
- A leader manages a screen user whose units are all among the leader's own; the administrator
  every screen user. Both are written to the audit log (never the password).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, func, select

from fokus import audit, auth
from fokus.actor import Actor
from fokus.errors import NotFoundError, PermissionDenied, ValidationError
from fokus.models import LoginSession, Unit, User, UserUnit

PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no l/1, o/0: typed on a screen's keyboard without mistakes
PASSWORD_GROUPS = 4  # four groups of four, e.g. "k7dm-x2qa-9fhe-tnw4": 80 bits


@dataclass(frozen=True)
class ScreenUser:
    user_id: int
    login: str
    active: bool
    units: tuple[str, ...]
    sessions: int  # login sessions open now
    last_seen: datetime | None  # the newest activity of any of them


def _units_of(session: Session, user_id: int) -> set[int]:
    return set(session.exec(select(UserUnit.unit_id).where(UserUnit.user_id == user_id)).all())


def _may_manage(session: Session, actor: Actor, user: User) -> bool:
    if actor.unit_ids is None:
        return True
    units = _units_of(session, user.id or 0)
    return bool(units) and units <= actor.unit_ids


def screen_users(session: Session, actor: Actor) -> list[ScreenUser]:
    """The screen users the actor manages, by login."""
    actor.require_role("admin", "leader", what="mødeskærmenes adgang")
    names = {unit.id: unit.name for unit in session.exec(select(Unit)).all()}
    found = []
    for user in session.exec(select(User).where(User.role == "screen").order_by(col(User.login))).all():
        if user.id is None or not _may_manage(session, actor, user):
            continue
        count, last = session.exec(
            select(func.count(), func.max(LoginSession.last_seen)).where(LoginSession.user_id == user.id)).one()
        found.append(ScreenUser(user.id, user.login, user.active,
                                tuple(sorted(names.get(u, "?") for u in _units_of(session, user.id))),
                                int(count), last))
    return found


def _screen_user(session: Session, actor: Actor, user_id: int) -> User:
    actor.require_role("admin", "leader", what="mødeskærmenes adgang")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.role != "screen":
        raise NotFoundError("Mødeskærmen findes ikke.")
    if not _may_manage(session, actor, user):
        raise PermissionDenied("Mødeskærmen hører til en enhed, du ikke har adgang til.", actor=actor,
                               what=f"mødeskærm {user_id}")
    return user


def _end_sessions(session: Session, user: User) -> int:
    return int(session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user.id)).rowcount or 0)


def revoke(session: Session, actor: Actor, *, user_id: int) -> int:
    """End every login session of the screen user and deactivate it; the number of sessions ended."""
    user = _screen_user(session, actor, user_id)
    ended = _end_sessions(session, user)
    user.active = False
    user.version += 1
    session.add(user)
    audit.record(session, actor, "changed", "user", user.id,
                 detail=f"{user.login}: mødeskærm tilbagekaldt, {ended} login-sessioner afsluttet")
    return ended


def new_password(login: str) -> str:
    while True:
        groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(PASSWORD_GROUPS))
        password = "-".join(groups)
        try:
            return auth.check_password_rules(password, login)
        except ValidationError:  # too few distinct characters, or the login in it: vanishingly rare
            continue


def renew(session: Session, actor: Actor, *, user_id: int) -> str:
    """A new password for the screen user (returned once, stored as a hash), the account active,
    every earlier login session ended."""
    user = _screen_user(session, actor, user_id)
    password = new_password(user.login)
    user.password_hash = auth.hash_password(password)
    user.active = True
    user.failed_logins, user.locked_until = 0, None
    user.version += 1
    session.add(user)
    ended = _end_sessions(session, user)
    audit.record(session, actor, "changed", "user", user.id,
                 detail=f"{user.login}: mødeskærm fornyet med ny adgangskode, {ended} login-sessioner afsluttet")
    return password
