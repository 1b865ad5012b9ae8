"""Reading the audit log: the leader's search, a citizen's own extract, and the purge (DESIGN §8).

Who sees what. An administrator sees every entry. A leader sees
- every entry of their own units (an entry about a citizen carries the citizen's unit);
- of the entries that belong to no unit: their own; logins, logouts, failed logins and refusals
  of users who work in one of their units (so the leader can follow their staff's access); and
  every purge of the log (a purge names no citizen, only how many entries went).
Entries of other units, and unit-less entries of other users, stay hidden.

Reading the log is itself a use of citizens' data: a search by citizen reference is logged as
"searched" (once per user, reference and browser session, DESIGN §8), and a citizen's extract as
"exported". The reference a user searched for is kept only in `citizen_ref`, never in `detail`, so
that deleting the citizen later replaces it with the neutral token like every other reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from fokus import audit, codes, fmt, settings
from fokus import validate as v
from fokus.actor import Actor
from fokus.clock import COPENHAGEN, add_months
from fokus.errors import NotFoundError, ValidationError
from fokus.models import AuditEvent, Citizen, Unit, User, UserUnit

READERS = ("admin", "leader")
# Unit-less entries a leader sees for the users of their units.
ACCESS_ACTIONS = ("login", "login_failed", "logout", "denied")

COLUMNS = ("Tidspunkt", "Bruger", "Handling", "Enhed", "Borger", "Tabel", "Række", "Detaljer")
EXTRACT_COLUMNS = ("Tidspunkt", "Bruger", "Handling", "Tabel", "Detaljer")
SEARCH_LIMIT = 1000


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime  # UTC, with its zone
    user_login: str
    action: str
    table_name: str
    row_id: int | None
    unit_id: int | None
    unit_name: str | None
    citizen_ref: str | None
    detail: str


@dataclass(frozen=True)
class Retention:
    months: int
    cutoff: datetime  # UTC: entries from before this moment are past the retention
    due: int  # how many entries that is now


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored as UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _start_of(day: date) -> datetime:
    """Midnight in Copenhagen at the start of `day`, as UTC (what the database compares)."""
    return datetime(day.year, day.month, day.day, tzinfo=COPENHAGEN).astimezone(UTC)


def _visible_to(actor: Actor) -> sa.ColumnElement[bool] | None:
    """The entries this actor may read (the rule in the module's docstring); None: all."""
    if actor.role == "admin" or actor.unit_ids is None:
        return None
    units = sorted(actor.unit_ids)
    colleagues = (
        select(User.login).join(UserUnit, col(UserUnit.user_id) == col(User.id)).where(col(UserUnit.unit_id).in_(units))
    )
    unitless = col(AuditEvent.unit_id).is_(None)
    return sa.or_(
        col(AuditEvent.unit_id).in_(units),
        sa.and_(unitless, col(AuditEvent.user_login) == actor.login),
        sa.and_(unitless, col(AuditEvent.action).in_(ACCESS_ACTIONS), col(AuditEvent.user_login).in_(colleagues)),
        col(AuditEvent.action) == "purged",
    )


def _rows(
    session: Session, *conditions: sa.ColumnElement[bool], newest_first: bool, limit: int | None
) -> list[AuditRow]:
    order = (
        (col(AuditEvent.at).desc(), col(AuditEvent.id).desc()) if newest_first
        else (col(AuditEvent.at), col(AuditEvent.id))
    )
    query = (
        select(AuditEvent, Unit.name)
        .join(Unit, col(Unit.id) == col(AuditEvent.unit_id), isouter=True)
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
    )
    return [
        AuditRow(
            id=event.id or 0, at=_utc(event.at), user_login=event.user_login, action=event.action,
            table_name=event.table_name, row_id=event.row_id, unit_id=event.unit_id, unit_name=unit_name,
            citizen_ref=event.citizen_ref, detail=event.detail,
        )
        for event, unit_name in session.exec(query).all()
    ]


def search(
    session: Session,
    actor: Actor,
    *,
    user_login: str | None = None,
    citizen_ref: str | None = None,
    action: str | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = SEARCH_LIMIT,
    already_logged: set[tuple[str, str]] | None = None,
) -> list[AuditRow]:
    """The entries matching every filter given, newest first, at most `limit` of them.

    `user_login` matches part of the login, any case; `citizen_ref` the whole reference;
    `start` and `end` are Copenhagen days, both included. A search by citizen reference is
    logged as "searched", unless `already_logged` (kept by the caller for one browser session)
    says this user has searched for that reference before.
    """
    actor.require_role(*READERS, what="revisionsloggen")
    login = v.text(user_login, "user_login", "Bruger", max_length=120, required=False)
    ref = v.text(citizen_ref, "citizen_ref", "Borgerreference", max_length=40, required=False)
    if action is not None:
        v.code(action, codes.AUDIT_ACTIONS, "action", "Handling")
    if start is not None and end is not None and start > end:
        raise ValidationError("Periodens første dag ligger efter dens sidste dag.", "start")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("Antallet af poster skal være et helt tal over 0.", "limit")

    conditions: list[sa.ColumnElement[bool]] = []
    visible = _visible_to(actor)
    if visible is not None:
        conditions.append(visible)
    if login:
        conditions.append(sa.func.lower(col(AuditEvent.user_login)).contains(login.lower(), autoescape=True))
    if ref:
        conditions.append(col(AuditEvent.citizen_ref) == ref)
    if action:
        conditions.append(col(AuditEvent.action) == action)
    if start:
        conditions.append(col(AuditEvent.at) >= _start_of(start))
    if end:
        conditions.append(col(AuditEvent.at) < _start_of(end + timedelta(days=1)))
    rows = _rows(session, *conditions, newest_first=True, limit=limit)
    if ref:
        _log_search(session, actor, ref, already_logged)
    return rows


def _log_search(session: Session, actor: Actor, ref: str, already_logged: set[tuple[str, str]] | None) -> None:
    """One "searched" entry per citizen the reference names in the actor's units (or one without)."""
    key = (actor.login, ref)
    if already_logged is not None and key in already_logged:
        return
    query = select(Citizen).where(col(Citizen.ref) == ref)
    if actor.unit_ids is not None:
        query = query.where(col(Citizen.unit_id).in_(sorted(actor.unit_ids)))
    citizens = session.exec(query.order_by(col(Citizen.id))).all()
    for citizen in citizens:
        audit.record(session, actor, "searched", "auditevent", citizen=citizen, detail="søgning i revisionsloggen")
    if not citizens:
        event = audit.record(session, actor, "searched", "auditevent", detail="søgning i revisionsloggen")
        event.citizen_ref = ref
    if already_logged is not None:
        already_logged.add(key)


def frame(rows: list[AuditRow]) -> pd.DataFrame:
    """The entries as a table with Danish headings and labels (COLUMNS)."""
    return pd.DataFrame(
        {
            "Tidspunkt": [fmt.moment(row.at) for row in rows],
            "Bruger": [row.user_login for row in rows],
            "Handling": [codes.label(codes.AUDIT_ACTIONS, row.action) for row in rows],
            "Enhed": [row.unit_name or "" for row in rows],
            "Borger": [row.citizen_ref or "" for row in rows],
            "Tabel": [codes.label(codes.AUDIT_TABLES, row.table_name) for row in rows],
            "Række": ["" if row.row_id is None else str(row.row_id) for row in rows],
            "Detaljer": [row.detail for row in rows],
        },
        columns=list(COLUMNS),
    )


def extract_units(session: Session, actor: Actor) -> dict[int, str]:
    """The units whose citizens this actor can make an extract for: id → name."""
    query = select(Unit).order_by(col(Unit.name))
    if actor.unit_ids is not None:
        query = query.where(col(Unit.id).in_(sorted(actor.unit_ids)))
    return {unit.id: unit.name for unit in session.exec(query).all() if unit.id is not None}


def citizen_extract(session: Session, actor: Actor, unit_id: int, citizen_ref: str) -> pd.DataFrame:
    """Every entry about one citizen, oldest first: the citizen's right of access (EXTRACT_COLUMNS).

    Making it is logged as "exported" for that citizen (after the extract is taken).
    """
    actor.require_role(*READERS, what="borgerens udtræk af revisionsloggen")
    actor.require_unit(unit_id)
    ref = v.required_text(citizen_ref, "citizen_ref", "Borgerreference", max_length=40)
    citizen = session.exec(
        select(Citizen).where(col(Citizen.unit_id) == unit_id, col(Citizen.ref) == ref)
    ).first()
    if citizen is None:
        raise NotFoundError(f"Enheden har ingen borger med referencen {ref}.", "citizen_ref")
    rows = _rows(session, col(AuditEvent.citizen_id) == citizen.id, newest_first=False, limit=None)
    audit.record(session, actor, "exported", "auditevent", citizen=citizen,
                 detail=f"borgerens udtræk af revisionsloggen ({len(rows)} poster)")
    return frame(rows)[list(EXTRACT_COLUMNS)]


def retention_cutoff(months: int, now: datetime) -> datetime:
    """The moment before which entries are past a retention of `months` calendar months.

    It is midnight (Copenhagen) at the start of the day `months` months before `now`'s day:
    cutting at the day's start keeps a few hours more than the retention, never less.
    """
    today = _utc(now).astimezone(COPENHAGEN).date()
    return _start_of(add_months(today, -months))


def retention(session: Session, actor: Actor, now: datetime) -> Retention:
    """The retention in force, its cutoff now, and how many entries are past it."""
    actor.require_role(*READERS, what="sletning i revisionsloggen")
    # A retention of 6.5 months keeps 7: never less than the setting says.
    months = math.ceil(settings.get(session, "audit_retention_months"))
    cutoff = retention_cutoff(months, now)
    due = session.exec(select(sa.func.count()).select_from(AuditEvent).where(col(AuditEvent.at) < cutoff)).one()
    return Retention(months=months, cutoff=cutoff, due=int(due))


def purge(session: Session, actor: Actor, now: datetime) -> int:
    """Delete the entries past the retention; the purge itself is logged with the count."""
    policy = retention(session, actor, now)
    result = session.exec(sa.delete(AuditEvent).where(col(AuditEvent.at) < policy.cutoff))
    count = int(result.rowcount or 0)
    audit.record(
        session, actor, "purged", "auditevent",
        detail=f"{count} poster fra før {fmt.moment(policy.cutoff)} slettet (opbevares {policy.months} måneder)",
    )
    return count
