"""What the entry pages read: waiting list, active courses, a course's record, search, load, groups.

Every function reads only the units the actor may see, never wider, with a few SQL queries each
(aggregates and window functions in the database; no table is loaded whole), and returns small
frozen dataclasses (or a DataFrame for a chart).

Reading a citizen's record is itself a use of their data (DESIGN §8). `course_detail` logs
"viewed" and `find_citizens` logs "searched", once per user and citizen (or search text) while
the caller keeps the same `seen` set (a set in `st.session_state`: one browser session); with
`seen=None` every call is logged. The entry is written in a transaction of its own (so pass a
read session, `db.read_session()`), unless the caller's session is itself a write session: then
it goes into the caller's transaction, and is written only if that transaction commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from fokus import audit, codes, db, metrics, ors
from fokus import validate as v
from fokus.actor import Actor
from fokus.clock import add_months
from fokus.clock import today as today_in_copenhagen
from fokus.errors import NotFoundError
from fokus.models import (
    Attendance,
    Citizen,
    Course,
    Group,
    GroupSession,
    NetworkMeeting,
    OrsScore,
    Referral,
    SrsScore,
    Staff,
)

SEARCH_LIMIT = 20  # citizens shown for one search; a longer list means: type more


# ---------------------------------------------------------------------------------------
# Scope and small helpers

def _in_units(column: Any, actor: Actor) -> sa.ColumnElement[bool]:
    return sa.true() if actor.unit_ids is None else column.in_(sorted(actor.unit_ids))


def _active_on(day: date) -> sa.ColumnElement[bool]:
    """DESIGN §3: start ≤ d and (no end or end > d)."""
    return sa.and_(col(Course.start) <= day, sa.or_(col(Course.end).is_(None), col(Course.end) > day))


def _active_ids(day: date) -> sa.ColumnElement[bool]:
    """`_active_on` as "still open" and "ended after the day": two ranges of the end index, so a
    database's years of ended courses are never read (an OR of the two makes planners scan them)."""
    return col(Course.id).in_(sa.union_all(
        select(Course.id).where(col(Course.end).is_(None), col(Course.start) <= day),
        select(Course.id).where(col(Course.end) > day, col(Course.start) <= day),
    ))


def _srs_total() -> Any:
    return SrsScore.relation + SrsScore.goals + SrsScore.approach + SrsScore.overall


@dataclass(frozen=True)
class _Ends:
    """A course's first, latest and second-latest score totals (tenths), its count and latest date."""

    count: int = 0
    first: int | None = None
    latest: int | None = None
    previous: int | None = None
    last_date: date | None = None


def _score_ends(session: Session, model: Any, total: Any, course_ids: Any) -> dict[int, _Ends]:
    """Per course in `course_ids` (a select of ids): at most three rows come back from the database."""
    order = (col(model.date), col(model.session_no), col(model.id))
    per_course = col(model.course_id)
    ranked = (
        select(
            per_course.label("course_id"),
            total.label("total"),
            col(model.date).label("day"),
            func.row_number().over(partition_by=per_course, order_by=order).label("up"),
            func.row_number().over(partition_by=per_course, order_by=[c.desc() for c in order]).label("down"),
            func.count().over(partition_by=per_course).label("n"),
        )
        .where(per_course.in_(course_ids))
        .subquery()
    )
    rows = session.exec(
        select(ranked.c.course_id, ranked.c.total, ranked.c.day, ranked.c.up, ranked.c.down, ranked.c.n)
        .where(sa.or_(ranked.c.up == 1, ranked.c.down <= 2))
    ).all()
    found: dict[int, dict[str, Any]] = {}
    for course_id, total_, day, up, down, n in rows:
        ends = found.setdefault(course_id, {"count": int(n)})
        if up == 1:
            ends["first"] = int(total_)
        if down == 1:
            ends["latest"], ends["last_date"] = int(total_), day
        if down == 2:
            ends["previous"] = int(total_)
    return {course_id: _Ends(**ends) for course_id, ends in found.items()}


def _flags(start: date, end: date | None, targets: metrics.Targets, ors_ends: _Ends, srs_ends: _Ends,
           day: date) -> tuple[str, ...]:
    defaults = metrics.DEFAULT_TARGETS
    return ors.course_flags(
        start=start, end=end, today=day,
        ors_count=ors_ends.count, ors_first=ors_ends.first, ors_latest=ors_ends.latest, last_ors=ors_ends.last_date,
        srs_latest=srs_ends.latest, srs_previous=srs_ends.previous,
        weeks_max=targets.weeks_max or defaults.weeks_max or 16,
        max_months=targets.max_months or defaults.max_months or 6,
        rci_points=targets.rci or defaults.rci or 5.0,
    )


def _log_once(session: Session, seen: set[Any] | None, key: tuple[Any, ...], write: Any) -> None:
    """Run `write(session)` (which records audit entries) unless `seen` already holds `key`."""
    if seen is not None and key in seen:
        return
    bind = session.get_bind()
    if bind.get_execution_options().get(db._WRITE):  # the caller's own write transaction
        write(session)
    else:
        with db.write_session(bind if isinstance(bind, sa.Engine) else None) as log_session:
            write(log_session)
    if seen is not None:
        seen.add(key)


# ---------------------------------------------------------------------------------------
# The waiting list

@dataclass(frozen=True)
class WaitingReferral:
    referral_id: int
    version: int
    unit_id: int
    citizen_id: int
    citizen_ref: str
    birth_year: int
    received: date
    days_waited: int
    referrer: str
    target_group: str
    from_sel85: bool
    age_note: str | None


def waiting_list(
    session: Session, actor: Actor, *, today: date, unit_ids: Collection[int] | None = None,
    waited_over_days: int | None = None,
) -> list[WaitingReferral]:
    """Referrals waiting now, longest wait first; days waited counted up to `today`.

    In the actor's units, narrowed to `unit_ids`; `waited_over_days` keeps only those received
    more than that many days before `today`.
    """
    scope = metrics.visible_unit_ids(actor, unit_ids)
    where = [
        # decided is empty exactly while waiting (a CHECK constraint): its index finds them at any size
        col(Referral.decided).is_(None), col(Referral.status) == "waiting",
        sa.true() if scope is None else col(Referral.unit_id).in_(sorted(scope)),
    ]
    if waited_over_days is not None:
        where.append(col(Referral.received) < today - timedelta(days=waited_over_days))
    rows = session.exec(
        select(Referral.id, Referral.version, Referral.unit_id, Referral.citizen_id, Citizen.ref, Citizen.birth_year,
               Referral.received, Referral.referrer, Referral.target_group, Referral.from_sel85, Referral.age_note)
        .join(Citizen, col(Citizen.id) == col(Referral.citizen_id))
        .where(*where)
        .order_by(col(Referral.received), col(Referral.id))
    ).all()
    return [
        WaitingReferral(
            referral_id=referral_id, version=version, unit_id=unit_id, citizen_id=citizen_id, citizen_ref=ref,
            birth_year=birth_year, received=received, days_waited=(today - received).days,
            referrer=referrer, target_group=target_group, from_sel85=from_sel85, age_note=age_note,
        )
        for (referral_id, version, unit_id, citizen_id, ref, birth_year, received, referrer, target_group, from_sel85,
             age_note) in rows
    ]


# ---------------------------------------------------------------------------------------
# Active courses

@dataclass(frozen=True)
class ActiveCourse:
    course_id: int
    version: int
    unit_id: int
    ref: str
    citizen_id: int
    citizen_ref: str
    form: str
    group_id: int | None
    group_name: str | None
    contact_person_id: int | None
    contact_initials: str | None
    start: date
    weeks_elapsed: float
    last_ors: date | None
    ors_count: int
    flags: tuple[str, ...]


def _may_need_action(today: date, targets: Iterable[metrics.Targets]) -> sa.ColumnElement[bool]:
    """A superset of the active courses with an action flag (`ACTION_FLAGS` of fokus.dashboard),
    in SQL from the stored summaries: old enough for a duration flag under the most lenient of
    the units' targets, no ORS for `NO_ORS_DAYS`, or a fall of at least the smallest RCI."""
    found = list(targets) or [metrics.DEFAULT_TARGETS]
    defaults = metrics.DEFAULT_TARGETS
    weeks = min(t.weeks_max or defaults.weeks_max or 16 for t in found)
    months = min(t.max_months or defaults.max_months or 6 for t in found)
    rci = min(t.rci or defaults.rci or 5.0 for t in found)
    started_by = max(today - timedelta(weeks=weeks), add_months(today, -months) + timedelta(days=ors.NEAR_MAX_DAYS))
    measured = sa.func.coalesce(col(Course.ors_last_date), col(Course.start))
    return sa.or_(
        col(Course.start) <= started_by,
        measured <= today - timedelta(days=ors.NO_ORS_DAYS),
        sa.and_(col(Course.ors_count) >= 2, col(Course.ors_last) - col(Course.ors_first) <= -round(rci * 10)),
    )


def active_courses(
    session: Session, actor: Actor, *, today: date, unit_ids: Collection[int] | None = None,
    may_need_action: bool = False, course_ids: Collection[int] | None = None,
) -> list[ActiveCourse]:
    """Courses active on `today` (DESIGN §3), longest running first, with their flags (`fokus.ors`).

    In the actor's units, narrowed to `unit_ids`. ORS flags come from the course's stored
    summary (`fokus.summaries`), SRS flags from its two latest SRS scores. `may_need_action`
    reads only the courses that can carry an action flag (`_may_need_action`), for the
    dashboard's work list at any size: their ORS and duration flags are computed in full, and
    no SRS flags (none of them is an action flag). `course_ids`: only these courses.
    """
    scope = metrics.visible_unit_ids(actor, unit_ids)
    in_units = sa.true() if scope is None else col(Course.unit_id).in_(sorted(scope))
    targets = metrics.targets_by_unit(session, scope, today)
    where = [_active_ids(today), in_units]
    if may_need_action:
        where.append(_may_need_action(today, targets.values()))
    if course_ids is not None:
        where.append(col(Course.id).in_(sorted(course_ids)))
    rows = session.exec(
        select(Course.id, Course.version, Course.unit_id, Course.ref, Course.citizen_id, Citizen.ref, Course.form,
               Course.group_id, Group.name, Course.contact_person_id, Staff.initials, Course.start, Course.end,
               Course.ors_count, Course.ors_first, Course.ors_last, Course.ors_last_date)
        .join(Citizen, col(Citizen.id) == col(Course.citizen_id))
        .join(Group, col(Group.id) == col(Course.group_id), isouter=True)
        .join(Staff, col(Staff.id) == col(Course.contact_person_id), isouter=True)
        .where(*where)
        .order_by(col(Course.start), col(Course.ref))
    ).all()
    srs_ends = {} if may_need_action else _score_ends(session, SrsScore, _srs_total(), select(Course.id).where(*where))
    result = []
    for (course_id, version, unit_id, ref, citizen_id, citizen_ref, form, group_id, group_name, contact_id, initials,
         start, end, ors_count, ors_first, ors_last, ors_last_date) in rows:
        scores = _Ends(count=ors_count, first=ors_first, latest=ors_last, last_date=ors_last_date)
        result.append(ActiveCourse(
            course_id=course_id, version=version, unit_id=unit_id, ref=ref, citizen_id=citizen_id,
            citizen_ref=citizen_ref, form=form, group_id=group_id, group_name=group_name,
            contact_person_id=contact_id, contact_initials=initials,
            start=start, weeks_elapsed=ors.weeks_elapsed(start, today),
            last_ors=ors_last_date, ors_count=ors_count,
            flags=_flags(start, end, targets.get(unit_id, metrics.DEFAULT_TARGETS), scores,
                         srs_ends.get(course_id, _Ends()), today),
        ))
    return result


# ---------------------------------------------------------------------------------------
# One course's record

@dataclass(frozen=True)
class OrsRow:
    id: int
    version: int
    date: date
    session_no: int
    items: dict[str, int] = field(hash=False)  # tenths, keyed by codes.ORS_ITEMS
    total: int  # tenths


@dataclass(frozen=True)
class SrsRow:
    id: int
    version: int
    date: date
    session_no: int
    items: dict[str, int] = field(hash=False)  # tenths, keyed by codes.SRS_ITEMS
    total: int  # tenths
    group_session: bool


@dataclass(frozen=True)
class MeetingRow:
    id: int
    version: int
    date: date
    participants: int


@dataclass(frozen=True)
class CourseDetail:
    course_id: int
    version: int
    unit_id: int
    ref: str
    start: date
    form: str
    group_id: int | None
    group_name: str | None
    contact_person_id: int | None
    contact_initials: str | None
    end: date | None
    end_reason: str | None
    next_step: str | None
    weeks_elapsed: float  # up to the end, or to today while active
    citizen_id: int
    citizen_version: int
    citizen_ref: str
    birth_year: int
    referral_id: int
    referral_version: int
    received: date
    referrer: str
    target_group: str
    from_sel85: bool
    age_note: str | None
    ors: tuple[OrsRow, ...]  # in measurement order: (date, session number, entry order)
    srs: tuple[SrsRow, ...]
    meetings: tuple[MeetingRow, ...]
    flags: tuple[str, ...]
    ors_cutoff: float  # points, the unit's targets in force today
    rci: float


def _items(row: Any, names: dict[str, str]) -> dict[str, int]:
    return {name: getattr(row, name) for name in names}


def course_detail(
    session: Session, actor: Actor, *, course_id: int, seen: set[Any] | None, today: date | None = None
) -> CourseDetail:
    """A course with its citizen, referral, scores and meetings; logs "viewed" once per `seen`."""
    course = session.get(Course, course_id) if isinstance(course_id, int) else None
    if course is None:
        raise NotFoundError("Forløbet findes ikke (længere). Genindlæs siden.")
    actor.require_unit(course.unit_id)
    day = today or today_in_copenhagen()
    citizen = session.get(Citizen, course.citizen_id)
    referral = session.get(Referral, course.referral_id)
    assert citizen is not None and referral is not None
    group = session.get(Group, course.group_id) if course.group_id is not None else None
    staff = session.get(Staff, course.contact_person_id) if course.contact_person_id is not None else None
    ors_rows = session.exec(
        select(OrsScore).where(OrsScore.course_id == course.id)
        .order_by(col(OrsScore.date), col(OrsScore.session_no), col(OrsScore.id))
    ).all()
    srs_rows = session.exec(
        select(SrsScore).where(SrsScore.course_id == course.id)
        .order_by(col(SrsScore.date), col(SrsScore.session_no), col(SrsScore.id))
    ).all()
    meetings = session.exec(
        select(NetworkMeeting).where(NetworkMeeting.course_id == course.id)
        .order_by(col(NetworkMeeting.date), col(NetworkMeeting.id))
    ).all()
    ors_list = tuple(
        OrsRow(id=s.id, version=s.version, date=s.date, session_no=s.session_no,
               items=_items(s, codes.ORS_ITEMS), total=ors.total(_items(s, codes.ORS_ITEMS)))
        for s in ors_rows
    )
    srs_list = tuple(
        SrsRow(id=s.id, version=s.version, date=s.date, session_no=s.session_no,
               items=_items(s, codes.SRS_ITEMS), total=ors.total(_items(s, codes.SRS_ITEMS)),
               group_session=s.group_session)
        for s in srs_rows
    )
    targets = metrics.targets_for(session, [course.unit_id], day)
    ors_ends = _Ends(
        count=len(ors_list), first=ors_list[0].total if ors_list else None,
        latest=ors_list[-1].total if ors_list else None, last_date=ors_list[-1].date if ors_list else None,
    )
    srs_ends = _Ends(
        count=len(srs_list), latest=srs_list[-1].total if srs_list else None,
        previous=srs_list[-2].total if len(srs_list) >= 2 else None,
    )
    detail = CourseDetail(
        course_id=course.id, version=course.version, unit_id=course.unit_id, ref=course.ref, start=course.start,
        form=course.form, group_id=course.group_id, group_name=group.name if group else None,
        contact_person_id=course.contact_person_id, contact_initials=staff.initials if staff else None,
        end=course.end, end_reason=course.end_reason, next_step=course.next_step,
        weeks_elapsed=ors.weeks_elapsed(course.start, course.end or day),
        citizen_id=citizen.id, citizen_version=citizen.version, citizen_ref=citizen.ref,
        birth_year=citizen.birth_year, referral_id=referral.id, referral_version=referral.version,
        received=referral.received, referrer=referral.referrer, target_group=referral.target_group,
        from_sel85=referral.from_sel85, age_note=referral.age_note,
        ors=ors_list, srs=srs_list,
        meetings=tuple(MeetingRow(id=m.id, version=m.version, date=m.date, participants=m.participants)
                       for m in meetings),
        flags=_flags(course.start, course.end, targets, ors_ends, srs_ends, day),
        ors_cutoff=targets.ors_cutoff if targets.ors_cutoff is not None else 25.0,
        rci=targets.rci if targets.rci is not None else 5.0,
    )
    _log_once(
        session, seen, ("viewed", actor.login, citizen.id),
        lambda s: audit.record(s, actor, "viewed", "course", course.id, citizen=citizen, detail=course.ref),
    )
    return detail


def ors_series(session: Session, actor: Actor, *, course_id: int) -> pd.DataFrame:
    """A course's ORS in measurement order, in points: session_no, date, total and the four items.

    Not logged: it is shown beside `course_detail`, which logs the view.
    """
    course = session.get(Course, course_id) if isinstance(course_id, int) else None
    if course is None:
        raise NotFoundError("Forløbet findes ikke (længere). Genindlæs siden.")
    actor.require_unit(course.unit_id)
    rows = session.exec(
        select(OrsScore).where(OrsScore.course_id == course.id)
        .order_by(col(OrsScore.date), col(OrsScore.session_no), col(OrsScore.id))
    ).all()
    columns = ["session_no", "date", "total", *codes.ORS_ITEMS]
    return pd.DataFrame(
        [
            [s.session_no, s.date, ors.total(_items(s, codes.ORS_ITEMS)) / 10,
             *(getattr(s, name) / 10 for name in codes.ORS_ITEMS)]
            for s in rows
        ],
        columns=columns,
    )


def cutoff_and_rci(session: Session, unit_id: int, day: date) -> tuple[float, float]:
    """The unit's ORS cutoff and reliable change in points, in force on `day`."""
    targets = metrics.targets_for(session, [unit_id], day)
    defaults = metrics.DEFAULT_TARGETS
    cutoff = targets.ors_cutoff if targets.ors_cutoff is not None else defaults.ors_cutoff
    rci = targets.rci if targets.rci is not None else defaults.rci
    assert cutoff is not None and rci is not None
    return cutoff, rci


# ---------------------------------------------------------------------------------------
# Finding a citizen

@dataclass(frozen=True)
class CitizenHit:
    citizen_id: int
    unit_id: int
    ref: str
    birth_year: int
    open_course_id: int | None
    open_course_ref: str | None
    latest_course_id: int | None  # the latest started course, open or ended


def find_citizens(session: Session, actor: Actor, *, text: str, seen: set[Any] | None) -> list[CitizenHit]:
    """Citizens whose reference contains `text` in any case: the exact one, those starting with it, the rest.

    Any case as the database folds it: PostgreSQL by its locale, SQLite's lower() only A–Z (there
    a search typed with "ø" does not find a reference stored with "Ø").

    At most `SEARCH_LIMIT`. The text may not look like a CPR number. A search is logged as
    "searched", one entry per citizen found (or one naming the text when none is), once per
    user and text while `seen` is kept. The text is kept in `citizen_ref`, never in `detail`,
    so deleting a citizen later replaces it like every other reference (see `fokus.auditlog`).
    """
    wanted = v.text(text, "text", "Søgetekst", max_length=40, required=False)
    if wanted is None:
        return []
    needle = wanted.lower()
    lowered = func.lower(col(Citizen.ref))
    rank = sa.case((lowered == needle, 0), (lowered.startswith(needle, autoescape=True), 1), else_=2)
    citizens = session.exec(
        select(Citizen)
        .where(lowered.contains(needle, autoescape=True), _in_units(col(Citizen.unit_id), actor))
        .order_by(rank, col(Citizen.ref), col(Citizen.id))
        .limit(SEARCH_LIMIT)
    ).all()
    courses = session.exec(
        select(Course.citizen_id, Course.id, Course.ref, Course.end)
        .where(col(Course.citizen_id).in_([c.id for c in citizens]))
        .order_by(col(Course.start), col(Course.id))
    ).all() if citizens else []
    open_course: dict[int, tuple[int | None, str | None]] = {}
    latest: dict[int, int] = {}
    for citizen_id, course_id, ref, end in courses:  # ordered by start: the last one stays
        latest[citizen_id] = course_id
        if end is None:
            open_course[citizen_id] = (course_id, ref)

    def write(log_session: Session) -> None:
        for citizen in citizens:
            audit.record(log_session, actor, "searched", "citizen", citizen.id, citizen=citizen,
                         detail="søgning efter borger")
        if not citizens:
            event = audit.record(log_session, actor, "searched", "citizen", detail="søgning efter borger")
            event.citizen_ref = wanted

    _log_once(session, seen, ("searched", actor.login, needle), write)
    hits = []
    for c in citizens:
        open_id, open_ref = open_course.get(c.id, (None, None))
        hits.append(CitizenHit(
            citizen_id=c.id, unit_id=c.unit_id, ref=c.ref, birth_year=c.birth_year,
            open_course_id=open_id, open_course_ref=open_ref, latest_course_id=latest.get(c.id),
        ))
    return hits


# ---------------------------------------------------------------------------------------
# Staff load

@dataclass(frozen=True)
class StaffLoad:
    staff_id: int
    version: int
    unit_id: int
    name: str
    initials: str
    active: bool
    max_active_courses: int
    active_courses: int  # courses active on `today` with this contact person


def staff_load(session: Session, actor: Actor, *, today: date) -> list[StaffLoad]:
    """Every staff member of the actor's units with their active caseload; active staff first."""
    load = (
        select(func.count()).select_from(Course)
        .where(col(Course.contact_person_id) == col(Staff.id), _active_on(today))
        .scalar_subquery()
    )
    rows = session.exec(
        select(Staff, load)
        .where(_in_units(col(Staff.unit_id), actor))
        .order_by(col(Staff.active).desc(), col(Staff.name), col(Staff.id))
    ).all()
    return [
        StaffLoad(staff_id=s.id, version=s.version, unit_id=s.unit_id, name=s.name, initials=s.initials,
                  active=s.active, max_active_courses=s.max_active_courses, active_courses=int(n))
        for s, n in rows
    ]


# ---------------------------------------------------------------------------------------
# Groups

@dataclass(frozen=True)
class GroupRow:
    group_id: int
    version: int
    unit_id: int
    name: str
    theme: str
    start: date
    end: date | None
    capacity: int
    members_active: int  # courses on the group active on `today`
    occupancy: float  # members_active / capacity
    sessions_held: int  # group sessions registered up to `today`
    attendance_share: float | None  # present / (present + absent) over those sessions; None: none


def groups_overview(session: Session, actor: Actor, *, today: date) -> list[GroupRow]:
    """Every group of the actor's units, newest start first, with occupancy and attendance."""
    members = (
        select(func.count()).select_from(Course)
        .where(col(Course.group_id) == col(Group.id), _active_on(today))
        .scalar_subquery()
    )
    held = (
        select(func.count()).select_from(GroupSession)
        .where(col(GroupSession.group_id) == col(Group.id), col(GroupSession.date) <= today)
        .scalar_subquery()
    )
    def attendance(*where: sa.ColumnElement[bool]) -> Any:
        return (
            select(func.count()).select_from(Attendance)
            .join(GroupSession, col(GroupSession.id) == col(Attendance.session_id))
            .where(col(GroupSession.group_id) == col(Group.id), col(GroupSession.date) <= today, *where)
            .scalar_subquery()
        )

    present, registered = attendance(col(Attendance.present).is_(True)), attendance()
    rows = session.exec(
        select(Group, members, held, present, registered)
        .where(_in_units(col(Group.unit_id), actor))
        .order_by(col(Group.start).desc(), col(Group.name))
    ).all()
    return [
        GroupRow(
            group_id=g.id, version=g.version, unit_id=g.unit_id, name=g.name, theme=g.theme, start=g.start,
            end=g.end, capacity=g.capacity, members_active=int(m), occupancy=int(m) / g.capacity,
            sessions_held=int(h), attendance_share=int(p) / int(r) if r else None,
        )
        for g, m, h, p, r in rows
    ]


@dataclass(frozen=True)
class Member:
    course_id: int
    course_ref: str
    citizen_ref: str


def group_members(session: Session, actor: Actor, *, group_id: int, day: date) -> list[Member]:
    """The courses on the group that may attend a session on `day`, by citizen reference.

    As `services.add_group_session` counts them: started on or before the day and not ended
    before it (a course ending that day may attend its last session).
    """
    group = session.get(Group, group_id) if isinstance(group_id, int) else None
    if group is None:
        raise NotFoundError("Holdet findes ikke (længere). Genindlæs siden.")
    actor.require_unit(group.unit_id)
    rows = session.exec(
        select(Course.id, Course.ref, Citizen.ref)
        .join(Citizen, col(Citizen.id) == col(Course.citizen_id))
        .where(col(Course.group_id) == group.id, col(Course.start) <= day)
        .where(sa.or_(col(Course.end).is_(None), col(Course.end) >= day))
        .order_by(col(Citizen.ref), col(Course.id))
    ).all()
    return [Member(course_id=cid, course_ref=cref, citizen_ref=ref) for cid, cref, ref in rows]
