"""The database: one engine per URL, SQLite tuned for several users, migrations to head.

On SQLite every connection runs in WAL mode with a busy timeout, and a *write* transaction
starts with BEGIN IMMEDIATE, taking the write lock at its start: two users saving at once then
queue behind each other instead of one of them failing with "database is locked" halfway
through. Reads start a plain deferred transaction and never block writers.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date as date_type
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from fokus import config
from fokus.errors import ConflictError, PermissionDenied

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_WRITE = "fokus_write"
BUSY_TIMEOUT_MS = 30_000

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


SQLITE_MMAP_BYTES = 1 << 30  # address space, not memory: pages are shared with the OS file cache
SQLITE_CACHE_KIB = 32 * 1024


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the sqlite3 module, say when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Reads of a large file come from memory: the file mapped, and a page cache per connection.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (it stays so); another connection switching at the same moment can
    make SQLite refuse at once, without waiting for the busy timeout, so wait and ask again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _prepare_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def engine_for(url: str | None = None) -> Engine:
    """The process's engine for `url` (default: the configured database)."""
    url = url or config.database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_all() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
    forget_kept()


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading; it never writes (a refusal is logged in a transaction of its own)."""
    engine = engine or engine_for()
    try:
        with Session(engine) as session:
            yield session
    except PermissionDenied as denied:
        record_denied(denied, engine)
        raise


# ---------------------------------------------------------------------------------------
# The data version: a write transaction that changed the unit's data adds one `DataChange`
# row before it commits, so readers can cache on the newest id. Bookkeeping tables (the audit
# log, logins, users' sign-in counters, tablet openings) are not the unit's data.

_CHANGED = "fokus_data_changed"
_READINGS = "fokus_readings"  # `remembered`: forgotten at every bulk change, flush and transaction end
_NOT_DATA = frozenset({"auditevent", "loginsession", "selfreportsession", "user", "datachange"})


@event.listens_for(Session, "after_flush")
def _note_changed_rows(session: Session, _context) -> None:  # type: ignore[no-untyped-def]
    for row in (*session.new, *session.dirty, *session.deleted):
        if getattr(row, "__tablename__", None) not in _NOT_DATA:
            session.info[_CHANGED] = True
            _note_days(session, row)
            _note_course(session, row)
    _note_summaries_to_refresh(session)


# The course a change wrote the rows of (`DataChange.course_id`), when it wrote rows of one course
# alone: the course itself, its scores and its network meetings. Readings kept by course
# (`kept_by_course`) read that course again, and no other. Any other row, a bulk statement or
# rows of two courses: `_MANY`.
_COURSES = "fokus_courses"  # the set of course ids written, or _MANY
_MANY = "many"
_ROWS_OF_A_COURSE = frozenset({"orsscore", "srsscore", "networkmeeting"})


def _note_course(session: Session, row: object) -> None:
    noted = session.info.get(_COURSES)
    if noted == _MANY:
        return
    table = getattr(row, "__tablename__", None)
    if table == "course":
        ids = {row.id}  # type: ignore[attr-defined]
    elif table in _ROWS_OF_A_COURSE:
        history = sa.inspect(row).attrs["course_id"].history
        ids = {v for v in (*history.unchanged, *history.added, *history.deleted) if v is not None}
    else:
        session.info[_COURSES] = _MANY
        return
    courses: set[int] = session.info.setdefault(_COURSES, set())
    courses.update(ids)
    if len(courses) > 1:
        session.info[_COURSES] = _MANY


# The earliest day a change can move a figure of (`DataChange.since`, `data_version_until`).
# A period's figures read only rows with one of these dates on or before the period's last day
# (a course started by then, a referral received by then, …), so a change whose rows, before
# and after, have every date later than that day leaves them as they were. A score or network
# meeting also moves its course's summary (the course's start counts); attendance counts on
# its session's date. Tables the figures do not read at all are left out; any other change
# (staff and their capacity, units, targets without a date, bulk statements) may move any day.
_DATED = {
    "course": ("start", "end"), "referral": ("received", "decided"), "orsscore": ("date",),
    "networkmeeting": ("date",), "groupsession": ("date",), "group": ("start", "end"), "target": ("valid_from",),
}
_NOT_READ_BY_FIGURES = frozenset({"citizen", "srsscore", "setting", "unitsetting"})
_SINCE = "fokus_since"  # the earliest day noted, or _ANY_DAY
_ANY_DAY = "any"
# Set when the transaction wrote a row the figures read that is not an ORS score
# (`DataChange.scores_only`); a bulk statement counts as such a row.
_NOT_SCORES = "fokus_not_scores_only"
# Set when the transaction wrote a row the figures read that is not a course's contact person
# alone (`DataChange.contact_only`): only readings narrowed to contact people read that.
_NOT_CONTACT = "fokus_not_contact_only"
_CONTACT_ONLY = frozenset({"contact_person_id", "version"})
_SCORES = "orsscore"
_ATTENDED_SESSIONS = "fokus_attended_sessions"


def _note_day(session: Session, day: object) -> None:
    noted = session.info.get(_SINCE)
    if noted == _ANY_DAY or day is None:
        return
    if not isinstance(day, date_type):
        session.info[_SINCE] = _ANY_DAY
    elif noted is None or day < noted:
        session.info[_SINCE] = day


def _note_days(session: Session, row: object) -> None:
    table = getattr(row, "__tablename__", None)
    if table in _NOT_READ_BY_FIGURES:
        return
    if table != _SCORES:
        session.info[_NOT_SCORES] = True
    state = sa.inspect(row)
    if not (table == "course" and row in session.dirty
            and {attr.key for attr in state.attrs if attr.history.has_changes()} <= _CONTACT_ONLY):
        session.info[_NOT_CONTACT] = True
    if table == "attendance":
        sessions: set[int] = session.info.setdefault(_ATTENDED_SESSIONS, set())
        history = state.attrs["session_id"].history
        sessions.update(v for v in (*history.unchanged, *history.added, *history.deleted) if v is not None)
        if not history.unchanged and not history.added:  # the session it belongs to is not known
            session.info[_SINCE] = _ANY_DAY
        return
    names = _DATED.get(table)  # type: ignore[arg-type]
    if names is None:
        session.info[_SINCE] = _ANY_DAY
        return
    for name in names:
        if name not in state.dict:  # not loaded: its day is not known here
            session.info[_SINCE] = _ANY_DAY
            return
        _note_day(session, state.dict[name])
        for old in state.attrs[name].history.deleted or ():
            _note_day(session, old)


# The per-course summaries (`fokus.summaries`): the courses whose scores, network meetings, start
# or end changed
# and the referrals whose received date changed, refreshed just before the transaction commits.
_STALE_COURSES = "fokus_stale_courses"
_STALE_REFERRALS = "fokus_stale_referrals"
# The group sessions whose attendance changed (their counts, `summaries.refresh_sessions`); a
# bulk insert of attendance, whose sessions are not known, recounts them all.
_STALE_SESSIONS = "fokus_stale_sessions"
_ALL_SESSIONS = "fokus_all_sessions_stale"


def summary_is_current(session: Session, course_id: int) -> bool:
    """Whether the course's stored summary (`fokus.summaries`) holds for what this session has
    written: no score or meeting of it, nor its start or end, changed in the transaction so far
    (those are refreshed as it commits)."""
    session.flush()
    return course_id not in session.info.get(_STALE_COURSES, ())


def _changed(row: object, *names: str) -> bool:
    state = sa.inspect(row)
    return any(state.attrs[name].history.has_changes() for name in names)


def _note_summaries_to_refresh(session: Session) -> None:
    courses: set[int] = session.info.setdefault(_STALE_COURSES, set())
    referrals: set[int] = session.info.setdefault(_STALE_REFERRALS, set())
    group_sessions: set[int] = session.info.setdefault(_STALE_SESSIONS, set())
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", None)
        if table == "attendance":
            history = sa.inspect(row).attrs["session_id"].history
            group_sessions.update(v for v in (*history.unchanged, *history.added, *history.deleted) if v is not None)
        elif table in ("orsscore", "networkmeeting"):
            courses.add(row.course_id)  # type: ignore[attr-defined]
            history = sa.inspect(row).attrs["course_id"].history
            courses.update(old for old in history.deleted or () if old is not None)
        elif table == "course" and row not in session.deleted and (row in session.new or _changed(row, "start", "end")):
            courses.add(row.id)  # type: ignore[attr-defined]
        elif table == "referral" and row in session.dirty and _changed(row, "received"):
            referrals.add(row.id)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_soft_rollback")
def _forget_summaries_to_refresh(session: Session, previous_transaction) -> None:  # type: ignore[no-untyped-def]
    # Only when the whole transaction is undone: a savepoint rolled back (a refused row of an
    # import, a course ref retried) leaves the changes before it to be refreshed at the commit.
    if previous_transaction.nested:
        return
    session.info.pop(_STALE_COURSES, None)
    session.info.pop(_STALE_REFERRALS, None)
    session.info.pop(_STALE_SESSIONS, None)
    session.info.pop(_ALL_SESSIONS, None)
    session.info.pop(_SINCE, None)
    session.info.pop(_NOT_SCORES, None)
    session.info.pop(_NOT_CONTACT, None)
    session.info.pop(_ATTENDED_SESSIONS, None)
    session.info.pop(_COURSES, None)


@event.listens_for(Session, "before_commit")
def _refresh_summaries(session: Session) -> None:
    from fokus import summaries

    session.flush()
    courses, referrals = session.info.pop(_STALE_COURSES, set()), session.info.pop(_STALE_REFERRALS, set())
    if courses or referrals:
        summaries.refresh(session, courses, referrals)
    group_sessions, every_session = session.info.pop(_STALE_SESSIONS, set()), session.info.pop(_ALL_SESSIONS, False)
    if every_session or group_sessions:
        summaries.refresh_sessions(session, None if every_session else group_sessions)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:  # type: ignore[no-untyped-def]
    if state.is_update or state.is_delete or state.is_insert:
        state.session.info.pop(_READINGS, None)
        table = getattr(state.statement, "table", None)  # ORM entity or Core table alike
        name = getattr(table, "name", None)
        if name not in _NOT_DATA:
            state.session.info[_CHANGED] = True
            state.session.info[_SINCE] = _ANY_DAY
            state.session.info[_NOT_SCORES] = True
            state.session.info[_NOT_CONTACT] = True
            state.session.info[_COURSES] = _MANY
        if name == "attendance":
            _note_bulk_attendance(state)


def _note_bulk_attendance(state) -> None:  # type: ignore[no-untyped-def]
    """The sessions a bulk change of attendance touches, read before it runs (all for an insert)."""
    where = None if state.is_insert else state.statement.whereclause
    if where is None:
        state.session.info[_ALL_SESSIONS] = True
        return
    from fokus.models import Attendance

    touched = state.session.execute(sa.select(Attendance.session_id).where(where).distinct()).scalars()  # type: ignore[arg-type]
    state.session.info.setdefault(_STALE_SESSIONS, set()).update(touched)


# Readings shared within one transaction: Overblik's figures and its charts read many of the
# same grouped rows; each is read once per transaction (`_READINGS`, defined with `_CHANGED`).
# Readings of a date range are also kept across transactions (`settled`), on the key of the
# range's last day.
T = TypeVar("T")
KEPT_READINGS = 4096  # readings kept across transactions, the least recently used dropped
_kept: OrderedDict[Hashable, object] = OrderedDict()
_kept_lock = threading.Lock()


def remembered(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """`read()` once per transaction of `session` for `key`, then the same result again.

    Forgotten at every flush, bulk change and (sub)transaction end, so a reading never
    outlives the rows it was read from. Results are shared: callers must not change them (return tuples).
    """
    readings: dict[Hashable, object] = session.info.setdefault(_READINGS, {})
    if key not in readings:
        readings[key] = read()
    return readings[key]  # type: ignore[return-value]


def settled(session: Session, key: Hashable, read: Callable[[], T], *, until: date_type, scores: bool = True,
            contacts: bool = True) -> T:
    """`read()` of rows dated on or before `until` (a reading of a period ending that day): once
    per transaction as `remembered`, and kept across transactions, in this process, while the
    period's key (`data_version_until(until, scores=scores, contacts=contacts)`) stays;
    `scores=False` for readings that do not read ORS scores, `contacts=False` for those that do
    not read who a course's contact person is. The key is read in the session before the rows,
    so a kept reading is never older than its key.

    A session that may hold changes of its own (a write session, or rows flushed or pending)
    keeps nothing across transactions: its readings may show what is not committed.
    """
    if _may_hold_changes(session):
        return remembered(session, key, read)

    def kept() -> T:
        version = _version_until(_kept_changes(session), until, scores, contacts)
        full_key = (str(session.get_bind().url), version, scores, contacts, key)
        with _kept_lock:
            if full_key in _kept:
                _kept.move_to_end(full_key)
                return _kept[full_key]  # type: ignore[return-value]
        value = read()
        with _kept_lock:
            _kept[full_key] = value
            while len(_kept) > KEPT_READINGS:
                _kept.popitem(last=False)
        return value

    return remembered(session, key, kept)


def _may_hold_changes(session: Session) -> bool:
    bind = session.get_bind()
    return bool(bind.get_execution_options().get(_WRITE) or session.info.get(_CHANGED)
                or session.new or session.dirty or session.deleted)


def forget_kept() -> None:
    """Drop every reading kept across transactions (`settled`, `kept_by_course`)."""
    with _kept_lock:
        _kept.clear()
        _by_course.clear()
    _changes_read.clear()


# Readings of rows per course (the work list's flagged courses), kept across transactions and
# brought up to date course by course: after changes that each wrote the rows of one course
# (`DataChange.course_id`), only those courses are read again.
KEPT_BY_COURSE = 64  # keys kept, the least recently used dropped
_by_course: OrderedDict[Hashable, tuple[int, Mapping[int, Any]]] = OrderedDict()


def kept_by_course(session: Session, key: Hashable,
                   read: Callable[[Collection[int] | None], Mapping[int, T]]) -> Mapping[int, T]:
    """What `read(None)` gives (course id → its value, for every course it finds), kept across
    transactions in this process, on `key`. `read(ids)` must give the same for those courses
    alone (a course not found has no value). When the data version has moved, and every change
    since the kept one wrote the rows of one course, only those courses are read again;
    after any other change (rows of several courses, or of other tables, or a bulk statement),
    all. The result is shared: callers must not change it.

    The newest change is read in the session before the rows, so what is kept is never older
    than its version. A session that may hold changes of its own keeps nothing.
    """
    if _may_hold_changes(session):
        return read(None)
    changes = _kept_changes(session)
    newest = changes[0][0] if changes else 0
    full_key = (str(session.get_bind().url), key)
    with _kept_lock:
        known = _by_course.get(full_key)
        if known is not None:
            _by_course.move_to_end(full_key)
    if known is not None and known[0] == newest:
        return known[1]
    courses = None if known is None else _courses_changed_after(changes, known[0])
    if courses is None:
        found = read(None)
    elif not courses:  # kept by a reader that saw newer changes than this session
        return known[1]  # type: ignore[index]
    else:
        fresh = read(courses)
        found = {course_id: value for course_id, value in known[1].items() if course_id not in courses}  # type: ignore[union-attr]
        found.update(fresh)
    with _kept_lock:
        current = _by_course.get(full_key)
        if current is None or current[0] < newest:
            _by_course[full_key] = newest, found
            _by_course.move_to_end(full_key)
            while len(_by_course) > KEPT_BY_COURSE:
                _by_course.popitem(last=False)
    return found


def _courses_changed_after(changes: tuple[Change, ...], version: int) -> set[int] | None:
    """The courses written by the changes after `version`, when each wrote rows of one course;
    None when one wrote anything else, or when not every change after it is still kept."""
    found: set[int] = set()
    for id_, _, _, _, course_id in changes:  # newest first
        if id_ <= version:
            return found
        if course_id is None:
            return None
        found.add(course_id)
    return found if changes and changes[-1][0] == version + 1 else None  # none pruned after it


@event.listens_for(Session, "after_transaction_end")
def _forget_readings(session: Session, _transaction) -> None:  # type: ignore[no-untyped-def]
    # Every flush runs in a subtransaction of its own, so this also fires after each flush.
    session.info.pop(_READINGS, None)


KEEP_CHANGE_ROWS = 1000  # older change rows are pruned; only the newest id matters


def _stamp_data_version(session: Session) -> None:
    from fokus.models import DataChange, now_utc

    session.flush()
    courses = session.info.pop(_COURSES, None)
    if not session.info.pop(_CHANGED, False):
        return
    # On the connection, not through the ORM: a save's time is mostly per statement.
    connection, table = session.connection(), DataChange.__table__  # type: ignore[attr-defined]
    if connection.dialect.name == "postgresql":
        # Change ids must commit in their order: a reader that saw change n must never see an
        # older one commit after it (its caches would miss that save). SQLite writers queue
        # already (BEGIN IMMEDIATE); on PostgreSQL the stamps queue here until each commits.
        connection.execute(sa.text("LOCK TABLE datachange IN SHARE ROW EXCLUSIVE MODE"))
    change_id = connection.execute(sa.insert(table).values(
        at=now_utc(), since=_earliest_day(session), scores_only=not session.info.pop(_NOT_SCORES, False),
        contact_only=not session.info.pop(_NOT_CONTACT, False),
        course_id=next(iter(courses)) if isinstance(courses, set) and len(courses) == 1 else None,
    ).returning(table.c.id)).scalar_one()
    if change_id % KEEP_CHANGE_ROWS == 0:
        connection.execute(sa.delete(table).where(table.c.id <= change_id - KEEP_CHANGE_ROWS))


def _earliest_day(session: Session) -> date_type | None:
    """The earliest day the transaction's changes can move a figure of; None for any day."""
    from fokus.models import Course, GroupSession

    noted = session.info.pop(_SINCE, None)
    courses = session.info.get(_STALE_COURSES) or set()
    attended = session.info.pop(_ATTENDED_SESSIONS, set())
    if noted == _ANY_DAY:
        return None
    found = [noted] if noted is not None else []
    # A course's start as the session holds it, flushed (the stamp flushes first): no round trip.
    held = {course_id: sa.inspect(course) for course_id, course in (
        (course_id, session.identity_map.get(sa.inspect(Course).identity_key_from_primary_key((course_id,))))
        for course_id in courses) if course is not None}
    known = {course_id: state.dict["start"] for course_id, state in held.items()
             if "start" in state.dict and not state.modified}
    found.extend(known.values())
    courses = set(courses) - known.keys()
    for model, day, ids in ((Course, Course.start, courses), (GroupSession, GroupSession.date, attended)):
        for chunk in _chunks(sorted(ids)):
            found.extend(session.execute(sa.select(sa.func.min(day)).where(col(model.id).in_(chunk))).scalars())
    found = [day for day in found if day is not None]
    return min(found) if found else None


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for at in range(0, len(ids), size):
        yield ids[at:at + size]


# A kept `DataChange`: id, since, scores only, contact only, the one course it wrote
Change = tuple[int, date_type | None, bool, bool, int | None]


_changes_read: dict[str, tuple[int, tuple[Change, ...]]] = {}  # URL → (newest id, the rows then)


def _kept_changes(session: Session) -> tuple[Change, ...]:
    """The change rows kept (at most `KEEP_CHANGE_ROWS`), newest first; read once per transaction,
    and again only when a newer change has been committed."""
    from fokus.models import DataChange

    def read() -> tuple[Change, ...]:
        url = str(session.get_bind().url)
        newest = int(session.execute(sa.select(sa.func.coalesce(sa.func.max(DataChange.id), 0))).scalar_one())
        known = _changes_read.get(url)
        if known is not None and known[0] == newest:
            return known[1]
        rows = tuple((int(id_), since, bool(scores_only), bool(contact_only), course_id)
                     for id_, since, scores_only, contact_only, course_id in session.execute(
                         sa.select(DataChange.id, DataChange.since, DataChange.scores_only, DataChange.contact_only,
                                   DataChange.course_id)
                         .order_by(col(DataChange.id).desc())))
        _changes_read[url] = newest, rows
        return rows
    return remembered(session, ("data changes",), read)


def _version_until(changes: tuple[Change, ...], day: date_type, scores: bool, contacts: bool) -> int:
    for id_, since, scores_only, contact_only, _ in changes:
        if (since is None or since <= day) and (scores or not scores_only) and (contacts or not contact_only):
            return id_
    return changes[-1][0] - 1 if changes else 0


def data_version_until(day: date_type, engine: Engine | None = None, *, scores: bool = True,
                       contacts: bool = True) -> int:
    """A key that moves with every committed change that can move a figure of a period ending
    on `day` (a change whose rows all lie after `day` leaves it), and never comes back to a
    value it had: the newest such change kept, or below the oldest change kept.

    `scores=False`: for figures that do not read ORS scores; changes that wrote only scores
    (`DataChange.scores_only`) leave it too. `contacts=False`: for figures that do not read who a
    course's contact person is (not narrowed to contact people); changes of a contact person
    alone (`DataChange.contact_only`) leave it too.
    """
    with Session(engine or engine_for()) as session:
        return _version_until(_kept_changes(session), day, scores, contacts)


def data_version(engine: Engine | None = None, *, scores: bool = True, contacts: bool = True) -> int:
    """The newest committed change of the unit's data (0 before any): a key to cache figures on.

    `scores=False`, `contacts=False`: as for `data_version_until`.
    """
    from fokus.models import DataChange

    if not scores or not contacts:
        return data_version_until(date_type.max, engine, scores=scores, contacts=contacts)

    with Session(engine or engine_for()) as session:
        return int(session.execute(sa.select(sa.func.coalesce(sa.func.max(DataChange.id), 0))).scalar_one())


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """One write transaction: committed when the block ends, rolled back on any error.

    A transaction that changed the unit's data raises the data version as it commits.
    """
    engine = engine or engine_for()
    try:
        with (
            Session(engine.execution_options(**{_WRITE: True}), expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session
            _stamp_data_version(session)
    except PermissionDenied as denied:
        record_denied(denied, engine)
        raise
    except sa.exc.IntegrityError as error:
        raise ConflictError(_integrity_message(str(error.orig))) from error
    except sa.exc.OperationalError as error:
        detail = str(error.orig).lower()
        if any(sign in detail for sign in ("locked", "could not serialize", "deadlock detected")):
            raise ConflictError("Databasen er optaget lige nu: vent et øjeblik, og gem igen.") from error
        raise


# Transaction-level locks for saves that must take turns although they change different rows
# (the next automatic course reference of a unit). Two-key advisory locks: a space of their own,
# apart from the migration lock's one key.
_TURN_TOPICS = {"course_ref": 1}


def take_turn(session: Session, topic: str, key: int) -> None:
    """Wait until no other transaction holds `topic` for `key`; hold it until this one ends.

    On SQLite every write transaction already holds the database's write lock (BEGIN IMMEDIATE);
    on PostgreSQL this is an advisory lock, so a colleague's save of the same kind waits for
    this one to commit and then reads what it wrote, instead of colliding with it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:topic, :key)"),
                        {"topic": _TURN_TOPICS[topic], "key": key})


def unreachable(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection (stopped, restarting, network
    gone): nothing the user did, and it passes by itself (the pool checks connections before use)."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError)


def record_denied(denied: PermissionDenied, engine: Engine | None = None) -> None:
    """Log a refused attempt in a transaction of its own (the refused one was rolled back)."""
    from fokus import audit
    from fokus.actor import Actor

    actor = denied.actor if isinstance(denied.actor, Actor) else Actor("ukendt", "none", frozenset())
    engine = engine or engine_for()
    with Session(engine.execution_options(**{_WRITE: True})) as session, session.begin():
        audit.record(session, actor, "denied", detail=denied.what or denied.message)


# What a person should read when the database itself refuses a write that the service
# functions' own checks let through (two users saving the same thing at the same moment).
# Keys: PostgreSQL names the constraint, SQLite names the columns.
_CONSTRAINT_MESSAGES = {
    "course.citizen_id": "Borgeren har allerede et åbent forløb: afslut det, før et nyt startes.",
    "course.referral_id": "Henvisningen har allerede et forløb.",
    "course.unit_id, course.ref": "Forløbsreferencen bruges allerede i enheden.",
    "citizen.unit_id, citizen.ref": "Borgerens reference bruges allerede i enheden.",
    "referral.citizen_id, referral.received": "Borgeren har allerede en henvisning med den dato.",
    "groupsession.group_id, groupsession.date": "Holdet har allerede et møde den dag.",
    "uq_course_one_open_per_citizen": "Borgeren har allerede et åbent forløb: afslut det, før et nyt startes.",
    "uq_course_referral": "Henvisningen har allerede et forløb.",
    "uq_course_unit_ref": "Forløbsreferencen bruges allerede i enheden.",
    "uq_citizen_unit_ref": "Borgerens reference bruges allerede i enheden.",
    "uq_referral_citizen_received": "Borgeren har allerede en henvisning med den dato.",
    "uq_groupsession_group_date": "Holdet har allerede et møde den dag.",
    "uq_staff_unit_initials": "Initialerne bruges allerede i enheden.",
    "uq_group_unit_name": "Der findes allerede et hold med det navn.",
}


def _integrity_message(detail: str) -> str:
    for constraint, message in _CONSTRAINT_MESSAGES.items():
        if constraint in detail:
            return message + " Dine indtastninger er bevaret: genindlæs og prøv igen."
    return "Ændringen strider mod en regel i databasen og blev ikke gemt: genindlæs og prøv igen."


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# Any fixed number: PostgreSQL's advisory lock that lets only one migration run at a time.
MIGRATION_LOCK_ID = 8_202_082


@contextmanager
def migration_transaction(connection: sa.Connection) -> Iterator[None]:
    """The one transaction a run of migrations happens in; two runs at once queue behind each other.

    SQLite takes the write lock at BEGIN IMMEDIATE, PostgreSQL an advisory lock. On SQLite the
    foreign keys are off during the run: Alembic's batch mode rebuilds a table by copying it and
    dropping the original, which fails while rows of other tables refer to it. The pragma can
    only change outside a transaction, so it is turned off before BEGIN and on again after, and
    PRAGMA foreign_key_check proves before COMMIT that every reference still holds.
    """
    if connection.in_transaction():  # the caller's own transaction: run inside it as it is
        yield
        return
    if connection.dialect.name != "sqlite":
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.execution_options(**{_WRITE: True}).begin():
            yield
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"The migration left rows that refer to missing rows: {broken[:10]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def upgrade_to_head(url: str | None = None) -> None:
    """Bring the database up to the newest migration (creating it when new)."""
    from alembic import command

    url = url or config.database_url()
    if current_revision(url) == head_revision():
        # Nothing to run, so no migration transaction: on SQLite its closing foreign-key check reads
        # every page of the file (800 MB at bench size L, all of it then resident in the server).
        return
    with engine_for(url).connect() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection  # env.py runs it in `migration_transaction`
        command.upgrade(cfg, "head")


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head
