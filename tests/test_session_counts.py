"""The attendance counts each group session keeps (`GroupSession.present_count`,
`registered_count`; issue 8): they equal a count of the session's attendance rows after every
way attendance is written or deleted (a session registered, a course deleted with its rows, a
citizen deleted by the retention rule, a bulk insert) and after the migration that added them.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, col, func, select

from fokus import db, retention, services
from fokus.actor import SYSTEM
from fokus.models import Attendance, Course, GroupSession
from tests.test_summaries import empty_url  # noqa: F401, F811 — the fixture: a database with no tables

DAY = date(2024, 3, 4)


def stored_and_counted(unit_id: int | None = None) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """Each session's stored (present, registered) and the same counted from its rows."""
    with db.read_session() as s:
        sessions = s.exec(select(GroupSession)).all()
        rows = s.exec(select(Attendance.session_id, Attendance.present)).all()
    counted = {row.id: (0, 0) for row in sessions if row.id is not None}
    for session_id, present in rows:
        had_present, had = counted[session_id]
        counted[session_id] = had_present + int(bool(present)), had + 1
    stored = {row.id: (row.present_count, row.registered_count) for row in sessions if row.id is not None}
    return stored, counted


def group_with_members(unit_id: int, members: int) -> tuple[int, list[int]]:
    with db.write_session() as s:
        group = services.create_group(s, SYSTEM, unit_id=unit_id, name="Hold A", start=DAY - timedelta(days=7))
        courses = []
        for n in range(members):
            referral = services.register_referral(
                s, SYSTEM, unit_id=unit_id, citizen_ref=f"B{n}", birth_year=1980, received=DAY - timedelta(days=30),
                referrer="socialcenter", target_group="psychic")
            courses.append(services.start_course(s, SYSTEM, referral_id=referral.id, start=DAY - timedelta(days=7),
                                                 form="group", group_id=group.id).id)
        return int(group.id), courses  # type: ignore[arg-type]


def test_counts_follow_sessions_registered_and_a_course_deleted_with_its_attendance(unit_id: int) -> None:
    group, courses = group_with_members(unit_id, 4)
    with db.write_session() as s:
        services.add_group_session(s, SYSTEM, group_id=group, day=DAY, present_course_ids=courses[:3])
        services.add_group_session(s, SYSTEM, group_id=group, day=DAY + timedelta(days=7), present_course_ids=[])
    with db.write_session() as s:
        services.record_group_session(s, SYSTEM, group_id=group, day=DAY + timedelta(days=14),
                                      present_course_ids=courses[1:], scores={})
    stored, counted = stored_and_counted()
    assert sorted(stored.values()) == [(0, 4), (3, 4), (3, 4)] and stored == counted

    with db.write_session() as s:  # its attendance goes by a bulk delete
        services.delete_course(s, SYSTEM, course_id=courses[1], expected_version=None)
    stored, counted = stored_and_counted()
    assert sorted(stored.values()) == [(0, 3), (2, 3), (2, 3)] and stored == counted


def test_counts_follow_the_retention_rule_deleting_a_citizen(unit_id: int) -> None:
    group, courses = group_with_members(unit_id, 2)
    with db.write_session() as s:
        services.add_group_session(s, SYSTEM, group_id=group, day=DAY, present_course_ids=courses)
        for course in courses:
            services.end_course(s, SYSTEM, course_id=course, end=DAY + timedelta(days=1), end_reason="completed")
        citizen = s.exec(select(Course.citizen_id).where(Course.id == courses[0])).one()
    with db.write_session() as s:
        assert retention.delete_due(s, SYSTEM, date(2040, 1, 1), [citizen]) == 1  # Core deletes, table by table
    stored, counted = stored_and_counted()
    assert list(stored.values()) == [(1, 1)] and stored == counted


def test_a_bulk_insert_of_attendance_recounts_every_session(unit_id: int) -> None:
    group, courses = group_with_members(unit_id, 2)
    with db.write_session() as s:
        held = services.add_group_session(s, SYSTEM, group_id=group, day=DAY, present_course_ids=[courses[0]])
        s.execute(sa.delete(Attendance).where(col(Attendance.course_id) == courses[1]))
    with db.write_session() as s:
        s.execute(sa.insert(Attendance).values(session_id=held.id, course_id=courses[1], present=True))
        s.flush()
        assert s.exec(select(func.count()).select_from(Attendance)).one() == 2
    stored, counted = stored_and_counted()
    assert list(stored.values()) == [(2, 2)] and stored == counted


def test_the_migration_counts_the_attendance_of_sessions_written_before_it(empty_url: str) -> None:  # noqa: F811
    from tests.test_migrations import _insert
    from tests.test_summaries import _rows_at_0004

    config = db.alembic_config(empty_url)
    command.upgrade(config, "0007")
    rows = [*_rows_at_0004(),
            ("group", {"id": 1, "unit_id": 1, "name": "Hold A", "theme": "", "start": DAY, "end": None,
                       "capacity": 10, "version": 1}),
            *[("groupsession", {"id": n, "group_id": 1, "date": DAY + timedelta(days=7 * n), "version": 1})
              for n in (1, 2, 3)],
            *[("attendance", {"id": n, "session_id": session, "course_id": course, "present": present})
              for n, (session, course, present) in enumerate(((1, 1, True), (1, 2, False), (2, 1, False),
                                                              (2, 2, False)), start=1)]]
    _insert(empty_url, rows)

    command.upgrade(config, "0008")

    with Session(db.engine_for(empty_url)) as s:
        found = {row.id: (row.present_count, row.registered_count) for row in s.exec(select(GroupSession))}
    assert found == {1: (1, 2), 2: (0, 2), 3: (0, 0)}
