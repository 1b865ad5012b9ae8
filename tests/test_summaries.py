"""The per-course summaries of issue 8 equal their definitions after any write (`fokus.summaries`).

A course stores its wait and duration in days, its number of network meetings and its ORS
figures (count, first, last, last date, the first 20 totals), so that the dashboard never reads
every score. DESIGN §2: such a summary is a cache and must equal the derivation. Here the
derivation is read in plain Python from the raw rows (`derived`), and compared with what is
stored: in worked examples, after random sequences of inserts, edits and deletes through the
service functions, and after the migration that added the columns. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, func, select

from fokus import codes, db, services, summaries
from fokus.actor import SYSTEM
from fokus.errors import ConflictError, ValidationError
from fokus.models import Course, NetworkMeeting, OrsScore, Referral, Staff

ORDINALS = [f"ors_{n}" for n in range(1, 21)]
NO_SCORES = {"ors_count": 0, "ors_first": None, "ors_last": None, "ors_last_date": None,
             **dict.fromkeys(ORDINALS)}


def items(individual: int, interpersonal: int, social: int, overall: int) -> dict[str, int]:
    """ORS items in whole tenths, in the order of the form."""
    return dict(zip(codes.ORS_ITEMS, (individual, interpersonal, social, overall), strict=True))


def same(tenths: int) -> dict[str, int]:
    """Four equal items: the total is four times `tenths`."""
    return items(tenths, tenths, tenths, tenths)


def ordinals(*totals: int) -> dict[str, int | None]:
    """ors_1 … ors_20: these totals first, None after them."""
    return dict(zip(ORDINALS, [*totals, *[None] * 20][:20], strict=True))


def new_course(s: Session, unit_id: int, ref: str, received: date, start: date) -> Course:
    referral = services.register_referral(s, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1980,
                                          received=received, referrer="socialcenter", target_group="psychic")
    return services.start_course(s, SYSTEM, referral_id=referral.id, start=start, form="individual")


def stored(course_id: int) -> dict[str, Any]:
    """The summary columns as the database holds them (a fresh read)."""
    with db.read_session() as s:
        course = s.get(Course, course_id)
        assert course is not None
        return {name: getattr(course, name) for name in summaries.COLUMNS}


def ors_of(course_id: int) -> dict[str, Any]:
    return {name: value for name, value in stored(course_id).items() if name.startswith("ors")}


def edit_course(s: Session, course: Course, **changes: Any) -> Course:
    """update_course with every field as it is but the changed ones."""
    fields = {name: getattr(course, name) for name in
              ("ref", "start", "form", "group_id", "contact_person_id", "end", "end_reason", "next_step")}
    return services.update_course(s, SYSTEM, course_id=course.id, expected_version=None, **{**fields, **changes})


def edit_received(s: Session, referral_id: int, received: date) -> Referral:
    referral = s.get(Referral, referral_id)
    assert referral is not None
    return services.update_referral(s, SYSTEM, referral_id=referral_id, expected_version=None, received=received,
                                    referrer=referral.referrer, target_group=referral.target_group,
                                    from_sel85=referral.from_sel85, age_note=referral.age_note)


# ---------------------------------------------------------------------------------------
# Worked examples

def test_ors_figures_follow_date_then_session_number_then_entry_order_whatever_order_they_are_typed(
    unit_id: int,
) -> None:
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 15), items=same(50), session_no=3)  # 20,0
        # Typed later, dated a week earlier: it is the first.
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 8), items=same(60), session_no=1)  # 24,0
        # Same day as the first typed, an earlier session: before it.
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 15), items=same(70), session_no=2)  # 28,0
        # Same day and session as the first typed: after it, in the order they were typed.
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 15), items=same(40), session_no=3)  # 16,0

    assert stored(course.id) == {
        "wait_days": 29,  # 1 February to 1 March 2024 (a leap year)
        "duration_days": None,
        "network_meetings": 0,
        "ors_count": 4, "ors_first": 240, "ors_last": 160, "ors_last_date": date(2024, 3, 15),
        **ordinals(240, 280, 200, 160),
    }


def test_editing_a_scores_items_or_date_and_deleting_the_first_score_move_the_figures(unit_id: int) -> None:
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
        first, second, third = (
            services.add_ors(s, SYSTEM, course_id=course.id, day=day, items=same(tenths))
            for day, tenths in ((date(2024, 3, 1), 30), (date(2024, 3, 15), 50), (date(2024, 4, 1), 65))
        )
    assert {k: stored(course.id)[k] for k in ("ors_first", "ors_last", "ors_1", "ors_2", "ors_3")} == {
        "ors_first": 120, "ors_last": 260, "ors_1": 120, "ors_2": 200, "ors_3": 260}

    with db.write_session() as s:
        services.update_ors(s, SYSTEM, score_id=second.id, expected_version=None, day=second.date,
                            items=same(80), session_no=None)  # 20,0 → 32,0
        services.update_ors(s, SYSTEM, score_id=third.id, expected_version=None, day=third.date,
                            items=items(10, 20, 30, 40), session_no=None)  # 26,0 → 10,0
    assert ors_of(course.id) == {
        "ors_count": 3, "ors_first": 120, "ors_last": 100, "ors_last_date": date(2024, 4, 1), **ordinals(120, 320, 100)}

    with db.write_session() as s:
        services.delete_ors(s, SYSTEM, score_id=first.id, expected_version=None)
    assert ors_of(course.id) == {
        "ors_count": 2, "ors_first": 320, "ors_last": 100, "ors_last_date": date(2024, 4, 1), **ordinals(320, 100)}

    with db.write_session() as s:  # the middle score moved after the last one
        services.update_ors(s, SYSTEM, score_id=second.id, expected_version=None, day=date(2024, 4, 2),
                            items=same(80), session_no=None)
    assert ors_of(course.id) == {
        "ors_count": 2, "ors_first": 100, "ors_last": 320, "ors_last_date": date(2024, 4, 2), **ordinals(100, 320)}

    with db.write_session() as s:
        for score in (second, third):
            services.delete_ors(s, SYSTEM, score_id=score.id, expected_version=None)
    assert ors_of(course.id) == NO_SCORES


def test_wait_and_duration_follow_the_start_the_end_and_the_referrals_received_date(unit_id: int) -> None:
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
    assert (stored(course.id)["wait_days"], stored(course.id)["duration_days"]) == (29, None)

    with db.write_session() as s:
        course = edit_course(s, course, start=date(2024, 3, 11))
    assert (stored(course.id)["wait_days"], stored(course.id)["duration_days"]) == (39, None)

    with db.write_session() as s:  # 11 March to 3 June: 20 + 30 + 31 + 3 days, twelve weeks
        course = services.end_course(s, SYSTEM, course_id=course.id, end=date(2024, 6, 3), end_reason="completed")
    assert (stored(course.id)["wait_days"], stored(course.id)["duration_days"]) == (39, 84)

    with db.write_session() as s:  # 22 January to 11 March: 9 + 29 + 11 days
        edit_received(s, course.referral_id, date(2024, 1, 22))
    assert (stored(course.id)["wait_days"], stored(course.id)["duration_days"]) == (49, 84)

    with db.write_session() as s:  # a week earlier start: a week more of waiting gone, a week more of course
        course = edit_course(s, course, start=date(2024, 3, 4), end=date(2024, 6, 3))
    assert (stored(course.id)["wait_days"], stored(course.id)["duration_days"]) == (42, 91)

    with db.write_session() as s:
        course = services.reopen_course(s, SYSTEM, course_id=course.id, expected_version=None)
    assert (stored(course.id)["wait_days"], stored(course.id)["duration_days"]) == (42, None)

    with db.write_session() as s:  # ended on its first day
        course = edit_course(s, course, end=date(2024, 3, 4), end_reason="dropped_out")
    assert (stored(course.id)["wait_days"], stored(course.id)["duration_days"]) == (42, 0)


def test_network_meetings_count_the_courses_meetings_as_they_are_added_and_deleted(unit_id: int) -> None:
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
        other = new_course(s, unit_id, "SAG-2", received=date(2024, 2, 1), start=date(2024, 3, 1))
    assert stored(course.id)["network_meetings"] == 0

    with db.write_session() as s:
        first = services.add_network_meeting(s, SYSTEM, course_id=course.id, day=date(2024, 3, 5), participants=4)
        services.add_network_meeting(s, SYSTEM, course_id=course.id, day=date(2024, 4, 5), participants=6)
        services.add_network_meeting(s, SYSTEM, course_id=other.id, day=date(2024, 4, 5), participants=3)
    assert (stored(course.id)["network_meetings"], stored(other.id)["network_meetings"]) == (2, 1)

    with db.write_session() as s:  # a new date is still one meeting
        services.update_network_meeting(s, SYSTEM, meeting_id=first.id, expected_version=None,
                                        day=date(2024, 3, 6), participants=5)
    assert stored(course.id)["network_meetings"] == 2

    with db.write_session() as s:
        services.delete_network_meeting(s, SYSTEM, meeting_id=first.id, expected_version=None)
    assert (stored(course.id)["network_meetings"], stored(other.id)["network_meetings"]) == (1, 1)


def test_a_course_with_more_than_twenty_scores_keeps_the_first_twenty_totals_and_counts_them_all(
    unit_id: int,
) -> None:
    start = date(2024, 3, 1)
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=start)
        # Typed last day first: the score of day n (1–22) has four items of n tenths, a total of 4n.
        scores = {n: services.add_ors(s, SYSTEM, course_id=course.id, day=start + timedelta(days=n - 1),
                                      items=same(n))
                  for n in range(22, 0, -1)}
    assert stored(course.id) == {
        "wait_days": 29, "duration_days": None, "network_meetings": 0,
        "ors_count": 22, "ors_first": 4, "ors_last": 88, "ors_last_date": date(2024, 3, 22),
        **ordinals(*range(4, 81, 4)),
    }

    with db.write_session() as s:  # the 21st moves up into ors_20
        services.delete_ors(s, SYSTEM, score_id=scores[1].id, expected_version=None)
    assert stored(course.id) == {
        "wait_days": 29, "duration_days": None, "network_meetings": 0,
        "ors_count": 21, "ors_first": 8, "ors_last": 88, "ors_last_date": date(2024, 3, 22),
        **ordinals(*range(8, 85, 4)),
    }


def test_the_course_the_caller_holds_shows_the_fresh_summary_after_the_save(unit_id: int) -> None:
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 1), items=same(50))
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 4, 1), items=same(70))
        services.add_network_meeting(s, SYSTEM, course_id=course.id, day=date(2024, 3, 2), participants=3)
    assert (course.wait_days, course.network_meetings, course.ors_count, course.ors_first, course.ors_last,
            course.ors_last_date) == (29, 1, 2, 200, 280, date(2024, 4, 1))

    with db.write_session() as s:
        ended = services.end_course(s, SYSTEM, course_id=course.id, end=date(2024, 5, 31), end_reason="completed")
    assert ended.duration_days == 91


def test_a_refused_save_leaves_the_summary_as_it_was(unit_id: int) -> None:
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 1), items=same(50))
    before = stored(course.id)

    with pytest.raises(ValidationError), db.write_session() as s:
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 2), items=same(90))
        services.end_course(s, SYSTEM, course_id=course.id, end=date(2024, 3, 1), end_reason="completed")

    assert stored(course.id) == before == {**before, "ors_count": 1, "ors_last": 200, "duration_days": None}


def test_a_savepoint_rolled_back_later_in_the_transaction_does_not_lose_an_earlier_change(unit_id: int) -> None:
    # The import and start_course write in savepoints; a refusal in one rolls back only its own rows.
    with db.write_session() as s:
        course = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
    with db.write_session() as s:
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 1), items=same(50))
        savepoint = s.begin_nested()
        services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 2), items=same(90))
        savepoint.rollback()

    assert ors_of(course.id) == {
        "ors_count": 1, "ors_first": 200, "ors_last": 200, "ors_last_date": date(2024, 3, 1), **ordinals(200)}


def test_rebuild_recomputes_the_summaries_of_the_units_it_is_given_and_no_others(unit_id: int) -> None:
    with db.write_session() as s:
        other_unit = services.create_unit(s, SYSTEM, name="FOKUS Unge", municipality="Testkommune").id
        mine = new_course(s, unit_id, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
        theirs = new_course(s, other_unit, "SAG-1", received=date(2024, 2, 1), start=date(2024, 3, 1))
        for course in (mine, theirs):
            services.add_ors(s, SYSTEM, course_id=course.id, day=date(2024, 3, 1), items=same(50))
    right = stored(mine.id)
    wrong = {"wait_days": 0, "network_meetings": 7, "ors_count": 0, "ors_first": None, "ors_1": None}
    with db.write_session() as s:  # figures spoilt behind the hooks' back
        s.execute(sa.update(Course).values(**wrong))

    with db.write_session() as s:
        assert summaries.rebuild(s, unit_ids=[unit_id]) == 1
    assert (stored(mine.id), stored(theirs.id)) == (right, {**right, **wrong})

    with db.write_session() as s:
        assert summaries.rebuild(s) == 2
    assert stored(mine.id) == stored(theirs.id) == right


# ---------------------------------------------------------------------------------------
# The derivation in plain Python, and random sequences of writes

def derived(course: Course, received: date, scores: list[OrsScore], meetings: int) -> dict[str, Any]:
    """A course's summary read from its rows: the docstring of `fokus.summaries`, literally."""
    ordered = sorted(scores, key=lambda o: (o.date, o.session_no, o.id))
    totals = [o.individual + o.interpersonal + o.social + o.overall for o in ordered]
    return {
        "wait_days": (course.start - received).days,
        "duration_days": None if course.end is None else (course.end - course.start).days,
        "network_meetings": meetings,
        "ors_count": len(totals),
        "ors_first": totals[0] if totals else None,
        "ors_last": totals[-1] if totals else None,
        "ors_last_date": ordered[-1].date if ordered else None,
        **ordinals(*totals),
    }


def assert_every_summary_is_its_derivation(unit: int, after: object = "the start") -> int:
    """Every course of the unit stores what its rows give (`after`: what was done last); how many courses."""
    with db.read_session() as s:
        courses = s.exec(select(Course).where(Course.unit_id == unit)).all()
        received = {r.id: r.received for r in s.exec(select(Referral).where(Referral.unit_id == unit))}
        ids = [c.id for c in courses]
        scores = s.exec(select(OrsScore).where(col(OrsScore.course_id).in_(ids))).all()
        meetings = s.exec(select(NetworkMeeting).where(col(NetworkMeeting.course_id).in_(ids))).all()
    for course in courses:
        own = [o for o in scores if o.course_id == course.id]
        count = sum(m.course_id == course.id for m in meetings)
        expected = derived(course, received[course.referral_id], own, count)
        by_summary = summaries.summary(
            course.start, course.end, received[course.referral_id], count,
            [(o.date, o.individual + o.interpersonal + o.social + o.overall)
             for o in sorted(own, key=lambda o: (o.date, o.session_no, o.id))],
        )
        assert {name: getattr(course, name) for name in summaries.COLUMNS} == expected == by_summary, (
            course.ref, after)
    return len(courses)


FIRST_DAY = date(2024, 1, 1)  # every day drawn is in 2024 or early 2025: in the past
OFFSETS = st.one_of(st.sampled_from((0, 1, 7, 14, 84, 112)), st.integers(-3, 200))  # may fall outside the course
ITEMS = st.tuples(*[st.one_of(st.sampled_from((0, 50, 100)), st.integers(0, 100))] * 4)
SESSION_NOS = st.one_of(st.none(), st.integers(1, 3))  # few numbers: ties on (date, session) are common


@dataclass(frozen=True)
class Plan:
    received: int  # days after FIRST_DAY
    start: int  # days after received
    end: int | None  # days after start
    scores: list[tuple[int, tuple[int, int, int, int], int | None]]  # day after start, items, session number


@dataclass(frozen=True)
class Step:
    kind: str
    which: int  # picks a course, score, meeting or referral: modulo how many there are
    offset: int  # a day, counted from the course's start (from the referral for a start)
    items: tuple[int, int, int, int]
    session_no: int | None
    ended: bool  # for an edit of the course: with an end or open


# Scores most often; a course deleted (its referral back on the waiting list) and started again now and then.
KINDS = ("add_ors", "add_ors", "add_ors", "update_ors", "update_ors", "delete_ors", "delete_ors", "add_meeting",
         "delete_meeting", "update_course", "update_course", "end_course", "reopen_course", "update_received",
         "update_received", "delete_course", "start_course", "hand_over")


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    end = draw(st.none() | st.integers(0, 150))
    within = st.integers(0, 150 if end is None else end)
    many = draw(st.sampled_from((0, 1, 3, 5, 8, 21, 23)))  # sometimes past the 20 totals kept
    scores = draw(st.lists(st.tuples(within, ITEMS, SESSION_NOS), min_size=many, max_size=many))
    return Plan(draw(st.integers(0, 60)), draw(st.integers(0, 30)), end, scores)


STEPS = st.builds(Step, st.sampled_from(KINDS), st.integers(0, 100), OFFSETS, ITEMS, SESSION_NOS, st.booleans())
_unit_names = itertools.count(1)


def build(plans_: list[Plan]) -> int:
    with db.write_session() as s:
        unit = services.create_unit(s, SYSTEM, name=f"Enhed {next(_unit_names)}", municipality="Testkommune").id
        for name in ("Anna", "Bo"):  # contact people to hand courses to
            services.add_staff(s, SYSTEM, unit_id=unit, name=name, initials=name[:2].upper())
        for n, plan in enumerate(plans_):
            received = FIRST_DAY + timedelta(days=plan.received)
            course = new_course(s, unit, f"B{n}", received, received + timedelta(days=plan.start))
            for day, values, session_no in plan.scores:
                services.add_ors(s, SYSTEM, course_id=course.id, day=course.start + timedelta(days=day),
                                 items=items(*values), session_no=session_no)
            if plan.end is not None:
                services.end_course(s, SYSTEM, course_id=course.id, end=course.start + timedelta(days=plan.end),
                                    end_reason="completed")
    return unit


def pick(rows: list[Any], which: int) -> Any:
    return rows[which % len(rows)] if rows else None


def take(s: Session, unit: int, step: Step) -> None:
    """One step through the service functions (may be refused)."""
    courses = list(s.exec(select(Course).where(Course.unit_id == unit).order_by(col(Course.id))))
    ids = [c.id for c in courses]
    course = pick(courses, step.which)
    day = None if course is None else course.start + timedelta(days=step.offset)
    near_end = None  # an end near the course's last score: mostly on or after it, now and then the day before
    if course is not None:
        last = s.exec(select(func.max(OrsScore.date)).where(OrsScore.course_id == course.id)).one()
        near_end = max(last or course.start, course.start) + timedelta(days=step.offset % 9 - 1)
    if step.kind in ("update_ors", "delete_ors"):
        score = pick(list(s.exec(select(OrsScore).where(col(OrsScore.course_id).in_(ids))
                                 .order_by(col(OrsScore.id)))), step.which)
        if score is None:
            return
        owner = s.get(Course, score.course_id)
        assert owner is not None
        if step.kind == "delete_ors":
            services.delete_ors(s, SYSTEM, score_id=score.id, expected_version=None)
        else:
            services.update_ors(s, SYSTEM, score_id=score.id, expected_version=None,
                                day=owner.start + timedelta(days=step.offset), items=items(*step.items),
                                session_no=step.session_no)
    elif step.kind == "delete_meeting":
        meeting = pick(list(s.exec(select(NetworkMeeting).where(col(NetworkMeeting.course_id).in_(ids))
                                   .order_by(col(NetworkMeeting.id)))), step.which)
        if meeting is not None:
            services.delete_network_meeting(s, SYSTEM, meeting_id=meeting.id, expected_version=None)
    elif step.kind == "start_course":
        referral = pick(list(s.exec(select(Referral).where(Referral.unit_id == unit, Referral.status == "waiting")
                                    .order_by(col(Referral.id)))), step.which)
        if referral is not None:
            services.start_course(s, SYSTEM, referral_id=referral.id, form="group",
                                  start=referral.received + timedelta(days=step.offset))
    elif course is None or day is None:
        return
    elif step.kind == "add_ors":
        services.add_ors(s, SYSTEM, course_id=course.id, day=day, items=items(*step.items),
                         session_no=step.session_no)
    elif step.kind == "add_meeting":
        services.add_network_meeting(s, SYSTEM, course_id=course.id, day=day, participants=2)
    elif step.kind == "update_course":  # up to a week earlier or later; ended near its last score, or open
        edit_course(s, course, start=course.start + timedelta(days=step.offset % 15 - 7),
                    end=near_end if step.ended else None, end_reason="completed" if step.ended else None,
                    next_step=None)
    elif step.kind == "end_course":
        services.end_course(s, SYSTEM, course_id=course.id, end=near_end, end_reason="completed")
    elif step.kind == "reopen_course":
        services.reopen_course(s, SYSTEM, course_id=course.id, expected_version=None)
    elif step.kind == "update_received":
        edit_received(s, course.referral_id, course.start - timedelta(days=step.offset % 60))
    elif step.kind == "delete_course":
        services.delete_course(s, SYSTEM, course_id=course.id, expected_version=None)
    elif step.kind == "hand_over":  # to the other contact person, or to none
        staff = [*s.exec(select(Staff.id).where(Staff.unit_id == unit).order_by(col(Staff.id))), None]
        edit_course(s, course, contact_person_id=pick([x for x in staff if x != course.contact_person_id], step.which))
    else:
        raise AssertionError(step.kind)


PROPERTY_SETTINGS = settings(
    deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_every_summary_equals_its_derivation_after_any_sequence_of_inserts_edits_and_deletes(db_url: str) -> None:
    examples = 25 if db_url.startswith("sqlite") else 8
    tallies = {"taken": 0, "refused": 0}

    @settings(PROPERTY_SETTINGS, max_examples=examples)
    @given(plans_=st.lists(plans(), min_size=1, max_size=3), steps=st.lists(STEPS, min_size=5, max_size=20))
    def run(plans_: list[Plan], steps: list[Step]) -> None:
        unit = build(plans_)
        assert_every_summary_is_its_derivation(unit)
        for step in steps:
            try:
                with db.write_session() as s:
                    take(s, unit, step)
                tallies["taken"] += 1
            except (ValidationError, ConflictError):
                tallies["refused"] += 1  # a refused write changes nothing: the summaries must still hold
            assert_every_summary_is_its_derivation(unit, after=step)

    run()
    # The sequences did write: most steps went through, and some were refused on the way.
    assert tallies["taken"] > tallies["refused"] > 0, tallies


# ---------------------------------------------------------------------------------------
# The migration that added the columns fills them from the rows already there

def _rows_at_0004() -> list[tuple[str, dict[str, Any]]]:
    """Two courses written before the summaries existed: one ended with scores typed out of order and
    two meetings, one open without any."""
    at = date(2024, 3, 1)
    citizens = [{"id": n, "unit_id": 1, "ref": f"SAG-{n}", "birth_year": 1980, "created": at, "version": 1}
                for n in (1, 2)]
    referrals = [{"id": n, "unit_id": 1, "citizen_id": n, "received": received, "referrer": "jobcenter",
                  "target_group": "psychic", "from_sel85": False, "status": "started", "decided": start,
                  "reason": None, "age_note": None, "version": 2}
                 for n, received, start in ((1, date(2024, 2, 1), date(2024, 3, 1)),
                                            (2, date(2024, 3, 20), date(2024, 4, 2)))]
    courses = [{"id": n, "unit_id": 1, "ref": f"F2024-000{n}", "citizen_id": n, "referral_id": n, "start": start,
                "form": "individual", "group_id": None, "contact_person_id": None, "end": end,
                "end_reason": "completed" if end else None, "next_step": None, "version": 1}
               for n, start, end in ((1, date(2024, 3, 1), date(2024, 5, 31)), (2, date(2024, 4, 2), None))]
    scores = [{"id": n, "course_id": 1, "date": day, "session_no": session_no, "individual": tenths,
               "interpersonal": tenths, "social": tenths, "overall": tenths + 1, "entered_by": None,
               "entered_at": at, "version": 1}
              for n, day, session_no, tenths in ((1, date(2024, 5, 30), 3, 70), (2, date(2024, 3, 1), 1, 40),
                                                 (3, date(2024, 4, 2), 2, 55))]
    meetings = [{"id": n, "course_id": 1, "date": day, "participants": 4, "version": 1}
                for n, day in ((1, date(2024, 3, 5)), (2, date(2024, 6, 10)))]
    return [("unit", {"id": 1, "name": "FOKUS Faxe", "municipality": "Faxe", "version": 1}),
            *[("citizen", row) for row in citizens], *[("referral", row) for row in referrals],
            *[("course", row) for row in courses], *[("orsscore", row) for row in scores],
            *[("networkmeeting", row) for row in meetings]]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fokus.db'}"
        db.dispose_all()
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = f"s_{next(_unit_names)}_{tmp_path.name[-8:].lower().replace('-', '_')}"
    cluster.execute(f"CREATE DATABASE {name}")
    yield cluster.url(name)
    db.dispose_all()
    cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_migration_fills_the_summaries_of_courses_written_before_it(empty_url: str) -> None:
    config = db.alembic_config(empty_url)
    command.upgrade(config, "0004")
    engine = db.make_engine(empty_url)
    try:
        with engine.begin() as connection:
            tables = sa.MetaData()
            tables.reflect(connection)
            for table, row in _rows_at_0004():
                connection.execute(tables.tables[table].insert(), [row])
    finally:
        engine.dispose()

    command.upgrade(config, "0005")

    with Session(db.engine_for(empty_url)) as s:
        ended, open_ = s.get(Course, 1), s.get(Course, 2)
        assert ended is not None and open_ is not None
        # Scores 2 (1 March, 16,1), 3 (2 April, 22,1), 1 (30 May, 28,1); 1 March to 31 May is 91 days.
        assert {name: getattr(ended, name) for name in summaries.COLUMNS} == {
            "wait_days": 29, "duration_days": 91, "network_meetings": 2,
            "ors_count": 3, "ors_first": 161, "ors_last": 281, "ors_last_date": date(2024, 5, 30),
            **ordinals(161, 221, 281),
        }
        assert {name: getattr(open_, name) for name in summaries.COLUMNS} == {
            "wait_days": 13, "duration_days": None, "network_meetings": 0, **NO_SCORES}
