"""Each kind of use leaves exactly the audit entries DESIGN §8 describes: who, what, which citizen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from fokus import audit, clock, db, services
from fokus.actor import Actor
from fokus.models import AuditEvent

ORS = {"individual": 50, "interpersonal": 60, "social": 40, "overall": 55}


def entries_since(last_id: int) -> list[tuple[str, str, str | None, str]]:
    with db.read_session() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.id > last_id).order_by(col(AuditEvent.id))).all()
        return [(row.action, row.table_name, row.citizen_ref, row.user_login) for row in rows]


def last_id() -> int:
    with db.read_session() as session:
        return session.exec(select(AuditEvent.id).order_by(col(AuditEvent.id).desc())).first() or 0


@pytest.fixture
def staff_actor(unit_id: int) -> Actor:
    return Actor(login="anne@faxe.dk", role="staff", unit_ids=frozenset({unit_id}), user_id=None)


def test_each_service_writes_one_entry_naming_the_user_the_table_and_the_citizen(
    unit_id: int, staff_actor: Actor
) -> None:
    today = clock.today()
    steps: list[tuple[str, list[tuple[str, str, str | None, str]]]] = []
    with db.write_session() as session:
        staff = services.add_staff(session, staff_actor, unit_id=unit_id, name="Anne Berg", initials="AB")
    with db.write_session() as session:
        group = services.create_group(session, staff_actor, unit_id=unit_id, name="Hold 1", start=today - timedelta(60))

    mark = last_id()
    with db.write_session() as session:
        referral = services.register_referral(
            session, staff_actor, unit_id=unit_id, citizen_ref="SAG-100200", birth_year=1985,
            received=today - timedelta(50), referrer="socialcenter", target_group="psychic",
        )
    steps.append(("register_referral", entries_since(mark)))
    mark = last_id()
    with db.write_session() as session:
        course = services.start_course(session, staff_actor, referral_id=referral.id, start=today - timedelta(40),
                                       form="group", group_id=group.id, contact_person_id=staff.id)
    steps.append(("start_course", entries_since(mark)))
    mark = last_id()
    with db.write_session() as session:
        services.add_ors(session, staff_actor, course_id=course.id, day=today - timedelta(40), items=ORS)
    steps.append(("add_ors", entries_since(mark)))
    mark = last_id()
    with db.write_session() as session:
        services.add_network_meeting(session, staff_actor, course_id=course.id, day=today - timedelta(30),
                                     participants=4)
    steps.append(("add_network_meeting", entries_since(mark)))
    mark = last_id()
    with db.write_session() as session:
        services.add_group_session(session, staff_actor, group_id=group.id, day=today - timedelta(33),
                                   present_course_ids=[course.id])
    steps.append(("add_group_session", entries_since(mark)))
    mark = last_id()
    with db.write_session() as session:
        services.end_course(session, staff_actor, course_id=course.id, end=today - timedelta(1),
                            end_reason="completed", next_step="job")
    steps.append(("end_course", entries_since(mark)))

    who = staff_actor.login
    assert dict(steps) == {
        "register_referral": [("created", "citizen", "SAG-100200", who), ("created", "referral", "SAG-100200", who)],
        "start_course": [("created", "course", "SAG-100200", who)],
        "add_ors": [("created", "orsscore", "SAG-100200", who)],
        "add_network_meeting": [("created", "networkmeeting", "SAG-100200", who)],
        "add_group_session": [("created", "attendance", "SAG-100200", who)],
        "end_course": [("changed", "course", "SAG-100200", who)],
    }


def test_a_second_referral_of_a_known_citizen_does_not_log_the_citizen_as_created_again(
    unit_id: int, staff_actor: Actor
) -> None:
    today = clock.today()
    with db.write_session() as session:
        first = services.register_referral(
            session, staff_actor, unit_id=unit_id, citizen_ref="SAG-300400", birth_year=1990,
            received=today - timedelta(100), referrer="jobcenter", target_group="social",
        )
        services.decide_referral(session, staff_actor, referral_id=first.id, status="withdrawn",
                                 decided=today - timedelta(90), reason="declined")
    mark = last_id()
    with db.write_session() as session:
        services.register_referral(
            session, staff_actor, unit_id=unit_id, citizen_ref="SAG-300400", birth_year=1990,
            received=today - timedelta(10), referrer="jobcenter", target_group="social",
        )
    assert entries_since(mark) == [("created", "referral", "SAG-300400", staff_actor.login)]


def test_a_refused_write_leaves_no_entry_but_a_refused_permission_leaves_one_denied(
    unit_id: int, staff_actor: Actor
) -> None:
    from fokus.errors import PermissionDenied, ValidationError

    mark = last_id()
    with pytest.raises(ValidationError), db.write_session() as session:
        services.register_referral(
            session, staff_actor, unit_id=unit_id, citizen_ref="", birth_year=1990,
            received=clock.today(), referrer="jobcenter", target_group="social",
        )
    assert entries_since(mark) == []

    screen = Actor(login="skaerm", role="screen", unit_ids=frozenset({unit_id}))
    with pytest.raises(PermissionDenied), db.write_session() as session:
        services.register_referral(
            session, screen, unit_id=unit_id, citizen_ref="SAG-1", birth_year=1990,
            received=clock.today(), referrer="jobcenter", target_group="social",
        )
    assert [(action, login) for action, _, _, login in entries_since(mark)] == [("denied", "skaerm")]


def test_every_audit_action_is_one_of_the_documented_kinds() -> None:
    from fokus import codes

    assert set(audit.ACTIONS) == set(codes.AUDIT_ACTIONS)


def test_every_table_the_code_writes_in_the_log_has_a_danish_label() -> None:
    """The Revisionslog shows `codes.AUDIT_TABLES`' label, never a raw table name."""
    import re
    from pathlib import Path

    from fokus import codes

    source = " ".join(path.read_text(encoding="utf-8") for path in Path(codes.__file__).parent.glob("*.py"))
    named = set(re.findall(r'audit\.record\(\s*\w+,\s*\w+,\s*"[a-z_]+",\s*"([a-z]+)"', source))
    assert {"citizen", "course", "database"} <= named  # the pattern finds them
    assert named - set(codes.AUDIT_TABLES) == set()
