"""Per-course summaries, stored on the course so the figures never read every score (issue 8).

Each course carries what the metrics of DESIGN §3 need from its other rows:

- `wait_days` (start − its referral's received) and `duration_days` (end − start, None while
  open), so that medians and bands are a GROUP BY on one column;
- `network_meetings`: how many Open Dialogue meetings the course has had;
- `ors_count`, `ors_first`, `ors_last` and `ors_last_date`: the number of ORS scores, the first
  and last total in whole tenths and the last one's date, in the course's order (date, session
  number, id: `ORS_ORDER`);
- `ors_1` … `ors_20`: the totals of the first 20 scores in that order (None beyond the last).

They are kept up to date in the same transaction as the change that moves them: a Session hook
(`fokus.db`) notes every ORS score and network meeting added, changed or deleted, every course
whose start or end changed and every referral whose received date changed, and `refresh`
recomputes exactly those courses from their rows just before the transaction commits. `rebuild` recomputes every course
(the migration that added the columns, and bulk loads such as `bench/`). A refresh reads the few
scores of the courses it touches, so a save costs the same however many courses there are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import attributes
from sqlmodel import Session, col, func, select

from fokus.models import ORS_ORDINALS, Attendance, Course, GroupSession, NetworkMeeting, OrsScore, Referral

ORS_ORDER = (col(OrsScore.date), col(OrsScore.session_no), col(OrsScore.id))
ORDINAL_COLUMNS = tuple(f"ors_{n}" for n in range(1, ORS_ORDINALS + 1))
COLUMNS = ("wait_days", "duration_days", "network_meetings", "ors_count", "ors_first", "ors_last", "ors_last_date",
           *ORDINAL_COLUMNS)
CHUNK = 2_000  # courses per round trip: well inside every driver's limit on parameters


def ors_total() -> Any:
    """An ORS score's total in tenths (0–400), as a SQL expression."""
    return OrsScore.individual + OrsScore.interpersonal + OrsScore.social + OrsScore.overall


def summary(start: date, end: date | None, received: date, meetings: int, scores: list[tuple[date, int]]
            ) -> dict[str, Any]:
    """The stored summary of one course: its dates, its network meetings and its ORS scores in
    order, as (date, total in tenths)."""
    totals = [total for _, total in scores]
    values: dict[str, Any] = {
        "wait_days": (start - received).days,
        "duration_days": None if end is None else (end - start).days,
        "network_meetings": meetings,
        "ors_count": len(totals),
        "ors_first": totals[0] if totals else None,
        "ors_last": totals[-1] if totals else None,
        "ors_last_date": scores[-1][0] if scores else None,
    }
    values.update(zip(ORDINAL_COLUMNS, [*totals, *[None] * ORS_ORDINALS][:ORS_ORDINALS], strict=True))
    return values


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for at in range(0, len(ids), CHUNK):
        yield ids[at:at + CHUNK]


# One statement for a chunk of courses: each course's dates and its referral's received date, its
# network meetings counted, and its ORS scores in order (one row per score; one with no score when
# it has none). Built once, and run on the connection: a save's time is mostly per statement.
_IDS = sa.bindparam("ids", expanding=True)
_MEETINGS = (
    select(NetworkMeeting.course_id, func.count().label("meetings"))
    .where(col(NetworkMeeting.course_id).in_(_IDS)).group_by(col(NetworkMeeting.course_id)).subquery()
)
_READ = (
    select(Course.id, Course.start, Course.end, Referral.received, _MEETINGS.c.meetings, OrsScore.date, ors_total())
    .select_from(Course)
    .join(Referral, col(Referral.id) == col(Course.referral_id))
    .outerjoin(_MEETINGS, _MEETINGS.c.course_id == col(Course.id))
    .outerjoin(OrsScore, col(OrsScore.course_id) == col(Course.id))
    .where(col(Course.id).in_(_IDS))
    .order_by(col(Course.id), *ORS_ORDER)
)


def _summaries(session: Session, course_ids: list[int]) -> dict[int, dict[str, Any]]:
    dates: dict[int, tuple[date, date | None, date, int]] = {}
    scores: dict[int, list[tuple[date, int]]] = {}
    for course_id, start, end, received, meetings, day, total in session.connection().execute(
            _READ, {"ids": course_ids}):
        if course_id not in dates:
            dates[course_id], scores[course_id] = (start, end, received, int(meetings or 0)), []
        if day is not None:
            scores[course_id].append((day, int(total)))
    return {course_id: summary(start, end, received, meetings, scores[course_id])
            for course_id, (start, end, received, meetings) in dates.items()}


def _store(session: Session, found: dict[int, dict[str, Any]]) -> None:
    if not found:
        return
    statement = (
        sa.update(Course.__table__)  # type: ignore[attr-defined]
        .where(Course.__table__.c.id == sa.bindparam("course_id"))  # type: ignore[attr-defined]
        .values({name: sa.bindparam(name) for name in COLUMNS})
    )
    session.connection().execute(statement, [{"course_id": cid, **values} for cid, values in found.items()])
    for course_id, values in found.items():  # the session's own copies show the stored values too
        course = session.identity_map.get(sa.inspect(Course).identity_key_from_primary_key((course_id,)))
        if course is not None:
            for name, value in values.items():
                attributes.set_committed_value(course, name, value)


def refresh(session: Session, course_ids: Iterable[int] = (), referral_ids: Iterable[int] = ()) -> int:
    """Recompute the summaries of these courses and of the courses of these referrals; how many."""
    wanted = set(course_ids)
    referral_list = sorted(set(referral_ids))
    for chunk in _chunks(referral_list):
        wanted.update(cid for cid in session.exec(select(Course.id).where(col(Course.referral_id).in_(chunk)))
                      if cid is not None)
    done = 0
    for chunk in _chunks(sorted(wanted)):
        found = _summaries(session, chunk)
        _store(session, found)
        done += len(found)
    return done


def rebuild(session: Session, unit_ids: Collection[int] | None = None) -> int:
    """Recompute every course's summary (in these units); how many courses."""
    query = select(Course.id).order_by(col(Course.id))
    if unit_ids is not None:
        query = query.where(col(Course.unit_id).in_(sorted(unit_ids)))
    return refresh(session, [cid for cid in session.exec(query) if cid is not None])


# ---------------------------------------------------------------------------------------
# Group sessions: the attendance registered and how much of it present (`GroupSession`)


def refresh_sessions(session: Session, session_ids: Iterable[int] | None) -> None:
    """Recount the attendance of these group sessions (None: of every session) from its rows."""
    table = GroupSession.__table__  # type: ignore[attr-defined]
    attendance = Attendance.__table__  # type: ignore[attr-defined]

    def counted(*where: Any) -> Any:
        return (sa.select(sa.func.count()).select_from(attendance)
                .where(attendance.c.session_id == table.c.id, *where).scalar_subquery())

    recount = sa.update(table).values(present_count=counted(attendance.c.present.is_(True)),
                                      registered_count=counted())
    if session_ids is None:
        session.connection().execute(recount)
        wanted = None
    else:
        wanted = sorted(set(session_ids))
        for chunk in _chunks(wanted):
            session.connection().execute(recount.where(table.c.id.in_(chunk)))
    for row in list(session.identity_map.values()):  # the session's own copies read the stored counts again
        if isinstance(row, GroupSession) and (wanted is None or row.id in wanted):
            session.expire(row, ["present_count", "registered_count"])
