"""The rules of DESIGN §2, on SQLite and PostgreSQL.

Every rule refuses bad input with a Danish message that names the field, and a refused write
leaves the database exactly as it was: each refusal below happens inside a write block that has
already written something, and every row of every table is compared before and after. Where
the database can hold a rule itself (CHECK constraints, the partial unique index), it refuses
rows that bypass the service functions too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from fokus import audit, clock, db, fmt
from fokus import services as svc
from fokus import validate as v
from fokus.actor import SYSTEM, Actor
from fokus.errors import ConflictError, FokusError, ValidationError
from fokus.models import Course, OrsScore, Referral

ORS_OK = {"individual": 50, "interpersonal": 60, "social": 40, "overall": 55}
SRS_OK = {"relation": 90, "goals": 85, "approach": 90, "overall": 95}


def days_ago(days: int) -> date:
    return clock.today() - timedelta(days=days)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "the database is unchanged" is checked against."""
    with db.engine_for().connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(sa.select(table))), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }


def refused(
    write: Callable[[Session], object],
    *,
    field: str | None,
    words: list[str],
    error: type[FokusError] = ValidationError,
) -> FokusError:
    """Run `write` after another write in one transaction; it must fail and leave no trace."""
    before = snapshot()
    with pytest.raises(error) as caught, db.write_session() as session:
        audit.record(session, SYSTEM, "searched", detail="skrevet før fejlen, rulles tilbage")
        session.flush()
        write(session)
    assert snapshot() == before, "the refused write changed the database"
    assert caught.value.field == field
    for word in words:
        assert word.lower() in caught.value.message.lower(), (word, caught.value.message)
    return caught.value


def register(
    session: Session, actor: Actor, unit_id: int, ref: str, *, received: date, age: int = 40, **extra: Any
) -> Referral:
    # The birth year is fixed by today's year, so a citizen referred twice keeps it.
    return svc.register_referral(
        session, actor, unit_id=unit_id, citizen_ref=ref, birth_year=clock.today().year - age, received=received,
        referrer="socialcenter", target_group="psychic", **extra,
    )


@dataclass(frozen=True)
class World:
    """A unit with one open course, one ended course and one waiting referral."""

    unit_id: int
    actor: Actor
    staff_id: int
    group_id: int
    open_course_id: int
    open_course_ref: str
    open_citizen_id: int
    open_referral_id: int
    open_start: date
    ended_course_id: int
    ended_citizen_id: int
    ended_start: date
    ended_end: date
    waiting_referral_id: int
    waiting_citizen_id: int


@pytest.fixture
def actor(unit_id: int) -> Actor:
    return Actor(login="ab", role="staff", unit_ids=frozenset({unit_id}))


@pytest.fixture
def world(unit_id: int, actor: Actor) -> World:
    with db.write_session() as s:
        staff = svc.add_staff(s, actor, unit_id=unit_id, name="Anne Berg", initials="AB")
        group = svc.create_group(s, actor, unit_id=unit_id, name="Forårsholdet", theme="Angst", start=days_ago(60))
        open_referral = register(s, actor, unit_id, "SAG-1001", received=days_ago(70))
        open_course = svc.start_course(
            s, actor, referral_id=open_referral.id, start=days_ago(60), form="group",
            group_id=group.id, contact_person_id=staff.id,
        )
        svc.add_ors(s, actor, course_id=open_course.id, day=days_ago(60), items=ORS_OK)
        svc.add_srs(s, actor, course_id=open_course.id, day=days_ago(60), items=SRS_OK, group_session=True)
        svc.add_network_meeting(s, actor, course_id=open_course.id, day=days_ago(50), participants=5)
        svc.add_group_session(s, actor, group_id=group.id, day=days_ago(53), present_course_ids=[open_course.id])
        ended_referral = register(s, actor, unit_id, "SAG-1002", received=days_ago(200))
        ended_course = svc.start_course(s, actor, referral_id=ended_referral.id, start=days_ago(190), form="individual")
        svc.add_ors(s, actor, course_id=ended_course.id, day=days_ago(190), items=ORS_OK)
        svc.end_course(s, actor, course_id=ended_course.id, end=days_ago(100), end_reason="completed", next_step="job")
        waiting = register(s, actor, unit_id, "SAG-1003", received=days_ago(5))
    return World(
        unit_id=unit_id, actor=actor, staff_id=staff.id, group_id=group.id,
        open_course_id=open_course.id, open_course_ref=open_course.ref, open_citizen_id=open_course.citizen_id,
        open_referral_id=open_referral.id, open_start=open_course.start,
        ended_course_id=ended_course.id, ended_citizen_id=ended_course.citizen_id,
        ended_start=ended_course.start, ended_end=days_ago(100),
        waiting_referral_id=waiting.id, waiting_citizen_id=waiting.citizen_id,
    )


def _course(course_id: int) -> Course:
    with db.read_session() as session:
        course = session.get(Course, course_id)
        assert course is not None
        return course


def _referral(referral_id: int) -> Referral:
    with db.read_session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        return referral


# ---------------------------------------------------------------------------------------
# One open course per citizen

def test_a_citizen_with_an_open_course_cannot_start_another(world: World) -> None:
    with db.write_session() as s:  # a new referral while the course runs is fine ...
        second = register(s, world.actor, world.unit_id, "SAG-1001", received=days_ago(2))
    refused(  # ... but it cannot start while the first course is open
        lambda s: svc.start_course(s, world.actor, referral_id=second.id, start=days_ago(1), form="individual"),
        field="referral_id", words=["allerede et åbent forløb", world.open_course_ref, "afslut"],
    )


def test_a_citizen_may_start_a_new_course_once_the_last_has_ended(world: World) -> None:
    with db.write_session() as s:
        again = register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(20))
        course = svc.start_course(s, world.actor, referral_id=again.id, start=days_ago(10), form="individual")
    assert course.citizen_id == world.ended_citizen_id and course.end is None


def test_a_new_course_cannot_start_before_the_citizens_last_course_ended(world: World) -> None:
    with db.write_session() as s:
        again = register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(150))
    refused(
        lambda s: svc.start_course(s, world.actor, referral_id=again.id, start=days_ago(120), form="individual"),
        field="start", words=["forrige forløb sluttede", fmt.day(world.ended_end)],
    )


# ---------------------------------------------------------------------------------------
# end ≥ start

def test_a_course_cannot_end_before_it_started(world: World) -> None:
    refused(
        lambda s: svc.end_course(
            s, world.actor, course_id=world.open_course_id, end=world.open_start - timedelta(days=1),
            end_reason="completed",
        ),
        field="end", words=["slutdatoen ligger før forløbets start", fmt.day(world.open_start)],
    )


def test_a_course_may_end_on_the_day_it_started(world: World) -> None:
    with db.write_session() as s:
        svc.end_course(s, world.actor, course_id=world.open_course_id, end=world.open_start, end_reason="dropped_out")
    assert _course(world.open_course_id).end == world.open_start


def test_a_group_cannot_end_before_it_starts(world: World) -> None:
    refused(
        lambda s: svc.create_group(
            s, world.actor, unit_id=world.unit_id, name="Efterår", start=days_ago(10), end=days_ago(11)
        ),
        field="end", words=["slutdato", "efter startdatoen"],
    )


def test_a_course_cannot_start_before_its_referral_was_received(world: World) -> None:
    refused(
        lambda s: svc.start_course(
            s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(6), form="individual"
        ),
        field="start", words=["før henvisningen blev modtaget", fmt.day(days_ago(5))],
    )


# ---------------------------------------------------------------------------------------
# ORS and SRS items: 0–10 with one decimal, stored as whole tenths 0–100

BAD_ITEMS = [
    pytest.param(101, ["fra 0 til 10"], id="over-10"),
    pytest.param(-1, ["fra 0 til 10"], id="negative"),
    pytest.param(7.5, ["som et tal fra 0 til 10", "én decimal"], id="float-not-tenths"),
    pytest.param("7,5", ["som et tal fra 0 til 10"], id="text-not-parsed"),
    pytest.param(None, ["som et tal fra 0 til 10"], id="missing"),
    pytest.param(True, ["som et tal fra 0 til 10"], id="boolean"),
]


@pytest.mark.parametrize("item", ["individual", "interpersonal", "social", "overall"])
@pytest.mark.parametrize(("value", "words"), BAD_ITEMS)
def test_ors_items_outside_0_to_10_are_refused(world: World, item: str, value: object, words: list[str]) -> None:
    items = {**ORS_OK, item: value}
    refused(
        lambda s: svc.add_ors(s, world.actor, course_id=world.open_course_id, day=days_ago(1), items=items),
        field=item, words=["ORS", *words],
    )


@pytest.mark.parametrize("item", ["relation", "goals", "approach", "overall"])
@pytest.mark.parametrize(("value", "words"), BAD_ITEMS)
def test_srs_items_outside_0_to_10_are_refused(world: World, item: str, value: object, words: list[str]) -> None:
    items = {**SRS_OK, item: value}
    refused(
        lambda s: svc.add_srs(s, world.actor, course_id=world.open_course_id, day=days_ago(1), items=items),
        field=item, words=["SRS", *words],
    )


def test_ors_and_srs_items_at_0_and_10_are_stored_as_tenths(world: World) -> None:
    low_high = {"individual": 0, "interpersonal": 100, "social": 0, "overall": 100}
    with db.write_session() as s:
        ors = svc.add_ors(s, world.actor, course_id=world.open_course_id, day=days_ago(1), items=low_high)
        srs = svc.add_srs(
            s, world.actor, course_id=world.open_course_id, day=days_ago(1),
            items={"relation": 0, "goals": 100, "approach": 0, "overall": 100},
        )
    assert (ors.individual, ors.interpersonal, srs.relation, srs.goals) == (0, 100, 0, 100)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("10,5", ["fra 0 til 10"]),
        ("10.1", ["fra 0 til 10"]),
        ("-1", ["fra 0 til 10"]),
        ("7,25", ["højst have én decimal"]),
        ("abc", ["ikke et tal", "7,5"]),
        ("", ["ikke et tal"]),
        ("7,55", ["højst have én decimal"]),
        (float("nan"), ["skal være et tal"]),
    ],
)
def test_typed_score_items_are_refused_unless_0_to_10_with_one_decimal(typed: object, words: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        fmt.parse_score_item(typed, "individual", "Individuelt")  # type: ignore[arg-type]
    assert caught.value.field == "individual"
    for word in words:
        assert word.lower() in caught.value.message.lower()


@pytest.mark.parametrize(
    ("typed", "tenths"),
    [("7,5", 75), ("7.5", 75), (" 10 ", 100), ("0,0", 0), ("0", 0), ("3,7", 37), (9.9, 99), (4, 40)],
)
def test_typed_score_items_become_whole_tenths(typed: object, tenths: int) -> None:
    assert fmt.parse_score_item(typed, "individual", "Individuelt") == tenths  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# An ORS date inside its course

def test_an_ors_dated_before_the_course_started_is_refused(world: World) -> None:
    refused(
        lambda s: svc.add_ors(
            s, world.actor, course_id=world.open_course_id, day=world.open_start - timedelta(days=1), items=ORS_OK
        ),
        field="date", words=["ORS-datoen skal ligge inden for forløbet", fmt.day(world.open_start), "i dag"],
    )


def test_an_ors_dated_after_the_course_ended_is_refused(world: World) -> None:
    refused(
        lambda s: svc.add_ors(
            s, world.actor, course_id=world.ended_course_id, day=world.ended_end + timedelta(days=1), items=ORS_OK
        ),
        field="date", words=["inden for forløbet", fmt.day(world.ended_start), fmt.day(world.ended_end)],
    )


def test_an_srs_dated_outside_the_course_is_refused(world: World) -> None:
    refused(
        lambda s: svc.add_srs(
            s, world.actor, course_id=world.ended_course_id, day=world.ended_end + timedelta(days=1), items=SRS_OK
        ),
        field="date", words=["SRS-datoen skal ligge inden for forløbet"],
    )


def test_the_final_ors_may_be_entered_after_the_course_ended_when_dated_inside_it(world: World) -> None:
    with db.write_session() as s:
        score = svc.add_ors(s, world.actor, course_id=world.ended_course_id, day=world.ended_end, items=ORS_OK)
    assert score.date == world.ended_end and score.session_no == 2


def test_a_course_cannot_end_before_its_last_ors(world: World) -> None:
    with db.write_session() as s:
        svc.add_ors(s, world.actor, course_id=world.open_course_id, day=days_ago(3), items=ORS_OK)
    refused(
        lambda s: svc.end_course(
            s, world.actor, course_id=world.open_course_id, end=days_ago(4), end_reason="completed"
        ),
        field="end", words=["ORS-måling dateret", fmt.day(days_ago(3)), "efter slutdatoen"],
    )


def test_a_course_cannot_end_before_its_last_srs(world: World) -> None:
    with db.write_session() as s:
        svc.add_srs(s, world.actor, course_id=world.open_course_id, day=days_ago(3), items=SRS_OK)
    refused(
        lambda s: svc.end_course(
            s, world.actor, course_id=world.open_course_id, end=days_ago(4), end_reason="completed"
        ),
        field="end", words=["SRS-måling dateret", fmt.day(days_ago(3)), "efter slutdatoen"],
    )


# ---------------------------------------------------------------------------------------
# No future dates for what has happened; a group may be planned ahead

def _future_writes(w: World) -> dict[str, tuple[Callable[[Session], object], str]]:
    tomorrow = clock.today() + timedelta(days=1)
    return {
        "referral received": (
            lambda s: register(s, w.actor, w.unit_id, "SAG-2001", received=tomorrow), "received"),
        "course start": (
            lambda s: svc.start_course(s, w.actor, referral_id=w.waiting_referral_id, start=tomorrow, form="group"),
            "start"),
        "course end": (
            lambda s: svc.end_course(s, w.actor, course_id=w.open_course_id, end=tomorrow, end_reason="completed"),
            "end"),
        "ors": (lambda s: svc.add_ors(s, w.actor, course_id=w.open_course_id, day=tomorrow, items=ORS_OK), "date"),
        "srs": (lambda s: svc.add_srs(s, w.actor, course_id=w.open_course_id, day=tomorrow, items=SRS_OK), "date"),
        "network meeting": (
            lambda s: svc.add_network_meeting(s, w.actor, course_id=w.open_course_id, day=tomorrow, participants=3),
            "date"),
        "group session": (
            lambda s: svc.add_group_session(s, w.actor, group_id=w.group_id, day=tomorrow, present_course_ids=[]),
            "day"),
        "referral decided": (
            lambda s: svc.decide_referral(
                s, w.actor, referral_id=w.waiting_referral_id, status="withdrawn", decided=tomorrow, reason="declined"
            ),
            "decided"),
    }


@pytest.mark.parametrize(
    "what",
    ["referral received", "course start", "course end", "ors", "srs", "network meeting", "group session",
     "referral decided"],
)
def test_what_has_happened_cannot_be_dated_in_the_future(world: World, what: str) -> None:
    write, field = _future_writes(world)[what]
    tomorrow = clock.today() + timedelta(days=1)
    refused(write, field=field, words=[fmt.day(tomorrow), "ligger i fremtiden", "når det er sket"])


def test_what_happened_today_may_be_registered(world: World) -> None:
    today = clock.today()
    with db.write_session() as s:
        svc.add_ors(s, world.actor, course_id=world.open_course_id, day=today, items=ORS_OK)
        svc.add_network_meeting(s, world.actor, course_id=world.open_course_id, day=today, participants=2)
        course = svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=today, form="group")
        svc.end_course(s, world.actor, course_id=course.id, end=today, end_reason="other")
        referral = register(s, world.actor, world.unit_id, "SAG-2002", received=today)
    assert referral.received == today


def test_a_group_may_be_planned_ahead(world: World) -> None:
    with db.write_session() as s:
        group = svc.create_group(
            s, world.actor, unit_id=world.unit_id, name="Efterårsholdet", theme="Stress",
            start=clock.today() + timedelta(days=30), end=clock.today() + timedelta(days=120),
        )
    assert group.start > clock.today()


def test_a_group_cannot_be_planned_absurdly_far_ahead(world: World) -> None:
    far = date(clock.today().year + 6, 1, 1)
    refused(
        lambda s: svc.create_group(s, world.actor, unit_id=world.unit_id, name="Langt ude", start=far),
        field="start", words=["for langt ude i fremtiden"],
    )


@pytest.mark.parametrize("value", [datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "2025-03-01", 20250301, None])
def test_a_date_must_be_a_date(world: World, value: object) -> None:
    refused(
        lambda s: svc.add_ors(s, world.actor, course_id=world.open_course_id, day=value, items=ORS_OK),  # type: ignore[arg-type]
        field="date", words=["angiv ors-datoen som en dato", "dd.mm.åååå"],
    )


def test_today_is_the_calendar_day_in_copenhagen(monkeypatch: pytest.MonkeyPatch) -> None:
    # 23:30 UTC on 31 December is already New Year's Day in Copenhagen (UTC+1 in winter).
    instant = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return instant.astimezone(tz)

    monkeypatch.setattr(clock, "datetime", FrozenDatetime)
    assert clock.today() == date(2026, 1, 1)
    assert v.past_date(date(2026, 1, 1), "received", "Henvisningsdato") == date(2026, 1, 1)
    with pytest.raises(ValidationError):
        v.past_date(date(2026, 1, 2), "received", "Henvisningsdato")


# ---------------------------------------------------------------------------------------
# Age 18–65 at referral, or an age note

@pytest.mark.parametrize("age", [17, 66, 80])
def test_an_age_outside_18_to_65_without_a_note_is_refused(world: World, age: int) -> None:
    refused(
        lambda s: register(s, world.actor, world.unit_id, "SAG-3001", received=clock.today(), age=age),
        field="age_note", words=[f"{age} år", "18–65", "aldersnoten"],
    )


def test_a_blank_age_note_is_no_note(world: World) -> None:
    refused(
        lambda s: register(s, world.actor, world.unit_id, "SAG-3001", received=clock.today(), age=17, age_note="   "),
        field="age_note", words=["aldersnoten"],
    )


@pytest.mark.parametrize("age", [18, 65])
def test_ages_18_and_65_need_no_note(world: World, age: int) -> None:
    with db.write_session() as s:
        referral = register(s, world.actor, world.unit_id, f"SAG-30{age}", received=clock.today(), age=age)
    assert referral.age_note is None


def test_an_age_outside_18_to_65_is_accepted_with_a_note(world: World) -> None:
    with db.write_session() as s:
        referral = register(
            s, world.actor, world.unit_id, "SAG-3002", received=clock.today(), age=70,
            age_note="Aftalt med Socialcenteret: ingen anden relevant indsats.",
        )
    assert _referral(referral.id).age_note == "Aftalt med Socialcenteret: ingen anden relevant indsats."


# ---------------------------------------------------------------------------------------
# A waiting referral has no course, a started one exactly one

def _courses_of(referral_id: int) -> list[Course]:
    with db.read_session() as session:
        return list(session.exec(select(Course).where(Course.referral_id == referral_id)).all())


def test_a_waiting_referral_has_no_course_and_a_started_one_exactly_one(world: World) -> None:
    waiting = _referral(world.waiting_referral_id)
    assert (waiting.status, waiting.decided, _courses_of(waiting.id)) == ("waiting", None, [])
    with db.write_session() as s:
        course = svc.start_course(s, world.actor, referral_id=waiting.id, start=days_ago(1), form="individual")
    started = _referral(world.waiting_referral_id)
    assert (started.status, started.decided) == ("started", days_ago(1))
    assert [c.id for c in _courses_of(started.id)] == [course.id]


def test_a_referral_cannot_be_started_twice(world: World) -> None:
    with db.write_session() as s:
        course = svc.start_course(
            s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(2), form="group"
        )
        svc.end_course(s, world.actor, course_id=course.id, end=days_ago(1), end_reason="dropped_out")
    refused(
        lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(0),
                                   form="group"),
        field="referral_id", words=["kun startes fra en ventende henvisning"],
    )
    assert len(_courses_of(world.waiting_referral_id)) == 1


def test_a_started_referral_cannot_be_rejected(world: World) -> None:
    refused(
        lambda s: svc.decide_referral(
            s, world.actor, referral_id=world.open_referral_id, status="rejected", decided=days_ago(1),
            reason="outside_target_group",
        ),
        field="status", words=["kun en ventende henvisning"],
    )


def test_a_rejected_referral_cannot_be_started(world: World) -> None:
    with db.write_session() as s:
        svc.decide_referral(
            s, world.actor, referral_id=world.waiting_referral_id, status="rejected", decided=days_ago(1),
            reason="needs_other_help",
        )
    refused(
        lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(0),
                                   form="group"),
        field="referral_id", words=["ventende henvisning"],
    )


def test_a_referral_cannot_be_decided_before_it_was_received(world: World) -> None:
    refused(
        lambda s: svc.decide_referral(
            s, world.actor, referral_id=world.waiting_referral_id, status="withdrawn", decided=days_ago(6),
            reason="declined",
        ),
        field="decided", words=["før henvisningen blev modtaget"],
    )


def test_a_citizen_on_the_waiting_list_cannot_be_referred_again(world: World) -> None:
    refused(
        lambda s: register(s, world.actor, world.unit_id, "SAG-1003", received=days_ago(1)),
        field="citizen_ref", words=["SAG-1003", "står allerede på ventelisten"],
    )


# ---------------------------------------------------------------------------------------
# Keys: referral (citizen, received); course ref unique in the unit

def test_a_second_referral_of_a_citizen_on_the_same_day_is_refused(world: World) -> None:
    refused(
        lambda s: register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(200)),
        field="received", words=["SAG-1002", "allerede en henvisning", fmt.day(days_ago(200))],
    )


def test_the_same_day_is_refused_even_after_the_first_referral_was_decided(world: World) -> None:
    with db.write_session() as s:
        svc.decide_referral(
            s, world.actor, referral_id=world.waiting_referral_id, status="withdrawn", decided=days_ago(1),
            reason="declined",
        )
    refused(
        lambda s: register(s, world.actor, world.unit_id, "SAG-1003", received=days_ago(5)),
        field="received", words=["allerede en henvisning"],
    )


def test_a_citizen_keeps_the_birth_year_first_registered(world: World) -> None:
    refused(
        lambda s: register(s, world.actor, world.unit_id, "SAG-1002", received=days_ago(1), age=30),
        field="birth_year", words=["SAG-1002", "fødselsår"],
    )


def test_a_course_ref_is_unique_in_the_unit_but_not_across_units(world: World) -> None:
    refused(
        lambda s: svc.start_course(
            s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(1), form="group",
            ref=world.open_course_ref,
        ),
        field="ref", words=[world.open_course_ref, "bruges allerede i enheden"],
    )
    with db.write_session() as s:
        other_unit = svc.create_unit(s, SYSTEM, name="FOKUS Unge", municipality="Testkommune")
        referral = register(s, SYSTEM, other_unit.id, "SAG-1001", received=days_ago(3))
        course = svc.start_course(
            s, SYSTEM, referral_id=referral.id, start=days_ago(1), form="group", ref=world.open_course_ref
        )
    assert course.ref == world.open_course_ref and course.unit_id != world.unit_id


# ---------------------------------------------------------------------------------------
# Unknown codes

def _code_writes(w: World, bad: str) -> dict[str, tuple[Callable[[Session], object], str, list[str]]]:
    return {
        "referrer": (
            lambda s: svc.register_referral(
                s, w.actor, unit_id=w.unit_id, citizen_ref="SAG-4001", birth_year=1980, received=days_ago(1),
                referrer=bad, target_group="psychic",
            ),
            "referrer", ["vælg henviser", "Socialcenter", "Jobcenter", "Andet"]),
        "target_group": (
            lambda s: svc.register_referral(
                s, w.actor, unit_id=w.unit_id, citizen_ref="SAG-4001", birth_year=1980, received=days_ago(1),
                referrer="jobcenter", target_group=bad,
            ),
            "target_group", ["vælg målgruppe", "Psykisk", "Fysisk", "Socialt"]),
        "form": (
            lambda s: svc.start_course(s, w.actor, referral_id=w.waiting_referral_id, start=days_ago(1), form=bad),
            "form", ["vælg form", "Gruppe", "Individuelt"]),
        "end_reason": (
            lambda s: svc.end_course(s, w.actor, course_id=w.open_course_id, end=days_ago(1), end_reason=bad),
            "end_reason", ["vælg afslutningsårsag", "Gennemført", "Afbrudt"]),
        "next_step": (
            lambda s: svc.end_course(
                s, w.actor, course_id=w.open_course_id, end=days_ago(1), end_reason="completed", next_step=bad
            ),
            "next_step", ["vælg efterfølgende indsats", "§ 85", "Uddannelse"]),
        "decision reason": (
            lambda s: svc.decide_referral(
                s, w.actor, referral_id=w.waiting_referral_id, status="rejected", decided=days_ago(1), reason=bad
            ),
            "reason", ["vælg årsag", "Uden for målgruppen"]),
    }


@pytest.mark.parametrize("code", ["referrer", "target_group", "form", "end_reason", "next_step", "decision reason"])
@pytest.mark.parametrize("bad", ["ukendt", "", "Socialcenter ", "PSYCHIC"])
def test_unknown_codes_are_refused_with_the_list_of_choices(world: World, code: str, bad: str) -> None:
    write, field, words = _code_writes(world, bad)[code]
    refused(write, field=field, words=words)


def test_a_referral_can_only_be_rejected_or_withdrawn(world: World) -> None:
    refused(
        lambda s: svc.decide_referral(
            s, world.actor, referral_id=world.waiting_referral_id, status="started", decided=days_ago(1),
            reason="other",
        ),
        field="status", words=["afvist eller trukket tilbage"],
    )


# ---------------------------------------------------------------------------------------
# No CPR number in any text field

CPR = "010190-1234"


def _text_writes(w: World) -> dict[str, tuple[Callable[[Session], object], str, str]]:
    return {
        "citizen ref": (lambda s: register(s, w.actor, w.unit_id, CPR, received=days_ago(1)),
                        "citizen_ref", "Borgerens reference"),
        "citizen ref without dash": (lambda s: register(s, w.actor, w.unit_id, "B 0101901234", received=days_ago(1)),
                                     "citizen_ref", "Borgerens reference"),
        "age note": (
            lambda s: register(s, w.actor, w.unit_id, "SAG-5001", received=days_ago(1), age=70,
                               age_note=f"Se CPR {CPR} i sagen"),
            "age_note", "Aldersnote"),
        "group name": (lambda s: svc.create_group(s, w.actor, unit_id=w.unit_id, name=f"Hold {CPR}",
                                                  start=days_ago(1)), "name", "Holdets navn"),
        "group theme": (lambda s: svc.create_group(s, w.actor, unit_id=w.unit_id, name="Vinter", start=days_ago(1),
                                                   theme="Til borger 010190 1234"), "theme", "Tema"),
        "staff name": (lambda s: svc.add_staff(s, w.actor, unit_id=w.unit_id, name=f"Anne {CPR}", initials="AN"),
                       "name", "Navn"),
        "staff initials": (lambda s: svc.add_staff(s, w.actor, unit_id=w.unit_id, name="Anne", initials="0101901234"),
                           "initials", "Initialer"),
        "course ref": (
            lambda s: svc.start_course(s, w.actor, referral_id=w.waiting_referral_id, start=days_ago(1),
                                       form="group", ref=CPR),
            "ref", "Forløbets reference"),
        "unit name": (lambda s: svc.create_unit(s, SYSTEM, name=f"Enhed {CPR}", municipality="Faxe"),
                      "name", "Enhedens navn"),
        "municipality": (lambda s: svc.create_unit(s, SYSTEM, name="Enhed 2", municipality=f"Faxe {CPR}"),
                         "municipality", "Kommune"),
    }


@pytest.mark.parametrize(
    "what",
    ["citizen ref", "citizen ref without dash", "age note", "group name", "group theme", "staff name",
     "staff initials", "course ref", "unit name", "municipality"],
)
def test_cpr_like_text_is_refused_in_every_text_field(world: World, what: str) -> None:
    write, field, label = _text_writes(world)[what]
    refused(write, field=field, words=[f"{label} ligner et CPR-nummer", "må ikke gemme CPR-numre"])


# ---------------------------------------------------------------------------------------
# Optimistic locking and races

def test_ending_a_course_someone_else_has_just_ended_is_a_conflict(world: World) -> None:
    seen = _course(world.open_course_id).version
    with db.write_session() as s:  # a colleague ends it first
        svc.end_course(s, world.actor, course_id=world.open_course_id, end=days_ago(2), end_reason="completed")
    refused(
        lambda s: svc.end_course(
            s, world.actor, course_id=world.open_course_id, end=days_ago(1), end_reason="dropped_out",
            expected_version=seen,
        ),
        field=None, words=["ændret af en anden", "genindlæs"], error=ConflictError,
    )
    assert _course(world.open_course_id).end_reason == "completed"


def test_deciding_a_referral_with_a_stale_version_is_a_conflict(world: World) -> None:
    seen = _referral(world.waiting_referral_id).version
    with db.write_session() as s:
        svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(1), form="group")
    refused(
        lambda s: svc.decide_referral(
            s, world.actor, referral_id=world.waiting_referral_id, status="withdrawn", decided=days_ago(1),
            reason="declined", expected_version=seen,
        ),
        field=None, words=["henvisningen er blevet ændret af en anden"], error=ConflictError,
    )


def test_an_open_course_slipping_past_the_service_check_is_a_danish_conflict(world: World) -> None:
    # Another writer's course, as if both had passed the check before either committed.
    def second_open_course(session: Session) -> None:
        session.add(Course(
            unit_id=world.unit_id, ref="F-RACE", citizen_id=world.open_citizen_id,
            referral_id=world.waiting_referral_id, start=days_ago(1), form="individual",
        ))
        session.flush()

    error = refused(second_open_course, field=None, words=["allerede et åbent forløb", "genindlæs"],
                    error=ConflictError)
    assert isinstance(error.__cause__, sa.exc.IntegrityError)


def test_a_row_breaking_a_check_through_a_write_session_is_a_conflict_not_a_crash(world: World) -> None:
    def bad_score(session: Session) -> None:
        items = {**ORS_OK, "social": 101}
        session.add(OrsScore(course_id=world.open_course_id, date=days_ago(1), session_no=9, **items))
        session.flush()

    refused(bad_score, field=None, words=["strider mod en regel i databasen", "genindlæs"], error=ConflictError)


def _while_first_is_saving(first: Callable[[Session], object], second: Callable[[Session], object]) -> object:
    """Run `second` in its own transaction while `first`'s transaction is open; return its result.

    `first` has written (and flushed) and holds its transaction until `second` is seen waiting
    for it (on PostgreSQL, in pg_stat_activity; SQLite queues writers at BEGIN IMMEDIATE).
    """
    engine = db.engine_for()
    first_flushed, outcome = threading.Event(), {}

    def second_is_waiting() -> bool:
        if engine.dialect.name != "postgresql":
            time.sleep(0.3)
            return True
        with engine.connect() as connection:
            return bool(connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).scalar_one())

    def first_writer() -> None:
        try:
            with db.write_session() as s:
                first(s)
                s.flush()
                first_flushed.set()
                deadline = time.monotonic() + 10
                while not second_is_waiting() and time.monotonic() < deadline:
                    time.sleep(0.02)
            outcome["first"] = "saved"
        except Exception as error:  # pragma: no cover - reported by the assertion below
            outcome["first"] = error
        finally:
            first_flushed.set()

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert first_flushed.wait(10)
    try:
        with db.write_session() as s:
            return second(s)
    finally:
        thread.join(20)
        assert outcome.get("first") == "saved", outcome


def test_two_staff_starting_a_course_for_the_same_citizen_at_once_leaves_one_open_course(
    world: World, db_url: str
) -> None:
    """On PostgreSQL both pass the service check (neither sees the other's uncommitted course), and
    the partial unique index refuses the second: a Danish ConflictError. On SQLite the second
    writer waits for the first (BEGIN IMMEDIATE), and its check then sees the course.
    """
    with db.write_session() as s:  # a second waiting referral, which the services would not allow
        other = Referral(
            unit_id=world.unit_id, citizen_id=world.waiting_citizen_id, received=days_ago(4),
            referrer="jobcenter", target_group="social",
        )
        s.add(other)
    with pytest.raises(FokusError) as caught:
        _while_first_is_saving(
            lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(1),
                                       form="group"),
            lambda s: svc.start_course(s, world.actor, referral_id=other.id, start=days_ago(1), form="individual"),
        )
    expected = ConflictError if db_url.startswith("postgresql") else ValidationError
    assert type(caught.value) is expected
    assert "allerede et åbent forløb" in caught.value.message
    with db.read_session() as session:
        open_courses = session.exec(
            select(Course).where(Course.citizen_id == world.waiting_citizen_id, Course.end == None)  # noqa: E711
        ).all()
    assert len(open_courses) == 1


def test_two_staff_starting_courses_for_different_citizens_at_once_both_get_their_own_ref(world: World) -> None:
    # On PostgreSQL both compute the same next automatic ref; the second takes the one after.
    with db.write_session() as s:
        other = register(s, world.actor, world.unit_id, "SAG-1004", received=days_ago(4))
    second = _while_first_is_saving(
        lambda s: svc.start_course(s, world.actor, referral_id=world.waiting_referral_id, start=days_ago(1),
                                   form="group"),
        lambda s: svc.start_course(s, world.actor, referral_id=other.id, start=days_ago(1), form="individual"),
    )
    assert isinstance(second, Course)
    with db.read_session() as session:
        refs = [c.ref for c in session.exec(select(Course).where(Course.start == days_ago(1))).all()]
    assert len(refs) == 2 and len(set(refs)) == 2 and second.ref in refs


# ---------------------------------------------------------------------------------------
# The database's own defence: rows that bypass the services

def _base_rows(w: World) -> dict[str, dict[str, Any]]:
    """A valid row per table, that the database accepts (see the control test below)."""
    now = clock.now_utc()
    scores = {"course_id": w.open_course_id, "date": days_ago(1), "session_no": 7, "entered_at": now, "version": 1}
    return {
        "citizen": {"unit_id": w.unit_id, "ref": "DB-1", "birth_year": 1980, "created": now, "version": 1},
        "referral": {
            "unit_id": w.unit_id, "citizen_id": w.ended_citizen_id, "received": days_ago(2), "referrer": "jobcenter",
            "target_group": "social", "from_sel85": False, "status": "waiting", "decided": None, "reason": None,
            "age_note": None, "version": 1,
        },
        "course": {
            "unit_id": w.unit_id, "ref": "DB-1", "citizen_id": w.waiting_citizen_id,
            "referral_id": w.waiting_referral_id, "start": days_ago(3), "form": "individual", "group_id": None,
            "contact_person_id": None, "end": None, "end_reason": None, "next_step": None, "version": 1,
        },
        "orsscore": {**scores, "individual": 50, "interpersonal": 50, "social": 50, "overall": 50},
        "srsscore": {**scores, "relation": 90, "goals": 90, "approach": 90, "overall": 90, "group_session": False},
        "group": {"unit_id": w.unit_id, "name": "DB-hold", "theme": "", "start": days_ago(3), "end": None,
                  "capacity": 10, "version": 1},
        "networkmeeting": {"course_id": w.open_course_id, "date": days_ago(1), "participants": 4, "version": 1},
        "staff": {"unit_id": w.unit_id, "name": "DB", "initials": "DB", "active": True, "max_active_courses": 10,
                  "version": 1},
        "target": {
            "unit_id": w.unit_id, "valid_from": date(2030, 1, 1), "intake_min": 150, "intake_max": 200,
            "group_share": 0.7, "weeks_min": 12, "weeks_max": 16, "max_months": 6, "ors_cutoff": 25.0, "rci": 5.0,
            "jobcenter_quota": 120, "version": 1,
        },
    }


# (table, what the row changes, what PostgreSQL names in its refusal, what SQLite names)
DATABASE_REFUSALS: list[Any] = [
    pytest.param("course", lambda w: {"end": days_ago(4), "end_reason": "completed"}, "ck_course_end_after_start",
                 "ck_course_end_after_start", id="course-end-before-start"),
    pytest.param("course", lambda w: {"form": "pair"}, "ck_course_form_code", "ck_course_form_code",
                 id="course-unknown-form"),
    pytest.param("course", lambda w: {"end_reason": "completed"}, "ck_course_end_reason_code",
                 "ck_course_end_reason_code", id="course-end-reason-without-end"),
    pytest.param("course", lambda w: {"end": days_ago(1), "end_reason": "done"}, "ck_course_end_reason_code",
                 "ck_course_end_reason_code", id="course-unknown-end-reason"),
    pytest.param("course", lambda w: {"end": days_ago(1), "next_step": "pension"}, "ck_course_next_step_code",
                 "ck_course_next_step_code", id="course-unknown-next-step"),
    pytest.param("course", lambda w: {"next_step": "job"}, "ck_course_next_step_code", "ck_course_next_step_code",
                 id="course-next-step-without-end"),
    pytest.param("course", lambda w: {"citizen_id": w.open_citizen_id}, "uq_course_one_open_per_citizen",
                 "course.citizen_id", id="second-open-course-of-a-citizen"),
    pytest.param("course", lambda w: {"referral_id": w.open_referral_id}, "uq_course_referral",
                 "course.referral_id", id="second-course-of-a-referral"),
    pytest.param("course", lambda w: {"ref": w.open_course_ref}, "uq_course_unit_ref", "course.unit_id, course.ref",
                 id="course-ref-twice-in-unit"),
    *[
        pytest.param(table, lambda w, item=item, value=value: {item: value}, f"ck_{table}_{item}_range",
                     f"ck_{table}_{item}_range", id=f"{table}-{item}-{value}")
        for table, items in (("orsscore", ("individual", "interpersonal", "social", "overall")),
                             ("srsscore", ("relation", "goals", "approach", "overall")))
        for item in items
        for value in (-1, 101)
    ],
    pytest.param("orsscore", lambda w: {"session_no": 0}, "ck_orsscore_session_no_positive",
                 "ck_orsscore_session_no_positive", id="ors-session-zero"),
    pytest.param("referral", lambda w: {"referrer": "kommune"}, "ck_referral_referrer_code",
                 "ck_referral_referrer_code", id="referral-unknown-referrer"),
    pytest.param("referral", lambda w: {"target_group": "mental"}, "ck_referral_target_group_code",
                 "ck_referral_target_group_code", id="referral-unknown-target-group"),
    pytest.param("referral", lambda w: {"status": "done", "decided": days_ago(1)}, "ck_referral_status_code",
                 "ck_referral_status_code", id="referral-unknown-status"),
    pytest.param("referral", lambda w: {"decided": days_ago(1)}, "ck_referral_decided_iff_not_waiting",
                 "ck_referral_decided_iff_not_waiting", id="waiting-referral-with-decision-date"),
    pytest.param("referral", lambda w: {"status": "started"}, "ck_referral_decided_iff_not_waiting",
                 "ck_referral_decided_iff_not_waiting", id="started-referral-without-decision-date"),
    pytest.param("referral", lambda w: {"status": "started", "decided": days_ago(3)},
                 "ck_referral_decided_after_received", "ck_referral_decided_after_received",
                 id="referral-decided-before-received"),
    pytest.param("referral", lambda w: {"status": "rejected", "decided": days_ago(1)},
                 "ck_referral_reason_iff_refused", "ck_referral_reason_iff_refused", id="rejected-without-reason"),
    pytest.param("referral", lambda w: {"received": days_ago(200)}, "uq_referral_citizen_received",
                 "referral.citizen_id, referral.received", id="referral-key-twice"),
    pytest.param("group", lambda w: {"end": days_ago(4)}, "ck_group_end_after_start", "ck_group_end_after_start",
                 id="group-end-before-start"),
    pytest.param("group", lambda w: {"capacity": 0}, "ck_group_capacity_range", "ck_group_capacity_range",
                 id="group-no-places"),
    pytest.param("networkmeeting", lambda w: {"participants": 0}, "ck_networkmeeting_participants_range",
                 "ck_networkmeeting_participants_range", id="meeting-without-participants"),
    pytest.param("citizen", lambda w: {"birth_year": 1800}, "ck_citizen_birth_year_range",
                 "ck_citizen_birth_year_range", id="citizen-born-1800"),
    pytest.param("citizen", lambda w: {"ref": "SAG-1001"}, "uq_citizen_unit_ref", "citizen.unit_id, citizen.ref",
                 id="citizen-ref-twice-in-unit"),
    pytest.param("staff", lambda w: {"max_active_courses": 201}, "ck_staff_max_active_range",
                 "ck_staff_max_active_range", id="staff-too-many-courses"),
    pytest.param("staff", lambda w: {"initials": "AB"}, "uq_staff_unit_initials", "staff.unit_id, staff.initials",
                 id="staff-initials-twice"),
    pytest.param("target", lambda w: {"group_share": 1.5}, "ck_target_group_share_range",
                 "ck_target_group_share_range", id="target-share-over-1"),
]


def _insert(table_name: str, values: dict[str, Any]) -> None:
    table = SQLModel.metadata.tables[table_name]
    with db.engine_for().begin() as connection:
        connection.execute(sa.insert(table).values(**values))


@pytest.mark.parametrize("table_name", ["citizen", "referral", "course", "orsscore", "srsscore", "group",
                                        "networkmeeting", "staff", "target"])
def test_the_database_accepts_the_valid_rows_the_refusals_start_from(world: World, table_name: str) -> None:
    _insert(table_name, _base_rows(world)[table_name])


@pytest.mark.parametrize(("table_name", "change", "postgresql_names", "sqlite_names"), DATABASE_REFUSALS)
def test_the_database_itself_refuses_rows_that_break_a_rule(
    world: World, db_url: str, table_name: str, change: Callable[[World], dict[str, Any]],
    postgresql_names: str, sqlite_names: str,
) -> None:
    before = snapshot()
    with pytest.raises(sa.exc.IntegrityError) as caught:
        _insert(table_name, {**_base_rows(world)[table_name], **change(world)})
    assert (postgresql_names if db_url.startswith("postgresql") else sqlite_names) in str(caught.value.orig)
    assert snapshot() == before


def test_the_partial_index_allows_many_ended_courses_and_one_open_per_citizen(world: World) -> None:
    base = _base_rows(world)["course"]
    with db.write_session() as s:
        extra = Referral(unit_id=world.unit_id, citizen_id=world.open_citizen_id, received=days_ago(300),
                         referrer="other", target_group="physical", status="started", decided=days_ago(290))
        s.add(extra)
        s.flush()
        # An ended course beside the citizen's open one, and an open course for a citizen whose course ended.
        s.execute(sa.insert(Course.__table__).values(
            **{**base, "ref": "DB-2", "citizen_id": world.open_citizen_id, "referral_id": extra.id,
               "start": days_ago(290), "end": days_ago(250), "end_reason": "completed"}))
        s.execute(sa.insert(Course.__table__).values(**{**base, "citizen_id": world.ended_citizen_id}))
    with db.read_session() as session:
        open_by_citizen = session.exec(
            select(Course.citizen_id, sa.func.count()).where(Course.end == None).group_by(Course.citizen_id)  # noqa: E711
        ).all()
    assert sorted(count for _, count in open_by_citizen) == [1, 1]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ors_cutoff": 41}, "ors_cutoff"),
        ({"ors_cutoff": float("nan")}, "ors_cutoff"),
        ({"rci": 0}, "rci"),
        ({"intake_min": 200, "intake_max": 150}, "intake_max"),
        ({"group_share": 1.5}, "group_share"),
        ({"weeks_min": 16, "weeks_max": 12}, "weeks_max"),
        ({"jobcenter_quota": -1}, "jobcenter_quota"),
    ],
)
def test_targets_out_of_range_are_refused_with_the_field_named(
    unit_id: int, actor: Actor, changes: dict[str, Any], field: str
) -> None:
    from fokus.services import set_targets

    leader = Actor(login="leder", role="leader", unit_ids=actor.unit_ids)  # targets are the leader's to set
    refused(lambda s: set_targets(s, leader, unit_id=unit_id, valid_from=days_ago(1), **changes),
            field=field, words=[])


def test_a_target_without_a_jobcenter_quota_stays_without_one(unit_id: int, actor: Actor) -> None:
    from fokus.services import set_targets

    leader = Actor(login="leder", role="leader", unit_ids=actor.unit_ids)  # targets are the leader's to set
    with db.write_session() as session:
        target_id = set_targets(session, leader, unit_id=unit_id, valid_from=days_ago(1), jobcenter_quota=None).id
    with db.read_session() as session:
        from fokus.models import Target

        assert session.get(Target, target_id).jobcenter_quota is None
