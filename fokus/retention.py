"""Retention (DESIGN §8): a citizen's data is really deleted a set time after their last activity.

When a citizen is due. The setting `citizen_retention_years` (default 5) counts from the
citizen's *last activity*: the latest of their courses' ends, the decisions on their refused
referrals (rejected, withdrawn) and their network meetings (which may lie after a course's end).
So a citizen who only ever was referred counts from the last decision, one who had a course from
its end, and a refusal or a meeting after the last course moves the day on. A started referral's
decision is its course's start and never the latest. Nobody is due while a referral of theirs
waits or a course of theirs is open. A citizen without any referral (not made by fokus itself)
counts from the day the row was created. Due on the day the years have passed
(`clock.add_months`, so 29 February counts to 28 February).

What is deleted. Every row that refers to the citizen, or to a row of theirs, however deep,
found from the foreign keys of the model (`_owned_tables`): referrals, courses, attendance,
ORS and SRS scores, network meetings, and any table added later. Set-based DELETEs, children
first, 500 citizens per statement.

The log stays, without the citizen: their entries keep who did what when, but the citizen's
reference becomes the neutral token "slettet", the citizen id and row id are emptied, and their
reference and course references are cut out of the entries' free text; searches that named the
reference without finding the citizen (`fokus.auditlog`) lose it too.

The deletion register keeps, for each deleted citizen, only a SHA-256 of
"fokus-sletteregister-1␟<unit name>␟<citizen reference>" (␟ is the ASCII unit separator,
which no typed name contains) and when they were deleted. The unit *name* rather than its id,
because the name is what another database (a restore, a migration to a new server) has in
common. Applying the register to a restored older backup deletes those citizens again — but only
rows created before the deletion: a citizen referred anew after being deleted is someone the
unit works with again and stays.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from fokus import audit, db, fmt, settings
from fokus.actor import Actor
from fokus.clock import COPENHAGEN, add_months, now_utc
from fokus.errors import ValidationError
from fokus.models import AuditEvent, Citizen, Course, DeletionRecord, NetworkMeeting, OrsScore, Referral, SrsScore, Unit

TOKEN = "slettet"
HASH_SCHEME = "fokus-sletteregister-1"
CHUNK = 500

# What the last activity was; on the same day the first in this order is named.
ACTIVITY_LABELS: dict[str, str] = {
    "course_ended": "Forløb afsluttet",
    "network_meeting": "Netværksmøde",
    "rejected": "Henvisning afvist",
    "withdrawn": "Henvisning trukket tilbage",
    "registered": "Borger oprettet",
}
_ORDER = {kind: position for position, kind in enumerate(ACTIVITY_LABELS)}


@dataclass(frozen=True)
class DueCitizen:
    """A citizen whose data is due for deletion, as the preview shows them."""

    citizen_id: int
    unit_id: int
    unit_name: str
    ref: str
    last_activity: date
    last_activity_kind: str  # a key of ACTIVITY_LABELS
    due_since: date
    referrals: int
    courses: int
    scores: int  # ORS and SRS
    network_meetings: int


@dataclass
class _History:
    citizen_id: int
    unit_id: int
    unit_name: str
    ref: str
    created: datetime
    blocked: bool = False
    activities: list[tuple[date, str]] = field(default_factory=list)
    referrals: int = 0
    courses: int = 0
    scores: int = 0
    network_meetings: int = 0

    def last_activity(self) -> tuple[date, str]:
        if not self.activities:
            return _aware(self.created).astimezone(COPENHAGEN).date(), "registered"
        return max(self.activities, key=lambda activity: (activity[0], -_ORDER[activity[1]]))


@dataclass(frozen=True)
class _Victim:
    citizen_id: int
    unit_id: int
    unit_name: str
    ref: str


# ---------------------------------------------------------------------------------------
# Who is due

def retention_years(session: Session) -> float:
    """The retention time in force (setting `citizen_retention_years`)."""
    return settings.get(session, "citizen_retention_years")


def years_text(years: float) -> str:
    """The retention time as a person reads it: 5.0 → '5', 2.5 → '2,5'."""
    return fmt.number(years, 0 if float(years).is_integer() else 1)


def due_citizens(session: Session, actor: Actor, today: date) -> list[DueCitizen]:
    """The citizens of the actor's units whose data is due for deletion on `today` (administrators).

    Call it in a write session: the look at the list is logged (a count, no references).
    """
    actor.require_role("admin", what="oversigten over borgere, der skal slettes")
    due = _due(session, actor.unit_ids, None, today)
    audit.record(session, actor, "viewed", "citizen", detail=f"sletteoversigt: {len(due)} borgere")
    return due


def _due(
    session: Session, unit_ids: frozenset[int] | None, citizen_ids: Collection[int] | None, today: date
) -> list[DueCitizen]:
    months = round(retention_years(session) * 12)
    due = []
    for history in _histories(session, unit_ids, citizen_ids):
        if history.blocked:
            continue
        last, kind = history.last_activity()
        due_since = add_months(last, months)
        if due_since <= today:
            due.append(DueCitizen(
                citizen_id=history.citizen_id, unit_id=history.unit_id, unit_name=history.unit_name,
                ref=history.ref, last_activity=last, last_activity_kind=kind, due_since=due_since,
                referrals=history.referrals, courses=history.courses, scores=history.scores,
                network_meetings=history.network_meetings,
            ))
    return sorted(due, key=lambda citizen: (citizen.unit_name, citizen.last_activity, citizen.ref))


def _scope(unit_ids: frozenset[int] | None, citizen_ids: Collection[int] | None) -> list[sa.ColumnElement[bool]]:
    scope = []
    if unit_ids is not None:
        scope.append(col(Citizen.unit_id).in_(sorted(unit_ids)))
    if citizen_ids is not None:
        scope.append(col(Citizen.id).in_(sorted(citizen_ids)))
    return scope


def _histories(
    session: Session, unit_ids: frozenset[int] | None, citizen_ids: Collection[int] | None
) -> Iterator[_History]:
    """Each citizen's activities and counts, from one grouped query per table."""
    if citizen_ids is not None and len(citizen_ids) > CHUNK:
        for chunk in _chunks(sorted(citizen_ids)):
            yield from _histories(session, unit_ids, chunk)
        return
    scope = _scope(unit_ids, citizen_ids)
    of_citizen = Citizen.id == Course.citizen_id
    people = {
        citizen_id: _History(citizen_id, unit_id, unit_name, ref, created)
        for citizen_id, unit_id, unit_name, ref, created in session.exec(
            select(Citizen.id, Citizen.unit_id, Unit.name, Citizen.ref, Citizen.created)
            .join(Unit, col(Unit.id) == Citizen.unit_id).where(*scope)
        )
    }
    referrals = select(Referral.citizen_id, Referral.status, Referral.decided).join(
        Citizen, col(Citizen.id) == Referral.citizen_id
    )
    for citizen_id, status, decided in session.exec(referrals.where(*scope)):
        person = people[citizen_id]
        person.referrals += 1
        person.blocked |= status == "waiting"
        if status in ("rejected", "withdrawn"):
            person.activities.append((decided, status))
    for citizen_id, end in session.exec(select(Course.citizen_id, Course.end).join(Citizen, of_citizen).where(*scope)):
        person = people[citizen_id]
        person.courses += 1
        person.blocked |= end is None
        if end is not None:
            person.activities.append((end, "course_ended"))
    for score in (OrsScore, SrsScore):
        counts = (
            select(Course.citizen_id, func.count()).select_from(score)
            .join(Course, col(Course.id) == score.course_id).join(Citizen, of_citizen)
            .where(*scope).group_by(Course.citizen_id)
        )
        for citizen_id, count in session.exec(counts):
            people[citizen_id].scores += count
    meetings = (
        select(Course.citizen_id, func.count(), func.max(NetworkMeeting.date)).select_from(NetworkMeeting)
        .join(Course, col(Course.id) == NetworkMeeting.course_id).join(Citizen, of_citizen)
        .where(*scope).group_by(Course.citizen_id)
    )
    for citizen_id, count, last in session.exec(meetings):
        people[citizen_id].network_meetings = count
        people[citizen_id].activities.append((last, "network_meeting"))
    yield from people.values()


# ---------------------------------------------------------------------------------------
# Deleting

def delete_due(session: Session, actor: Actor, today: date, citizen_ids: Collection[int]) -> int:
    """Delete, for good, those of `citizen_ids` that are still due on `today`; how many were deleted.

    Due is decided again here, inside the transaction and with the citizens' rows locked, so a
    referral registered since the preview keeps its citizen.
    """
    actor.require_role("admin", what="sletning af borgerdata")
    wanted = sorted({int(citizen_id) for citizen_id in citizen_ids})
    for chunk in _chunks(wanted):
        _lock(session, chunk)
    victims = [
        _Victim(due.citizen_id, due.unit_id, due.unit_name, due.ref)
        for due in _due(session, actor.unit_ids, wanted, today)
    ]
    _erase(session, victims)
    now = now_utc()
    _remember(session, {ref_hash(victim.unit_name, victim.ref): now for victim in victims})
    _record_deleted(session, actor, victims, f"{years_text(retention_years(session))} år efter sidste aktivitet")
    return len(victims)


def _lock(session: Session, citizen_ids: Sequence[int]) -> None:
    """On PostgreSQL, hold the citizens' rows: a colleague's new referral for one of them waits."""
    session.exec(select(Citizen.id).where(col(Citizen.id).in_(citizen_ids)).with_for_update()).all()


def _erase(session: Session, victims: Sequence[_Victim]) -> None:
    owned = _owned_tables()
    owners = {table.name for table in owned} | {"citizen"}
    citizen = SQLModel.metadata.tables["citizen"]
    for chunk in _chunks(victims):
        ids = [victim.citizen_id for victim in chunk]
        _scrub_log(session, chunk)
        for table in owned:
            session.execute(sa.delete(table).where(_belongs(table, ids, owners)))
        session.execute(sa.delete(citizen).where(citizen.c.id.in_(ids)))


def _owned_tables() -> list[sa.Table]:
    """Every table whose rows belong to a citizen, children before parents.

    Found from the foreign keys, so a table added later that refers to a citizen, or to any of
    their rows, is deleted with them without anyone remembering to list it here.
    """
    owners = {"citizen"}
    owned = []
    for table in SQLModel.metadata.sorted_tables:  # parents before children
        if table.name not in owners and any(key.column.table.name in owners for key in table.foreign_keys):
            owners.add(table.name)
            owned.append(table)
    return owned[::-1]


def _belongs(table: sa.Table, citizen_ids: list[int], owners: set[str]) -> sa.ColumnElement[bool]:
    """`table`'s rows that belong to the citizens, through any of its keys, at any depth."""
    ways = []
    for key in table.foreign_keys:
        parent = key.column.table
        if parent.name == "citizen":
            ways.append(key.parent.in_(citizen_ids))
        elif parent.name in owners:
            assert isinstance(parent, sa.Table)
            ways.append(key.parent.in_(select(key.column).where(_belongs(parent, citizen_ids, owners))))
    return sa.or_(*ways)


def _scrub_log(session: Session, victims: Sequence[_Victim]) -> None:
    """The citizens leave the log: no id, no row id, the token for their reference, none in the text.

    An entry that names a citizen without their id (a search for a reference, `fokus.auditlog`)
    loses the reference too when it belongs to their unit or to none.
    """
    ids = [victim.citizen_id for victim in victims]
    terms: dict[int, list[str]] = {victim.citizen_id: [victim.ref] for victim in victims}
    courses = select(Course.citizen_id, Course.ref).where(col(Course.citizen_id).in_(ids))
    for citizen_id, course_ref in session.exec(courses):
        terms[citizen_id].append(course_ref)
    own = select(AuditEvent.id, AuditEvent.citizen_id, AuditEvent.detail).where(
        col(AuditEvent.citizen_id).in_(ids), AuditEvent.detail != ""
    )
    changes = [
        {"id": event_id, "detail": scrubbed}
        for event_id, citizen_id, detail in session.exec(own)
        if (scrubbed := _without(detail, terms[citizen_id])) != detail
    ]
    if changes:
        session.execute(sa.update(AuditEvent), changes)
    session.execute(
        sa.update(AuditEvent).where(col(AuditEvent.citizen_id).in_(ids))
        .values(citizen_id=None, citizen_ref=TOKEN, row_id=None)
    )
    refs_by_unit: dict[int, list[str]] = defaultdict(list)
    for victim in victims:
        refs_by_unit[victim.unit_id].append(victim.ref)
    for unit_id, refs in refs_by_unit.items():
        session.execute(
            sa.update(AuditEvent)
            .where(sa.or_(AuditEvent.unit_id == unit_id, col(AuditEvent.unit_id).is_(None)))
            .where(col(AuditEvent.citizen_ref).in_(refs))
            .values(citizen_ref=TOKEN)
        )


def _without(text: str, terms: Iterable[str]) -> str:
    """`text` with each whole occurrence of the terms replaced by the token ("B-1" is not cut out of "B-12")."""
    alternatives = "|".join(re.escape(term) for term in sorted(set(terms), key=len, reverse=True))
    return re.sub(rf"(?<![\w-])(?:{alternatives})(?![\w-])", TOKEN, text)


def _record_deleted(session: Session, actor: Actor, victims: Sequence[_Victim], why: str) -> None:
    for unit_id, count in sorted(Counter(victim.unit_id for victim in victims).items()):
        audit.record(session, actor, "deleted", "citizen", unit_id=unit_id, detail=f"{count} borgere slettet: {why}")


# ---------------------------------------------------------------------------------------
# The deletion register

def ref_hash(unit_name: str, ref: str) -> str:
    """The register's key for a citizen: see the module's docstring for why these parts."""
    return hashlib.sha256(f"{HASH_SCHEME}\x1f{unit_name}\x1f{ref}".encode()).hexdigest()


def register_hashes(session: Session) -> dict[str, datetime]:
    """The deletion register: hashed reference → when that citizen was (last) deleted."""
    rows = session.exec(select(DeletionRecord.ref_hash, DeletionRecord.deleted_at).order_by(DeletionRecord.ref_hash))
    return {ref_hash_: _aware(deleted_at) for ref_hash_, deleted_at in rows}


def apply_register(
    session: Session, actor: Actor, register: Mapping[str, datetime | None] | Iterable[str]
) -> int:
    """Delete again every citizen the register names (a restored backup); how many were deleted.

    `register` maps hashes to when they were deleted (`register_hashes` of the newer database,
    or `load_register`); a bare hash, or one without a time, deletes whatever its dates. The
    register's entries are added to this database's own.
    """
    actor.require_role("admin", what="anvendelse af sletteregistret")
    entries = _entries(register)
    rows = session.exec(
        select(Citizen.id, Citizen.unit_id, Unit.name, Citizen.ref, Citizen.created)
        .join(Unit, col(Unit.id) == Citizen.unit_id).where(*_scope(actor.unit_ids, None))
    ).all()
    victims = []
    for citizen_id, unit_id, unit_name, ref, created in rows:
        key = ref_hash(unit_name, ref)
        if key in entries and (entries[key] is None or _aware(created) <= entries[key]):
            victims.append(_Victim(citizen_id, unit_id, unit_name, ref))
    for chunk in _chunks([victim.citizen_id for victim in victims]):
        _lock(session, chunk)
    _erase(session, victims)
    now = now_utc()
    _remember(session, {key: when or now for key, when in entries.items()})
    _record_deleted(session, actor, victims, "efter sletteregistret")
    return len(victims)


_HASH = re.compile(r"[0-9a-f]{64}")


def _entries(register: Mapping[str, datetime | None] | Iterable[str]) -> dict[str, datetime | None]:
    entries = dict(register) if isinstance(register, Mapping) else dict.fromkeys(register)
    for key, when in entries.items():
        if not isinstance(key, str) or not _HASH.fullmatch(key):
            raise ValidationError(f"Sletteregistret indeholder en ugyldig nøgle: {str(key)[:70]!r}.", "register")
        entries[key] = _aware(when) if when is not None else None
    return entries


def _remember(session: Session, entries: Mapping[str, datetime]) -> None:
    """Add the entries to the register; a citizen deleted again keeps the later time."""
    for chunk in _chunks(sorted(entries)):
        stored = {
            key: (record_id, _aware(deleted_at)) for record_id, key, deleted_at in session.exec(
                select(DeletionRecord.id, DeletionRecord.ref_hash, DeletionRecord.deleted_at)
                .where(col(DeletionRecord.ref_hash).in_(chunk))
            )
        }
        new = [{"ref_hash": key, "deleted_at": entries[key]} for key in chunk if key not in stored]
        later = [{"id": stored[key][0], "deleted_at": entries[key]} for key in chunk
                 if key in stored and stored[key][1] < entries[key]]
        if new:
            session.execute(sa.insert(DeletionRecord), new)
        if later:
            session.execute(sa.update(DeletionRecord), later)


def register_lines(register: Mapping[str, datetime]) -> list[str]:
    """The register as text, one "hash<TAB>deleted at (ISO 8601)" a line: the file `load_register` reads."""
    return [f"{key}\t{when.isoformat()}" for key, when in sorted(register.items())]


def load_register(source: str) -> dict[str, datetime | None]:
    """A register from a database URL (a newer database) or from a file of `register_lines`."""
    if "://" in source:
        with db.read_session(db.engine_for(source)) as session:
            return dict(register_hashes(session))
    path = Path(source)
    if not path.is_file():
        raise ValidationError(f"Sletteregistret {source} findes ikke.", "register")
    entries: dict[str, datetime | None] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        try:
            entries[parts[0]] = datetime.fromisoformat(parts[1]) if len(parts) > 1 else None
        except ValueError as error:
            raise ValidationError(f"Linje {number} i sletteregistret har et ugyldigt tidspunkt.", "register") from error
    return entries


# ---------------------------------------------------------------------------------------
# Helpers

def preview_frame(due: Sequence[DueCitizen]) -> pd.DataFrame:
    """The preview as the page and the command line show it."""
    return pd.DataFrame(
        [
            {
                "Enhed": citizen.unit_name,
                "Borger": citizen.ref,
                "Sidste aktivitet": fmt.day(citizen.last_activity),
                "Hvad": ACTIVITY_LABELS[citizen.last_activity_kind],
                "Skal slettes fra": fmt.day(citizen.due_since),
                "Henvisninger": citizen.referrals,
                "Forløb": citizen.courses,
                "Målinger": citizen.scores,
                "Netværksmøder": citizen.network_meetings,
            }
            for citizen in due
        ],
        columns=["Enhed", "Borger", "Sidste aktivitet", "Hvad", "Skal slettes fra", "Henvisninger", "Forløb",
                 "Målinger", "Netværksmøder"],
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone: they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_T = TypeVar("_T")


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]
