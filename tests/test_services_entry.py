"""Quick data entry's service functions (issue 4): corrections, several at once, scores and meetings.

Each function: the valid case with its audit entries, each refusal leaving the database exactly as
it was (`refused` from test_rules), and a stale version refused as a conflict. On SQLite and
PostgreSQL. The world is test_rules' unit: one open group course (SAG-1001), one ended
individual course (SAG-1002) and one waiting referral (SAG-1003).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from fokus import clock, db, fmt
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.errors import ConflictError, PermissionDenied
from fokus.models import (
    Attendance,
    AuditEvent,
    Citizen,
    Course,
    NetworkMeeting,
    OrsScore,
    Referral,
    SrsScore,
    Staff,
    Target,
)
from tests import test_rules as rules
from tests.test_audit import entries_since, last_id
from tests.test_rules import ORS_OK, SRS_OK, World, days_ago, refused, register, snapshot

actor = rules.actor
world = rules.world

CONFLICT = ["ændret af en anden", "genindlæs"]


def get(model: type, row_id: int) -> Any:
    with db.read_session() as session:
        return session.get(model, row_id)


def rows(model: type, *where: Any) -> list[Any]:
    with db.read_session() as session:
        return list(session.exec(select(model).where(*where).order_by(col(model.id))).all())  # type: ignore[attr-defined]


def write(do: Any) -> Any:
    with db.write_session() as session:
        return do(session)


def logged(mark: int) -> list[tuple[str, str, str | None]]:
    return [(action, table, ref) for action, table, ref, _ in entries_since(mark)]


def ors_of(course_id: int) -> list[OrsScore]:
    return rows(OrsScore, OrsScore.course_id == course_id)


def _referral_of_waiting_citizen(w: World) -> Referral:
    return get(Referral, w.waiting_referral_id)


# ---------------------------------------------------------------------------------------
# Citizens

def test_a_citizens_reference_and_birth_year_can_be_corrected_and_the_change_is_logged(world: World) -> None:
    citizen = get(Citizen, world.waiting_citizen_id)
    mark = last_id()
    write(lambda s: svc.update_citizen(s, world.actor, citizen_id=citizen.id, expected_version=citizen.version,
                                       ref="SAG-1003A", birth_year=citizen.birth_year - 1))
    after = get(Citizen, citizen.id)
    assert (after.ref, after.birth_year, after.version) == ("SAG-1003A", citizen.birth_year - 1, citizen.version + 1)
    assert logged(mark) == [("changed", "citizen", "SAG-1003A")]
    assert entries_since(mark) and rows(AuditEvent, AuditEvent.id > mark)[0].detail == "rettet: reference, fødselsår"


def test_saving_a_citizen_unchanged_changes_nothing_and_logs_nothing(world: World) -> None:
    citizen = get(Citizen, world.waiting_citizen_id)
    before = snapshot()
    write(lambda s: svc.update_citizen(s, world.actor, citizen_id=citizen.id, expected_version=citizen.version,
                                       ref=citizen.ref, birth_year=citizen.birth_year))
    assert snapshot() == before


def test_a_citizen_cannot_take_a_reference_another_citizen_has(world: World) -> None:
    citizen = get(Citizen, world.waiting_citizen_id)
    refused(lambda s: svc.update_citizen(s, world.actor, citizen_id=citizen.id, expected_version=citizen.version,
                                         ref="SAG-1001", birth_year=citizen.birth_year),
            field="ref", words=["SAG-1001 bruges allerede", "læg de to sammen"])


def test_a_birth_year_that_puts_a_referral_outside_18_to_65_without_a_note_is_refused(world: World) -> None:
    citizen = get(Citizen, world.waiting_citizen_id)
    refused(lambda s: svc.update_citizen(s, world.actor, citizen_id=citizen.id, expected_version=citizen.version,
                                         ref=citizen.ref, birth_year=clock.today().year - 17),
            field="birth_year", words=["uden for 18–65", "aldersnote", fmt.day(days_ago(5))])


def test_a_citizen_reference_that_looks_like_a_cpr_number_is_refused(world: World) -> None:
    citizen = get(Citizen, world.waiting_citizen_id)
    refused(lambda s: svc.update_citizen(s, world.actor, citizen_id=citizen.id, expected_version=citizen.version,
                                         ref="010203-1234", birth_year=citizen.birth_year),
            field="ref", words=["ligner et CPR-nummer"])


def test_correcting_a_citizen_someone_else_has_just_corrected_is_a_conflict(world: World) -> None:
    citizen = get(Citizen, world.waiting_citizen_id)
    write(lambda s: svc.update_citizen(s, world.actor, citizen_id=citizen.id, expected_version=citizen.version,
                                       ref="SAG-1003B", birth_year=citizen.birth_year))
    refused(lambda s: svc.update_citizen(s, world.actor, citizen_id=citizen.id, expected_version=citizen.version,
                                         ref="SAG-1003C", birth_year=citizen.birth_year),
            field=None, words=["borgeren er blevet ændret af en anden", "genindlæs"], error=ConflictError)


# ---------------------------------------------------------------------------------------
# Referrals: edit, delete, reopen

def _update_referral(w: World, referral_id: int, version: int | None, **changes: Any) -> Any:
    referral = get(Referral, referral_id)
    values = {"received": referral.received, "referrer": referral.referrer, "target_group": referral.target_group,
              "from_sel85": referral.from_sel85, "age_note": referral.age_note, **changes}
    return lambda s: svc.update_referral(s, w.actor, referral_id=referral_id, expected_version=version, **values)


def test_a_referral_can_be_corrected_in_every_field_and_the_change_is_logged(world: World) -> None:
    referral = _referral_of_waiting_citizen(world)
    mark = last_id()
    write(_update_referral(world, referral.id, referral.version, received=days_ago(7), referrer="jobcenter",
                           target_group="social", from_sel85=True, age_note="Aftalt med leder"))
    after = get(Referral, referral.id)
    assert (after.received, after.referrer, after.target_group, after.from_sel85, after.age_note) == (
        days_ago(7), "jobcenter", "social", True, "Aftalt med leder")
    assert after.version == referral.version + 1 and after.status == "waiting"
    assert logged(mark) == [("changed", "referral", "SAG-1003")]


def test_a_started_referral_cannot_be_dated_after_its_course_started(world: World) -> None:
    refused(_update_referral(world, world.open_referral_id, None, received=world.open_start + timedelta(days=1)),
            field="received", words=["efter forløbets start", fmt.day(world.open_start)])


def test_a_rejected_referral_cannot_be_dated_after_it_was_decided(world: World) -> None:
    write(lambda s: svc.decide_referral(s, world.actor, referral_id=world.waiting_referral_id, status="rejected",
                                        decided=days_ago(3), reason="outside_target_group"))
    refused(_update_referral(world, world.waiting_referral_id, None, received=days_ago(2)),
            field="received", words=["efter, at henvisningen blev afgjort", fmt.day(days_ago(3))])


def test_a_corrected_referral_still_needs_an_age_note_outside_18_to_65(world: World) -> None:
    with db.write_session() as s:
        young = register(s, world.actor, world.unit_id, "SAG-2001", received=days_ago(3), age=17,
                         age_note="Særlig aftale")
    refused(_update_referral(world, young.id, None, age_note=" "), field="age_note", words=["uden for 18–65"])


def test_a_referral_cannot_be_moved_onto_the_day_of_another_referral_of_the_citizen(world: World) -> None:
    write(lambda s: svc.decide_referral(s, world.actor, referral_id=world.waiting_referral_id, status="withdrawn",
                                        decided=days_ago(2), reason="declined"))
    with db.write_session() as s:
        again = register(s, world.actor, world.unit_id, "SAG-1003", received=days_ago(1))
    refused(_update_referral(world, again.id, None, received=days_ago(5)),
            field="received", words=["allerede en henvisning modtaget", fmt.day(days_ago(5))])


def test_a_referral_cannot_be_dated_in_the_future(world: World) -> None:
    refused(_update_referral(world, world.waiting_referral_id, None, received=days_ago(-1)),
            field="received", words=["ligger i fremtiden"])


def test_correcting_a_referral_someone_else_has_just_decided_is_a_conflict(world: World) -> None:
    seen = _referral_of_waiting_citizen(world).version
    write(lambda s: svc.decide_referral(s, world.actor, referral_id=world.waiting_referral_id, status="rejected",
                                        decided=days_ago(1), reason="declined"))
    refused(_update_referral(world, world.waiting_referral_id, seen, referrer="other"),
            field=None, words=["henvisningen er blevet ændret af en anden"], error=ConflictError)


def test_deleting_the_only_referral_of_a_citizen_deletes_the_citizen_too(world: World) -> None:
    referral = _referral_of_waiting_citizen(world)
    mark = last_id()
    write(lambda s: svc.delete_referral(s, world.actor, referral_id=referral.id, expected_version=referral.version))
    assert get(Referral, referral.id) is None and get(Citizen, world.waiting_citizen_id) is None
    assert logged(mark) == [("deleted", "referral", "SAG-1003"), ("deleted", "citizen", "SAG-1003")]


def test_deleting_a_referral_keeps_a_citizen_who_has_another(world: World) -> None:
    with db.write_session() as s:
        extra = register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(3))
    mark = last_id()
    write(lambda s: svc.delete_referral(s, world.actor, referral_id=extra.id, expected_version=1))
    assert get(Citizen, world.ended_citizen_id) is not None
    assert logged(mark) == [("deleted", "referral", "SAG-1002")]


def test_a_referral_with_a_course_cannot_be_deleted(world: World) -> None:
    refused(lambda s: svc.delete_referral(s, world.actor, referral_id=world.open_referral_id, expected_version=None),
            field="referral_id", words=[f"forløbet {world.open_course_ref}", "slet forløbet først"])


def test_deleting_a_referral_someone_else_has_just_changed_is_a_conflict(world: World) -> None:
    referral = _referral_of_waiting_citizen(world)
    write(_update_referral(world, referral.id, referral.version, referrer="jobcenter"))
    refused(lambda s: svc.delete_referral(s, world.actor, referral_id=referral.id, expected_version=referral.version),
            field=None, words=CONFLICT, error=ConflictError)


@pytest.mark.parametrize("status", ["rejected", "withdrawn"])
def test_a_rejected_or_withdrawn_referral_can_go_back_on_the_waiting_list(world: World, status: str) -> None:
    decided = write(lambda s: svc.decide_referral(s, world.actor, referral_id=world.waiting_referral_id,
                                                  status=status, decided=days_ago(1), reason="declined"))
    mark = last_id()
    write(lambda s: svc.reopen_referral(s, world.actor, referral_id=decided.id, expected_version=decided.version))
    after = get(Referral, decided.id)
    assert (after.status, after.decided, after.reason) == ("waiting", None, None)
    assert logged(mark) == [("changed", "referral", "SAG-1003")]


@pytest.mark.parametrize("which", ["waiting", "started"])
def test_only_a_rejected_or_withdrawn_referral_can_be_reopened(world: World, which: str) -> None:
    referral_id = world.waiting_referral_id if which == "waiting" else world.open_referral_id
    refused(lambda s: svc.reopen_referral(s, world.actor, referral_id=referral_id, expected_version=None),
            field="status", words=["kun en afvist eller tilbagetrukket"])


def test_a_referral_cannot_be_reopened_beside_another_waiting_referral_of_the_citizen(world: World) -> None:
    first = write(lambda s: svc.decide_referral(s, world.actor, referral_id=world.waiting_referral_id,
                                                status="rejected", decided=days_ago(2), reason="declined"))
    with db.write_session() as s:
        register(s, world.actor, world.unit_id, "SAG-1003", received=days_ago(1))
    refused(lambda s: svc.reopen_referral(s, world.actor, referral_id=first.id, expected_version=None),
            field="status", words=["allerede på ventelisten", fmt.day(days_ago(1))])


def test_reopening_a_referral_someone_else_has_just_reopened_is_a_conflict(world: World) -> None:
    decided = write(lambda s: svc.decide_referral(s, world.actor, referral_id=world.waiting_referral_id,
                                                  status="rejected", decided=days_ago(1), reason="declined"))
    write(lambda s: svc.reopen_referral(s, world.actor, referral_id=decided.id, expected_version=decided.version))
    refused(lambda s: svc.reopen_referral(s, world.actor, referral_id=decided.id, expected_version=decided.version),
            field=None, words=CONFLICT, error=ConflictError)


# ---------------------------------------------------------------------------------------
# Courses: edit, delete, reopen

def _course_values(course: Course, **changes: Any) -> dict[str, Any]:
    return {"ref": course.ref, "start": course.start, "form": course.form, "group_id": course.group_id,
            "contact_person_id": course.contact_person_id, "end": course.end, "end_reason": course.end_reason,
            "next_step": course.next_step, **changes}


def _update_course(w: World, course_id: int, version: int | None = None, **changes: Any) -> Any:
    values = _course_values(get(Course, course_id), **changes)
    return lambda s: svc.update_course(s, w.actor, course_id=course_id, expected_version=version, **values)


def test_every_field_of_a_course_can_be_corrected_and_the_referral_follows_the_start(world: World) -> None:
    course = get(Course, world.ended_course_id)
    mark = last_id()
    write(_update_course(world, course.id, course.version, ref="F-RETTET", start=days_ago(195), form="group",
                         group_id=world.group_id, contact_person_id=world.staff_id, end=days_ago(99),
                         end_reason="dropped_out", next_step="sel85"))
    after = get(Course, course.id)
    assert (after.ref, after.start, after.form, after.group_id, after.contact_person_id) == (
        "F-RETTET", days_ago(195), "group", world.group_id, world.staff_id)
    assert (after.end, after.end_reason, after.next_step, after.version) == (
        days_ago(99), "dropped_out", "sel85", course.version + 1)
    assert get(Referral, course.referral_id).decided == days_ago(195)
    assert logged(mark) == [("changed", "course", "SAG-1002")]
    assert rows(AuditEvent, AuditEvent.id > mark)[0].detail == (
        "rettet: reference, startdato, form, hold, kontaktperson, slutdato, afslutningsårsag, efterfølgende indsats")


def test_a_course_can_be_ended_and_reopened_through_an_edit(world: World) -> None:
    write(_update_course(world, world.open_course_id, end=days_ago(1), end_reason="completed", next_step="job"))
    assert get(Course, world.open_course_id).end == days_ago(1)
    write(_update_course(world, world.open_course_id, end=None, end_reason=None, next_step=None))
    assert get(Course, world.open_course_id).end is None


COURSE_REFUSALS: list[Any] = [
    pytest.param(lambda w: {"end": w.open_start - timedelta(days=1), "end_reason": "completed"}, "end",
                 ["slutdatoen ligger før startdatoen"], id="end-before-start"),
    pytest.param(lambda w: {"end": days_ago(1)}, "end_reason", ["vælg afslutningsårsag"], id="end-without-reason"),
    pytest.param(lambda w: {"end_reason": "completed"}, "end_reason", ["uden slutdato", "afslutningsårsag"],
                 id="reason-without-end"),
    pytest.param(lambda w: {"next_step": "job"}, "next_step", ["uden slutdato", "efterfølgende indsats"],
                 id="next-step-without-end"),
    pytest.param(lambda w: {"start": days_ago(71)}, "start", ["før henvisningen blev modtaget"],
                 id="start-before-referral"),
    pytest.param(lambda w: {"start": days_ago(55)}, "start", ["ORS-måling dateret", "før startdatoen"],
                 id="start-after-first-ors"),
    pytest.param(lambda w: {"end": days_ago(61), "end_reason": "completed", "start": days_ago(62)}, "end",
                 ["ORS-måling dateret", "efter slutdatoen"], id="end-before-last-ors"),
    pytest.param(lambda w: {"start": days_ago(-1)}, "start", ["ligger i fremtiden"], id="start-in-future"),
    pytest.param(lambda w: {"form": "individual"}, "group_id", ["individuelt forløb kan ikke knyttes til et hold"],
                 id="individual-on-a-group"),
    pytest.param(lambda w: {"ref": "  "}, "ref", ["udfyld forløbets reference"], id="no-ref"),
    pytest.param(lambda w: {"form": "pair"}, "form", ["vælg form"], id="unknown-form"),
]


@pytest.mark.parametrize(("changes", "field", "words"), COURSE_REFUSALS)
def test_a_course_edit_breaking_a_rule_is_refused(world: World, changes: Any, field: str, words: list[str]) -> None:
    refused(_update_course(world, world.open_course_id, **changes(world)), field=field, words=words)


def test_a_course_cannot_take_a_reference_used_in_the_unit(world: World) -> None:
    taken = get(Course, world.ended_course_id).ref
    refused(_update_course(world, world.open_course_id, ref=taken), field="ref", words=[taken, "bruges allerede"])


def test_a_course_cannot_start_after_a_group_session_it_attended(world: World) -> None:
    with db.write_session() as s:  # without its scores, the attendance is what stands in the way
        s.exec(sa.delete(OrsScore).where(col(OrsScore.course_id) == world.open_course_id))  # type: ignore[call-overload]
        s.exec(sa.delete(SrsScore).where(col(SrsScore.course_id) == world.open_course_id))  # type: ignore[call-overload]
    refused(_update_course(world, world.open_course_id, start=days_ago(52)),
            field="start", words=["fremmøde på et holdmøde", fmt.day(days_ago(53))])


def test_a_course_cannot_start_after_its_first_network_meeting(world: World) -> None:
    with db.write_session() as s:
        course = svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(4),
                                  form="individual")
        svc.add_network_meeting(s, world.actor, course_id=course.id, day=days_ago(3), participants=3)
    refused(_update_course(world, course.id, start=days_ago(2)), field="start", words=["et netværksmøde"])


def test_a_course_may_end_before_a_later_network_meeting(world: World) -> None:
    write(_update_course(world, world.open_course_id, end=days_ago(51), end_reason="completed", start=days_ago(60)))
    assert get(Course, world.open_course_id).end == days_ago(51)  # the meeting 50 days ago stays


def test_clearing_the_end_is_refused_while_the_citizen_has_another_open_course(world: World) -> None:
    with db.write_session() as s:
        again = register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(20))
        svc.start_course(s, world.actor, referral_id=again.id, start=days_ago(10), form="individual")
    refused(_update_course(world, world.ended_course_id, end=None, end_reason=None, next_step=None),
            field="end", words=["allerede et åbent forløb"])


def test_a_course_cannot_be_stretched_over_the_citizens_next_course(world: World) -> None:
    with db.write_session() as s:
        again = register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(20))
        svc.start_course(s, world.actor, referral_id=again.id, start=days_ago(10), form="individual")
    refused(_update_course(world, world.ended_course_id, end=days_ago(5)),
            field="end", words=["ville overlappe borgerens forløb", fmt.day(days_ago(10))])


def test_a_course_cannot_get_an_inactive_contact_person(world: World) -> None:
    with db.write_session() as s:
        gone = svc.add_staff(s, world.actor, unit_id=world.unit_id, name="Bo Holm", initials="BH")
        svc.update_staff(s, world.actor, staff_id=gone.id, expected_version=None, name="Bo Holm", initials="BH",
                         active=False, max_active_courses=15)
    refused(_update_course(world, world.open_course_id, contact_person_id=gone.id),
            field="contact_person_id", words=["Bo Holm er ikke aktiv"])


def test_editing_a_course_someone_else_has_just_edited_is_a_conflict(world: World) -> None:
    seen = get(Course, world.open_course_id).version
    write(_update_course(world, world.open_course_id, seen, ref="F-1"))
    refused(_update_course(world, world.open_course_id, seen, ref="F-2"),
            field=None, words=["forløbet er blevet ændret af en anden"], error=ConflictError)
    assert get(Course, world.open_course_id).ref == "F-1"


def test_deleting_a_course_deletes_its_records_and_puts_its_referral_back_on_the_waiting_list(world: World) -> None:
    course = get(Course, world.open_course_id)
    mark = last_id()
    write(lambda s: svc.delete_course(s, world.actor, course_id=course.id, expected_version=course.version))
    assert get(Course, course.id) is None
    for model in (OrsScore, SrsScore, Attendance, NetworkMeeting):
        assert rows(model, model.course_id == course.id) == []  # type: ignore[attr-defined]
    referral = get(Referral, world.open_referral_id)
    assert (referral.status, referral.decided, referral.reason) == ("waiting", None, None)
    assert logged(mark) == [("deleted", "course", "SAG-1001"), ("changed", "referral", "SAG-1001")]
    assert rows(AuditEvent, AuditEvent.id > mark)[0].detail == (
        f"{course.ref} med 1 ORS, 1 SRS, 1 fremmøde, 1 netværksmøder")


def test_a_course_cannot_be_deleted_while_its_citizen_waits_on_another_referral(world: World) -> None:
    with db.write_session() as s:
        register(s, world.actor, world.unit_id, "SAG-1001", received=days_ago(2))
    refused(lambda s: svc.delete_course(s, world.actor, course_id=world.open_course_id, expected_version=None),
            field="course_id", words=["allerede på ventelisten", fmt.day(days_ago(2))])


def test_deleting_a_course_someone_else_has_just_changed_is_a_conflict(world: World) -> None:
    seen = get(Course, world.open_course_id).version
    write(_update_course(world, world.open_course_id, seen, ref="F-1"))
    refused(lambda s: svc.delete_course(s, world.actor, course_id=world.open_course_id, expected_version=seen),
            field=None, words=CONFLICT, error=ConflictError)


def test_a_course_ended_by_mistake_can_be_reopened(world: World) -> None:
    course = get(Course, world.ended_course_id)
    mark = last_id()
    write(lambda s: svc.reopen_course(s, world.actor, course_id=course.id, expected_version=course.version))
    after = get(Course, course.id)
    assert (after.end, after.end_reason, after.next_step) == (None, None, None)
    assert logged(mark) == [("changed", "course", "SAG-1002")]


def test_an_open_course_cannot_be_reopened(world: World) -> None:
    refused(lambda s: svc.reopen_course(s, world.actor, course_id=world.open_course_id, expected_version=None),
            field="end", words=["ikke afsluttet"])


@pytest.mark.parametrize("later", ["open", "ended"])
def test_a_course_cannot_be_reopened_beside_a_later_course_of_the_citizen(world: World, later: str) -> None:
    with db.write_session() as s:
        again = register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(20))
        course = svc.start_course(s, world.actor, referral_id=again.id, start=days_ago(10), form="individual")
        if later == "ended":
            svc.end_course(s, world.actor, course_id=course.id, end=days_ago(2), end_reason="completed")
    refused(lambda s: svc.reopen_course(s, world.actor, course_id=world.ended_course_id, expected_version=None),
            field="end", words=["åbent forløb" if later == "open" else "senere forløb", course.ref])


def test_reopening_a_course_someone_else_has_just_reopened_is_a_conflict(world: World) -> None:
    seen = get(Course, world.ended_course_id).version
    write(lambda s: svc.reopen_course(s, world.actor, course_id=world.ended_course_id, expected_version=seen))
    refused(lambda s: svc.reopen_course(s, world.actor, course_id=world.ended_course_id, expected_version=seen),
            field=None, words=CONFLICT, error=ConflictError)


# ---------------------------------------------------------------------------------------
# Merging two references of one citizen

def test_two_references_of_one_citizen_can_be_merged_and_the_log_follows(world: World) -> None:
    referral = _referral_of_waiting_citizen(world)
    mark = last_id()
    kept = write(lambda s: svc.merge_citizens(s, world.actor, keep_citizen_id=world.ended_citizen_id,
                                              merge_citizen_id=world.waiting_citizen_id))
    assert kept.id == world.ended_citizen_id and get(Citizen, world.waiting_citizen_id) is None
    assert get(Referral, referral.id).citizen_id == world.ended_citizen_id
    assert get(Referral, referral.id).version == referral.version + 1
    assert logged(mark) == [("deleted", "citizen", "SAG-1003"), ("changed", "citizen", "SAG-1002")]
    merged, changed = rows(AuditEvent, AuditEvent.id > mark)
    assert merged.detail == "lagt sammen med SAG-1002" and "SAG-1003" not in changed.detail
    # The merged reference's earlier entries now belong to the kept citizen (their extract, their deletion).
    earlier = rows(AuditEvent, AuditEvent.citizen_ref == "SAG-1003")
    assert earlier and {event.citizen_id for event in earlier} == {world.ended_citizen_id}


def test_merging_moves_courses_too(world: World) -> None:
    with db.write_session() as s:
        other = register(s, world.actor, world.unit_id, "SAG-9", received=days_ago(400))
        course = svc.start_course(s, world.actor, referral_id=other.id, start=days_ago(390), form="individual")
        svc.end_course(s, world.actor, course_id=course.id, end=days_ago(300), end_reason="completed")
    write(lambda s: svc.merge_citizens(s, world.actor, keep_citizen_id=world.open_citizen_id,
                                       merge_citizen_id=course.citizen_id))
    assert get(Course, course.id).citizen_id == world.open_citizen_id


def _merge(w: World, keep: int, merge: int) -> Any:
    return lambda s: svc.merge_citizens(s, w.actor, keep_citizen_id=keep, merge_citizen_id=merge)


def test_citizens_with_different_birth_years_are_not_merged(world: World) -> None:
    with db.write_session() as s:
        older = register(s, world.actor, world.unit_id, "SAG-8", received=days_ago(3), age=50)
    refused(_merge(world, world.waiting_citizen_id, older.citizen_id),
            field="merge_citizen_id", words=["er født", "ret fødselsåret"])


def test_citizens_with_two_open_courses_are_not_merged(world: World) -> None:
    write(lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(2),
                                     form="individual"))
    refused(_merge(world, world.open_citizen_id, world.waiting_citizen_id),
            field="merge_citizen_id", words=["begge et åbent forløb", world.open_course_ref])


def test_citizens_with_overlapping_courses_are_not_merged(world: World) -> None:
    with db.write_session() as s:
        other = register(s, world.actor, world.unit_id, "SAG-9", received=days_ago(150))
        course = svc.start_course(s, world.actor, referral_id=other.id, start=days_ago(140), form="individual")
        svc.end_course(s, world.actor, course_id=course.id, end=days_ago(120), end_reason="completed")
    refused(_merge(world, world.ended_citizen_id, course.citizen_id),
            field="merge_citizen_id", words=["forløb, der overlapper"])


def test_citizens_referred_on_the_same_day_are_not_merged(world: World) -> None:
    with db.write_session() as s:
        other = register(s, world.actor, world.unit_id, "SAG-9", received=days_ago(200))
    refused(_merge(world, world.ended_citizen_id, other.citizen_id),
            field="merge_citizen_id", words=["henvisning modtaget", fmt.day(days_ago(200))])


def test_two_citizens_on_the_waiting_list_are_not_merged(world: World) -> None:
    with db.write_session() as s:
        other = register(s, world.actor, world.unit_id, "SAG-9", received=days_ago(2))
    refused(_merge(world, world.waiting_citizen_id, other.citizen_id),
            field="merge_citizen_id", words=["begge borgere står på ventelisten"])


def test_a_citizen_is_not_merged_with_themselves(world: World) -> None:
    refused(_merge(world, world.waiting_citizen_id, world.waiting_citizen_id),
            field="merge_citizen_id", words=["to forskellige borgere"])


def test_citizens_of_two_units_are_not_merged(world: World) -> None:
    with db.write_session() as s:
        other_unit = svc.create_unit(s, SYSTEM, name="Anden enhed", municipality="Testkommune").id
        stranger = register(s, SYSTEM, other_unit, "SAG-X", received=days_ago(3))
    both = Actor(login="ab", role="staff", unit_ids=frozenset({world.unit_id, other_unit}))
    refused(lambda s: svc.merge_citizens(s, both, keep_citizen_id=world.waiting_citizen_id,
                                         merge_citizen_id=stranger.citizen_id),
            field="merge_citizen_id", words=["samme enhed"])


# ---------------------------------------------------------------------------------------
# Several waiting citizens start on a group at once

def _waiting(w: World, *refs: str) -> list[int]:
    with db.write_session() as s:
        return [register(s, w.actor, w.unit_id, ref, received=days_ago(8)).id for ref in refs]


def test_several_waiting_citizens_start_on_a_group_in_one_go(world: World) -> None:
    ids = [world.waiting_referral_id, *_waiting(world, "SAG-11", "SAG-12")]
    mark = last_id()
    courses = write(lambda s: svc.start_group_courses(s, world.actor, group_id=world.group_id, referral_ids=ids,
                                                      start=days_ago(1), contact_person_id=world.staff_id))
    assert len(courses) == 3
    for course in courses:
        stored = get(Course, course.id)
        assert (stored.form, stored.group_id, stored.contact_person_id, stored.start) == (
            "group", world.group_id, world.staff_id, days_ago(1))
    assert {get(Referral, i).status for i in ids} == {"started"}
    assert logged(mark) == [("created", "course", ref) for ref in ("SAG-1003", "SAG-11", "SAG-12")]


def test_starting_a_group_is_all_or_nothing_and_names_the_citizen_who_cannot_start(world: World) -> None:
    ids = _waiting(world, "SAG-11")
    with db.write_session() as s:  # SAG-1001 has an open course: a new referral cannot start yet
        blocked = register(s, world.actor, world.unit_id, "SAG-1001", received=days_ago(3)).id
    refused(lambda s: svc.start_group_courses(s, world.actor, group_id=world.group_id, referral_ids=[*ids, blocked],
                                              start=days_ago(1), contact_person_id=None),
            field="referral_id", words=["Borger SAG-1001", "allerede et åbent forløb"])


def test_a_group_cannot_start_more_citizens_than_it_has_places(world: World) -> None:
    with db.write_session() as s:
        small = svc.create_group(s, world.actor, unit_id=world.unit_id, name="Lille", start=days_ago(10), capacity=2)
    ids = [world.waiting_referral_id, *_waiting(world, "SAG-11", "SAG-12")]
    refused(lambda s: svc.start_group_courses(s, world.actor, group_id=small.id, referral_ids=ids,
                                              start=days_ago(1), contact_person_id=None),
            field="referral_ids", words=["Lille har 2 pladser", "0 er optaget", "plads til 2 mere, ikke 3"])


def test_the_places_taken_count_the_members_on_the_start_day(world: World) -> None:
    with db.write_session() as s:
        svc.update_group(s, world.actor, group_id=world.group_id, expected_version=None, name="Forårsholdet",
                         theme="Angst", start=days_ago(60), end=None, capacity=2)
    ids = _waiting(world, "SAG-11", "SAG-12")
    refused(lambda s: svc.start_group_courses(s, world.actor, group_id=world.group_id, referral_ids=ids,
                                              start=days_ago(1), contact_person_id=None),
            field="referral_ids", words=["2 pladser", "1 er optaget", "plads til 1 mere, ikke 2"])


def _places(world: World, capacity: int) -> None:
    with db.write_session() as s:
        svc.update_group(s, world.actor, group_id=world.group_id, expected_version=None, name="Forårsholdet",
                         theme="Angst", start=days_ago(60), end=None, capacity=capacity)


def test_one_citizen_cannot_start_on_a_full_group_but_can_once_a_place_is_free(world: World) -> None:
    _places(world, 2)  # the open course has one place
    first, second = _waiting(world, "SAG-11", "SAG-12")

    def start(referral_id: int) -> Any:
        return lambda s: svc.start_course(s, world.actor, referral_id=referral_id, start=days_ago(1), form="group",
                                          group_id=world.group_id)

    write(start(first))
    refused(start(second), field="group_id",
            words=["Forårsholdet er fuldt", fmt.day(days_ago(1)), "alle 2 pladser er optaget", "siden Hold"])
    write(lambda s: svc.end_course(s, world.actor, course_id=world.open_course_id, end=days_ago(2),
                                   end_reason="completed", next_step="none"))
    assert get(Course, write(start(second)).id).group_id == world.group_id


def test_a_course_moved_onto_a_full_group_is_refused_and_one_on_it_can_still_be_corrected(world: World) -> None:
    _places(world, 1)  # taken by the open course
    [referral_id] = _waiting(world, "SAG-11")
    course = write(lambda s: svc.start_course(s, world.actor, referral_id=referral_id, start=days_ago(1),
                                              form="individual"))
    refused(_update_course(world, course.id, form="group", group_id=world.group_id), field="group_id",
            words=["Forårsholdet er fuldt", "siden Hold"])
    write(_update_course(world, world.open_course_id, contact_person_id=None))
    assert get(Course, world.open_course_id).contact_person_id is None


def test_a_back_dated_course_needs_a_place_on_each_of_its_days_not_only_the_first(world: World) -> None:
    # registered afterwards, a course dated before the group filled up would have made it 3 of 2
    _places(world, 2)  # the open course has one place
    first, second = _waiting(world, "SAG-11", "SAG-12")

    def start(referral_id: int, day: int, until: int | None = None) -> Any:
        return lambda s: svc.start_course(s, world.actor, referral_id=referral_id, start=days_ago(day), form="group",
                                          group_id=world.group_id, until=None if until is None else days_ago(until))

    write(start(first, 3))  # full from 3 days ago
    full = ["Forårsholdet er fuldt", fmt.day(days_ago(3)), "alle 2 pladser er optaget", "siden Hold"]
    refused(start(second, 6), field="group_id", words=full)
    refused(lambda s: svc.start_group_courses(s, world.actor, group_id=world.group_id, referral_ids=[second],
                                              start=days_ago(6), contact_person_id=None),
            field="referral_ids", words=full)

    def written_whole(s: Any) -> Course:  # as an import writes a finished course: it ended before the group filled
        course = start(second, 6, until=4)(s)
        return svc.end_course(s, world.actor, course_id=course.id, end=days_ago(4), end_reason="completed")

    course = write(written_whole)
    refused(_update_course(world, course.id, end=days_ago(2)), field="group_id", words=full)
    refused(lambda s: svc.reopen_course(s, world.actor, course_id=course.id, expected_version=None),
            field="end", words=full)
    write(_update_course(world, course.id, end=days_ago(5)))  # shorter: still a place on each of its days
    assert get(Course, course.id).end == days_ago(5)


@pytest.mark.parametrize(
    ("ids", "start", "field", "words"),
    [
        pytest.param([], 1, "referral_ids", ["mindst én borger"], id="nobody"),
        pytest.param(None, 61, "start", ["før holdets start"], id="before-the-group"),
    ],
)
def test_a_group_start_needs_citizens_and_a_day_inside_the_group(
    world: World, ids: list[int] | None, start: int, field: str, words: list[str]
) -> None:
    chosen = [world.waiting_referral_id] if ids is None else ids
    refused(lambda s: svc.start_group_courses(s, world.actor, group_id=world.group_id, referral_ids=chosen,
                                              start=days_ago(start), contact_person_id=None),
            field=field, words=words)


# ---------------------------------------------------------------------------------------
# A colleague's courses move in one step

def _colleague(w: World, initials: str = "CD", *, unit_id: int | None = None, acting: Actor | None = None) -> Staff:
    return write(lambda s: svc.add_staff(s, acting or w.actor, unit_id=unit_id or w.unit_id, name=f"Kollega {initials}",
                                         initials=initials))


def test_a_colleagues_active_courses_move_to_another_in_one_step(world: World) -> None:
    second = write(lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id,
                                              start=days_ago(1), form="individual", contact_person_id=world.staff_id))
    colleague = _colleague(world)
    mark = last_id()
    moved = write(lambda s: svc.move_courses(s, world.actor, course_ids=[world.open_course_id, second.id],
                                             to_staff_id=colleague.id))
    assert moved == 2
    assert {get(Course, i).contact_person_id for i in (world.open_course_id, second.id)} == {colleague.id}
    assert logged(mark) == [("changed", "course", "SAG-1001"), ("changed", "course", "SAG-1003")]
    assert rows(AuditEvent, AuditEvent.id > mark)[0].detail == "ny kontaktperson: CD"


def test_a_course_already_with_the_colleague_is_not_counted_as_moved(world: World) -> None:
    assert write(lambda s: svc.move_courses(s, world.actor, course_ids=[world.open_course_id],
                                            to_staff_id=world.staff_id)) == 0


def test_ended_courses_are_not_moved(world: World) -> None:
    colleague = _colleague(world)
    refused(lambda s: svc.move_courses(s, world.actor, course_ids=[world.open_course_id, world.ended_course_id],
                                       to_staff_id=colleague.id),
            field="course_ids", words=["er afsluttet", "kun aktive forløb"])


def test_courses_are_not_moved_to_an_inactive_colleague(world: World) -> None:
    colleague = _colleague(world)
    write(lambda s: svc.update_staff(s, world.actor, staff_id=colleague.id, expected_version=None,
                                     name=colleague.name, initials="CD", active=False, max_active_courses=15))
    refused(lambda s: svc.move_courses(s, world.actor, course_ids=[world.open_course_id], to_staff_id=colleague.id),
            field="to_staff_id", words=["Kollega CD er ikke aktiv"])


def test_courses_are_not_moved_to_staff_of_another_unit(world: World) -> None:
    other_unit = write(lambda s: svc.create_unit(s, SYSTEM, name="Anden enhed", municipality="Testkommune")).id
    stranger = _colleague(world, "XY", unit_id=other_unit, acting=SYSTEM)
    both = Actor(login="ab", role="staff", unit_ids=frozenset({world.unit_id, other_unit}))
    refused(lambda s: svc.move_courses(s, both, course_ids=[world.open_course_id], to_staff_id=stranger.id),
            field="to_staff_id", words=["hører til en anden enhed"])


def test_moving_needs_at_least_one_course(world: World) -> None:
    refused(lambda s: svc.move_courses(s, world.actor, course_ids=[], to_staff_id=world.staff_id),
            field="course_ids", words=["mindst ét forløb"])


# ---------------------------------------------------------------------------------------
# A group session with attendance and the ORS of everyone present

def test_a_group_session_registers_attendance_and_the_ors_of_everyone_present(world: World) -> None:
    second = write(lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id,
                                              start=days_ago(3), form="group", group_id=world.group_id))
    mark = last_id()
    meeting = write(lambda s: svc.record_group_session(
        s, world.actor, group_id=world.group_id, day=days_ago(1), present_course_ids=[world.open_course_id],
        scores={world.open_course_id: ORS_OK},
    ))
    attendance = {a.course_id: a.present for a in rows(Attendance, Attendance.session_id == meeting.id)}
    assert attendance == {world.open_course_id: True, second.id: False}
    latest = ors_of(world.open_course_id)[-1]
    assert (latest.date, latest.session_no, latest.individual) == (days_ago(1), 2, ORS_OK["individual"])
    assert sorted(logged(mark)) == sorted([("created", "attendance", "SAG-1001"), ("created", "attendance", "SAG-1003"),
                                           ("created", "orsscore", "SAG-1001")])


def test_a_score_for_someone_absent_is_refused_naming_the_citizen(world: World) -> None:
    refused(lambda s: svc.record_group_session(s, world.actor, group_id=world.group_id, day=days_ago(1),
                                               present_course_ids=[], scores={world.open_course_id: ORS_OK}),
            field=str(world.open_course_id), words=["Borger SAG-1001", "ikke markeret som fremmødt"])


def test_a_bad_item_in_the_grid_is_refused_beside_its_row_and_nothing_is_saved(world: World) -> None:
    refused(lambda s: svc.record_group_session(
        s, world.actor, group_id=world.group_id, day=days_ago(1), present_course_ids=[world.open_course_id],
        scores={world.open_course_id: {**ORS_OK, "social": 101}}),
        field=f"{world.open_course_id}:social", words=["Borger SAG-1001", "socialt skal ligge fra 0 til 10"])


def test_a_group_session_on_a_day_already_registered_is_refused(world: World) -> None:
    refused(lambda s: svc.record_group_session(s, world.actor, group_id=world.group_id, day=days_ago(53),
                                               present_course_ids=[world.open_course_id], scores={}),
            field="day", words=["allerede et møde"])


# ---------------------------------------------------------------------------------------
# Staff and groups

def test_a_staff_member_can_be_corrected_and_the_change_is_logged(world: World) -> None:
    staff = get(Staff, world.staff_id)
    mark = last_id()
    write(lambda s: svc.update_staff(s, world.actor, staff_id=staff.id, expected_version=staff.version,
                                     name="Anne Berg Holm", initials="abh", active=True, max_active_courses=12))
    after = get(Staff, staff.id)
    assert (after.name, after.initials, after.max_active_courses, after.version) == (
        "Anne Berg Holm", "ABH", 12, staff.version + 1)
    assert logged(mark) == [("changed", "staff", None)]


def test_a_staff_member_with_active_courses_cannot_be_made_inactive(world: World) -> None:
    refused(lambda s: svc.update_staff(s, world.actor, staff_id=world.staff_id, expected_version=None,
                                       name="Anne Berg", initials="AB", active=False, max_active_courses=15),
            field="active", words=["kontaktperson for 1 aktive forløb", "flyt dem"])


def test_a_staff_member_cannot_take_a_colleagues_initials(world: World) -> None:
    colleague = _colleague(world)
    refused(lambda s: svc.update_staff(s, world.actor, staff_id=colleague.id, expected_version=None,
                                       name=colleague.name, initials="ab", active=True, max_active_courses=15),
            field="initials", words=["AB bruges allerede"])


def test_correcting_a_staff_member_someone_else_has_just_corrected_is_a_conflict(world: World) -> None:
    seen = get(Staff, world.staff_id).version
    write(lambda s: svc.update_staff(s, world.actor, staff_id=world.staff_id, expected_version=seen, name="A",
                                     initials="AB", active=True, max_active_courses=10))
    refused(lambda s: svc.update_staff(s, world.actor, staff_id=world.staff_id, expected_version=seen, name="B",
                                       initials="AB", active=True, max_active_courses=10),
            field=None, words=["medarbejderen er blevet ændret af en anden"], error=ConflictError)


def _update_group(w: World, version: int | None = None, **changes: Any) -> Any:
    values = {"name": "Forårsholdet", "theme": "Angst", "start": days_ago(60), "end": None, "capacity": 10, **changes}
    return lambda s: svc.update_group(s, w.actor, group_id=w.group_id, expected_version=version, **values)


def test_a_group_can_be_corrected_and_the_change_is_logged(world: World) -> None:
    mark = last_id()
    group = write(_update_group(world, 1, name="Forår 2", theme="Angst og uro", end=days_ago(-30), capacity=1))
    assert (group.name, group.theme, group.end, group.capacity, group.version) == (
        "Forår 2", "Angst og uro", days_ago(-30), 1, 2)
    assert logged(mark) == [("changed", "group", None)]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        pytest.param({"capacity": 0}, "capacity", ["fra 1 til 100"], id="no-places"),
        pytest.param({"start": days_ago(52)}, "start", ["møde", "før den nye startdato"], id="start-after-a-session"),
        pytest.param({"end": days_ago(54)}, "end", ["møde", "efter den nye slutdato"], id="end-before-a-session"),
        pytest.param({"end": days_ago(61)}, "end", ["slutdato skal ligge på eller efter"], id="end-before-start"),
        pytest.param({"name": ""}, "name", ["udfyld holdets navn"], id="no-name"),
    ],
)
def test_a_group_edit_breaking_a_rule_is_refused(world: World, changes: dict[str, Any], field: str,
                                                 words: list[str]) -> None:
    refused(_update_group(world, **changes), field=field, words=words)


def test_a_groups_places_cannot_go_below_its_active_members(world: World) -> None:
    write(lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(1),
                                     form="group", group_id=world.group_id))
    refused(_update_group(world, capacity=1), field="capacity", words=["2 aktive deltagere", "ikke 1"])


@pytest.mark.parametrize(("ended", "allowed"), [(1, True), (0, False)], ids=["ended-yesterday", "ending-today"])
def test_a_course_ended_before_today_leaves_its_place_but_one_ending_today_still_holds_it(
    world: World, ended: int, allowed: bool
) -> None:
    course = write(lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id,
                                              start=days_ago(5), form="group", group_id=world.group_id))
    write(lambda s: svc.end_course(s, world.actor, course_id=course.id, end=days_ago(ended), end_reason="completed"))
    if allowed:
        assert write(_update_group(world, capacity=1)).capacity == 1
    else:
        refused(_update_group(world, capacity=1), field="capacity", words=["2 aktive deltagere"])


def test_a_group_cannot_take_the_name_of_another(world: World) -> None:
    write(lambda s: svc.create_group(s, world.actor, unit_id=world.unit_id, name="Efterår", start=days_ago(5)))
    refused(_update_group(world, name="Efterår"), field="name", words=["allerede et hold med navnet Efterår"])


def test_correcting_a_group_someone_else_has_just_corrected_is_a_conflict(world: World) -> None:
    write(_update_group(world, 1, theme="Ny"))
    refused(_update_group(world, 1, theme="Anden"), field=None, words=["holdet er blevet ændret af en anden"],
            error=ConflictError)


# ---------------------------------------------------------------------------------------
# Correcting and deleting scores and network meetings

def _srs_of(course_id: int) -> list[SrsScore]:
    return rows(SrsScore, SrsScore.course_id == course_id)


def _meetings_of(course_id: int) -> list[NetworkMeeting]:
    return rows(NetworkMeeting, NetworkMeeting.course_id == course_id)


def test_an_ors_without_a_session_number_gets_the_next_one_in_a_save_of_its_own_or_with_others(world: World) -> None:
    """The next number comes from the course's stored count of scores when that count holds,
    and from counting the scores when this save has already added one."""
    before = len(ors_of(world.open_course_id))
    write(lambda s: svc.add_ors(s, world.actor, course_id=world.open_course_id, day=days_ago(6), items=ORS_OK))
    write(lambda s: [svc.add_ors(s, world.actor, course_id=world.open_course_id, day=days_ago(day), items=ORS_OK)
                     for day in (5, 4)])
    assert [score.session_no for score in ors_of(world.open_course_id)][before:] == [before + 1, before + 2, before + 3]


def test_an_ors_can_be_corrected_and_the_change_is_logged(world: World) -> None:
    score = ors_of(world.open_course_id)[0]
    mark = last_id()
    write(lambda s: svc.update_ors(s, world.actor, score_id=score.id, expected_version=score.version,
                                   day=days_ago(59), items={**ORS_OK, "overall": 100}, session_no=2))
    after = get(OrsScore, score.id)
    assert (after.date, after.overall, after.session_no, after.version) == (days_ago(59), 100, 2, score.version + 1)
    assert logged(mark) == [("changed", "orsscore", "SAG-1001")]
    assert rows(AuditEvent, AuditEvent.id > mark)[0].detail == "rettet: dato, sessionsnummer, generelt"


def test_an_srs_can_be_corrected_keeping_its_session_number(world: World) -> None:
    score = _srs_of(world.open_course_id)[0]
    write(lambda s: svc.update_srs(s, world.actor, score_id=score.id, expected_version=score.version,
                                   day=score.date, items={**SRS_OK, "goals": 30}, session_no=None,
                                   group_session=False))
    after = get(SrsScore, score.id)
    assert (after.goals, after.session_no, after.group_session) == (30, score.session_no, False)


@pytest.mark.parametrize("instrument", ["ors", "srs"])
def test_a_corrected_score_must_lie_inside_its_course(world: World, instrument: str) -> None:
    if instrument == "ors":
        score = ors_of(world.ended_course_id)[0]
        update: Any = svc.update_ors
        items = ORS_OK
    else:
        score = _srs_of(world.open_course_id)[0]
        update, items = svc.update_srs, SRS_OK
    course = get(Course, score.course_id)
    refused(lambda s: update(s, world.actor, score_id=score.id, expected_version=None,
                             day=course.start - timedelta(days=1), items=items, session_no=None),
            field="date", words=["inden for forløbet"])


def test_a_corrected_ors_with_an_item_over_10_is_refused(world: World) -> None:
    score = ors_of(world.open_course_id)[0]
    refused(lambda s: svc.update_ors(s, world.actor, score_id=score.id, expected_version=None, day=score.date,
                                     items={**ORS_OK, "individual": 101}, session_no=None),
            field="individual", words=["individuelt skal ligge fra 0 til 10"])


@pytest.mark.parametrize("instrument", ["ors", "srs"])
def test_a_wrong_score_can_be_deleted_and_the_deletion_is_logged(world: World, instrument: str) -> None:
    scores = ors_of(world.open_course_id) if instrument == "ors" else _srs_of(world.open_course_id)
    delete = svc.delete_ors if instrument == "ors" else svc.delete_srs
    mark = last_id()
    write(lambda s: delete(s, world.actor, score_id=scores[0].id, expected_version=scores[0].version))
    assert get(type(scores[0]), scores[0].id) is None
    assert logged(mark) == [("deleted", f"{instrument}score", "SAG-1001")]


@pytest.mark.parametrize("instrument", ["ors", "srs"])
def test_changing_a_score_someone_else_has_just_corrected_is_a_conflict(world: World, instrument: str) -> None:
    if instrument == "ors":
        score: Any = ors_of(world.open_course_id)[0]
        update: Any = svc.update_ors
        delete: Any = svc.delete_ors
        items = ORS_OK
    else:
        score, update, delete, items = _srs_of(world.open_course_id)[0], svc.update_srs, svc.delete_srs, SRS_OK
    write(lambda s: update(s, world.actor, score_id=score.id, expected_version=score.version, day=score.date,
                           items=items, session_no=3))
    refused(lambda s: update(s, world.actor, score_id=score.id, expected_version=score.version, day=score.date,
                             items=items, session_no=4),
            field=None, words=["målingen er blevet ændret af en anden"], error=ConflictError)
    refused(lambda s: delete(s, world.actor, score_id=score.id, expected_version=score.version),
            field=None, words=CONFLICT, error=ConflictError)


def test_a_network_meeting_can_be_corrected_and_deleted_and_both_are_logged(world: World) -> None:
    meeting = _meetings_of(world.open_course_id)[0]
    mark = last_id()
    write(lambda s: svc.update_network_meeting(s, world.actor, meeting_id=meeting.id,
                                               expected_version=meeting.version, day=days_ago(49), participants=7))
    after = get(NetworkMeeting, meeting.id)
    assert (after.date, after.participants, after.version) == (days_ago(49), 7, meeting.version + 1)
    write(lambda s: svc.delete_network_meeting(s, world.actor, meeting_id=meeting.id, expected_version=after.version))
    assert get(NetworkMeeting, meeting.id) is None
    assert logged(mark) == [("changed", "networkmeeting", "SAG-1001"), ("deleted", "networkmeeting", "SAG-1001")]


def test_a_network_meeting_may_lie_after_the_course_ended_but_never_before_it_started(world: World) -> None:
    after_end = write(lambda s: svc.add_network_meeting(s, world.actor, course_id=world.ended_course_id,
                                                        day=days_ago(30), participants=4))
    assert after_end.date > world.ended_end
    refused(lambda s: svc.update_network_meeting(s, world.actor, meeting_id=after_end.id, expected_version=None,
                                                 day=world.ended_start - timedelta(days=1), participants=4),
            field="date", words=["før forløbets start"])
    refused(lambda s: svc.update_network_meeting(s, world.actor, meeting_id=after_end.id, expected_version=None,
                                                 day=days_ago(30), participants=0),
            field="participants", words=["fra 1 til 100"])


def test_changing_a_network_meeting_someone_else_has_just_corrected_is_a_conflict(world: World) -> None:
    meeting = _meetings_of(world.open_course_id)[0]
    write(lambda s: svc.update_network_meeting(s, world.actor, meeting_id=meeting.id,
                                               expected_version=meeting.version, day=meeting.date, participants=9))
    refused(lambda s: svc.delete_network_meeting(s, world.actor, meeting_id=meeting.id,
                                                 expected_version=meeting.version),
            field=None, words=["netværksmødet er blevet ændret af en anden"], error=ConflictError)


# ---------------------------------------------------------------------------------------
# Nobody corrects another unit's records, nor may the meeting screen

def _corrections(w: World) -> dict[str, Any]:
    score = ors_of(w.open_course_id)[0]
    srs = _srs_of(w.open_course_id)[0]
    meeting = _meetings_of(w.open_course_id)[0]
    course = get(Course, w.open_course_id)
    return {
        "update_citizen": lambda s, a: svc.update_citizen(s, a, citizen_id=w.open_citizen_id, expected_version=None,
                                                          ref="X", birth_year=1980),
        "update_referral": lambda s, a: svc.update_referral(
            s, a, referral_id=w.waiting_referral_id, expected_version=None, received=days_ago(5),
            referrer="other", target_group="social", from_sel85=False, age_note=None),
        "delete_referral": lambda s, a: svc.delete_referral(s, a, referral_id=w.waiting_referral_id,
                                                            expected_version=None),
        "reopen_referral": lambda s, a: svc.reopen_referral(s, a, referral_id=w.open_referral_id,
                                                            expected_version=None),
        "update_course": lambda s, a: svc.update_course(s, a, course_id=course.id, expected_version=None,
                                                        **_course_values(course, ref="X")),
        "delete_course": lambda s, a: svc.delete_course(s, a, course_id=course.id, expected_version=None),
        "reopen_course": lambda s, a: svc.reopen_course(s, a, course_id=w.ended_course_id, expected_version=None),
        "merge_citizens": lambda s, a: svc.merge_citizens(s, a, keep_citizen_id=w.ended_citizen_id,
                                                          merge_citizen_id=w.waiting_citizen_id),
        "start_group_courses": lambda s, a: svc.start_group_courses(
            s, a, group_id=w.group_id, referral_ids=[w.waiting_referral_id], start=days_ago(1),
            contact_person_id=None),
        "move_courses": lambda s, a: svc.move_courses(s, a, course_ids=[course.id], to_staff_id=w.staff_id),
        "record_group_session": lambda s, a: svc.record_group_session(
            s, a, group_id=w.group_id, day=days_ago(1), present_course_ids=[], scores={}),
        "update_staff": lambda s, a: svc.update_staff(s, a, staff_id=w.staff_id, expected_version=None, name="X",
                                                      initials="X", active=True, max_active_courses=1),
        "update_group": lambda s, a: svc.update_group(s, a, group_id=w.group_id, expected_version=None, name="X",
                                                      theme="", start=days_ago(60), end=None, capacity=10),
        "update_ors": lambda s, a: svc.update_ors(s, a, score_id=score.id, expected_version=None, day=score.date,
                                                  items=ORS_OK, session_no=None),
        "delete_ors": lambda s, a: svc.delete_ors(s, a, score_id=score.id, expected_version=None),
        "update_srs": lambda s, a: svc.update_srs(s, a, score_id=srs.id, expected_version=None, day=srs.date,
                                                  items=SRS_OK, session_no=None),
        "delete_srs": lambda s, a: svc.delete_srs(s, a, score_id=srs.id, expected_version=None),
        "update_network_meeting": lambda s, a: svc.update_network_meeting(
            s, a, meeting_id=meeting.id, expected_version=None, day=meeting.date, participants=2),
        "delete_network_meeting": lambda s, a: svc.delete_network_meeting(s, a, meeting_id=meeting.id,
                                                                          expected_version=None),
        "delete_targets": lambda s, a: svc.delete_targets(
            s, a, target_id=s.exec(select(Target.id).where(Target.unit_id == w.unit_id)).first(),
            expected_version=None),
    }


CORRECTIONS = [
    "update_citizen", "update_referral", "delete_referral", "reopen_referral", "update_course", "delete_course",
    "reopen_course", "merge_citizens", "start_group_courses", "move_courses", "record_group_session",
    "update_staff", "update_group", "update_ors", "delete_ors", "update_srs", "delete_srs",
    "update_network_meeting", "delete_network_meeting", "delete_targets",
]


def _data_tables() -> dict[str, list[tuple[Any, ...]]]:
    return {name: table_rows for name, table_rows in snapshot().items() if name != "auditevent"}


@pytest.mark.parametrize("who", ["other-unit", "screen"])
@pytest.mark.parametrize("name", CORRECTIONS)
def test_only_writers_of_the_unit_may_correct_its_records(world: World, name: str, who: str) -> None:
    intruder = (Actor(login="fremmed", role="staff", unit_ids=frozenset({world.unit_id + 1000})) if who == "other-unit"
                else Actor(login="skaerm", role="screen", unit_ids=frozenset({world.unit_id})))
    change = _corrections(world)[name]
    before, mark = _data_tables(), last_id()
    with pytest.raises(PermissionDenied), db.write_session() as session:
        change(session, intruder)
    assert _data_tables() == before
    assert [action for action, *_ in entries_since(mark)] == ["denied"]


def test_every_correction_is_covered_by_the_permission_test() -> None:
    public = {name for name in dir(svc) if name.startswith(("update_", "delete_", "reopen_"))}
    assert public | {"merge_citizens", "start_group_courses", "move_courses", "record_group_session"} == set(
        CORRECTIONS)


# ---------------------------------------------------------------------------------------
# Two people saving the same row at the same moment

def test_two_people_saving_an_edit_of_the_same_course_at_once_one_wins_and_the_other_gets_a_conflict(
    world: World,
) -> None:
    """On PostgreSQL the second reads the course while the first's change is not yet committed:
    the row lock makes it wait and then see the new version. SQLite queues the writers."""
    seen = get(Course, world.open_course_id).version
    with pytest.raises(ConflictError) as caught:
        rules._while_first_is_saving(
            _update_course(world, world.open_course_id, seen, ref="F-FOERST"),
            _update_course(world, world.open_course_id, seen, ref="F-ANDEN"),
        )
    assert "ændret af en anden" in caught.value.message
    assert get(Course, world.open_course_id).ref == "F-FOERST"
