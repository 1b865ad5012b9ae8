"""Many people saving at once (issue 9), on SQLite and PostgreSQL: nothing lost, nothing broken.

20 writers (threads, each with its own write sessions) make 50 saves each through the service
functions. Saves to distinct rows all land, exactly once. Saves that collide either land or are
refused with the Danish message that says what to do, never a raw database error, and the
database ends in a state that some serial order of the landed saves produces. Each test's
figures (attempted / landed / refused) are printed and carried in its assertion messages.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from fokus import clock, db
from fokus import services as svc
from fokus.actor import Actor
from fokus.errors import FokusError
from fokus.models import AuditEvent, Citizen, Course, OrsScore, Referral

WRITERS = 20
SAVES = 50
ORS = {"individual": 50, "interpersonal": 60, "social": 40, "overall": 55}
# Words of a database error that must never reach a person.
RAW = ("locked", "traceback", "sqlite", "psycopg", "integrityerror", "operationalerror", "deadlock", "serialize",
       "constraint", "duplicate key")


def days_ago(days: int) -> date:
    return clock.today() - timedelta(days=days)


@dataclass
class Tally:
    """What the writers saw: each landed save's result, each refusal's message, any raw error."""

    scenario: str
    database: str
    landed: list[object] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    raw: list[str] = field(default_factory=list)
    attempted: int = 0

    def figures(self) -> str:
        return (f"{self.scenario} on {self.database}: attempted {self.attempted}, landed {len(self.landed)}, "
                f"refused {sum(self.refused.values())}, raw errors {len(self.raw)}")


def run_writers(scenario: str, save: Callable[[Session, int, int], object],
                prepare: Callable[[int, int], int] | None = None) -> Tally:
    """WRITERS threads, each making SAVES saves; save(session, writer, n) runs in its own write
    session and returns what the writer records as saved. With `prepare`, `n` is replaced by
    prepare(writer, n), run just before outside the transaction (e.g. the version the writer saw)."""
    tally = Tally(scenario, db.engine_for().dialect.name)
    lock = threading.Lock()
    start = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        start.wait()
        for n in range(SAVES):
            try:
                seen = prepare(w, n) if prepare else n
                with db.write_session() as session:
                    result = save(session, w, seen)
                with lock:
                    tally.landed.append(result)
            except FokusError as refusal:
                with lock:
                    tally.refused[refusal.message] += 1
            except Exception as error:  # noqa: BLE001 — exactly what the test is looking for
                with lock:
                    tally.raw.append(f"{type(error).__name__}: {error}"[:300])
            finally:
                with lock:
                    tally.attempted += 1

    threads = [threading.Thread(target=writer, args=(w,), name=f"writer-{w}") for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), f"a writer hung: {tally.figures()}"
    print(tally.figures())
    assert tally.attempted == WRITERS * SAVES, tally.figures()
    assert not tally.raw, f"{tally.figures()}; raw errors reached the writers: {tally.raw[:5]}"
    for message in tally.refused:
        assert not any(word in message.lower() for word in RAW), f"{tally.figures()}; raw words in {message!r}"
    return tally


def audit_rows(session: Session, action: str, table: str, row_ids: object = None) -> list[int | None]:
    query = select(AuditEvent.row_id).where(AuditEvent.action == action, AuditEvent.table_name == table)
    if row_ids is not None:
        query = query.where(col(AuditEvent.row_id).in_(row_ids))  # type: ignore[arg-type]
    return list(session.exec(query).all())


@pytest.fixture
def actor(unit_id: int) -> Actor:
    return Actor(login="ab", role="staff", unit_ids=frozenset({unit_id}))


def _course(session: Session, actor: Actor, unit_id: int, ref: str) -> Course:
    referral = svc.register_referral(session, actor, unit_id=unit_id, citizen_ref=ref, birth_year=1980,
                                     received=days_ago(70), referrer="socialcenter", target_group="psychic")
    return svc.start_course(session, actor, referral_id=referral.id, start=days_ago(60), form="individual")


# ---------------------------------------------------------------------------------------
# Distinct rows: every save lands, exactly once

@pytest.mark.slow
def test_new_citizens_referred_and_started_by_twenty_writers_all_land_exactly_once(
    unit_id: int, actor: Actor
) -> None:
    """Each save registers a new citizen's referral; every fourth also starts its course with the
    unit's next automatic reference (260 courses numbered at once, each with its own number)."""
    def save(session: Session, w: int, n: int) -> tuple[int, int | None]:
        referral = svc.register_referral(
            session, actor, unit_id=unit_id, citizen_ref=f"W{w:02d}-{n:03d}", birth_year=1970 + n % 30,
            received=days_ago(2 + n), referrer="jobcenter", target_group="social",
        )
        assert referral.id is not None
        if n % 4:
            return referral.id, None
        course = svc.start_course(session, actor, referral_id=referral.id, start=days_ago(1), form="individual")
        assert course.id is not None
        return referral.id, course.id

    tally = run_writers("new referrals with their courses started", save)
    figures = tally.figures()
    assert len(tally.landed) == tally.attempted, f"{figures}; {tally.refused}"
    referrals = sorted(referral for referral, _ in tally.landed)
    courses = sorted(course for _, course in tally.landed if course is not None)
    with db.read_session() as session:
        assert sorted(session.exec(select(Referral.id)).all()) == referrals, figures
        assert sorted(session.exec(select(Course.id)).all()) == courses, figures
        refs = session.exec(select(Course.ref)).all()
        assert len(set(refs)) == len(refs) == len(courses), f"{figures}: two courses share a reference"
        citizens = session.exec(select(Citizen.ref)).all()
        assert sorted(citizens) == sorted(f"W{w:02d}-{n:03d}" for w in range(WRITERS) for n in range(SAVES)), figures
        assert sorted(audit_rows(session, "created", "referral")) == referrals, figures
        assert sorted(audit_rows(session, "created", "course")) == courses, figures
        assert len(audit_rows(session, "created", "citizen")) == len(citizens), figures


@pytest.mark.slow
def test_ors_scores_for_different_courses_all_land_exactly_once(unit_id: int, actor: Actor) -> None:
    with db.write_session() as session:
        courses = [_course(session, actor, unit_id, f"ORS-{w:02d}").id for w in range(WRITERS)]

    def save(session: Session, w: int, n: int) -> tuple[int, int]:
        score = svc.add_ors(session, actor, course_id=courses[w], day=days_ago(50 - n % 50),
                            items={**ORS, "overall": n % 101})
        assert score.id is not None
        return courses[w], score.id

    tally = run_writers("ORS scores, one course per writer", save)
    figures = tally.figures()
    assert len(tally.landed) == tally.attempted, figures
    with db.read_session() as session:
        stored = session.exec(select(OrsScore.course_id, OrsScore.id)).all()
        assert sorted(stored) == sorted(tally.landed), figures
        per_course = Counter(course_id for course_id, _ in stored)
        assert per_course == Counter({course_id: SAVES for course_id in courses}), figures
        # The stored per-course summaries agree with the rows (a lost update would show here).
        counts = dict(session.exec(select(Course.id, Course.ors_count)).all())
        assert {course_id: counts[course_id] for course_id in courses} == dict(per_course), figures
        assert sorted(audit_rows(session, "created", "orsscore")) == sorted(i for _, i in tally.landed), figures


# ---------------------------------------------------------------------------------------
# Collisions: land or be refused with a clear message; the end state is a serial one

def test_one_course_edited_by_twenty_writers_from_stale_versions(unit_id: int, actor: Actor) -> None:
    with db.write_session() as session:
        course = _course(session, actor, unit_id, "KONFLIKT-1")
    course_id, start = course.id, course.start

    def seen_version(_w: int, _n: int) -> int:
        with db.read_session() as session:
            return session.get_one(Course, course_id).version

    edits: dict[int, int] = {}  # the n of each writer's current attempt, for its ref

    def prepare(w: int, n: int) -> int:
        edits[w] = n
        return seen_version(w, n)

    def save(session: Session, w: int, version: int) -> str:
        ref = f"K{w:02d}-{edits[w]:03d}"
        svc.update_course(
            session, actor, course_id=course_id, expected_version=version, ref=ref, start=start,
            form="individual" if edits[w] % 2 else "group", group_id=None, contact_person_id=None,
            end=None, end_reason=None, next_step=None,
        )
        return ref

    tally = run_writers("one course edited from stale versions", save, prepare)
    figures = tally.figures()
    assert set(tally.refused) <= {
        "Forløbet er blevet ændret af en anden, efter du åbnede den. Dine indtastninger er bevaret: "
        "genindlæs og gem igen."
    }, f"{figures}; {tally.refused}"
    assert tally.landed and tally.refused, f"{figures}: the writers did not collide"
    assert len(tally.landed) + sum(tally.refused.values()) == tally.attempted, figures
    with db.read_session() as session:
        stored = session.get_one(Course, course_id)
        assert stored.version == 1 + len(tally.landed), figures
        assert stored.ref in tally.landed, figures
        assert len(audit_rows(session, "changed", "course", [course_id])) == len(tally.landed), figures


def test_twenty_writers_starting_courses_for_the_same_citizens_leave_one_open_course_each(
    unit_id: int, actor: Actor
) -> None:
    """SAVES citizens, each with WRITERS waiting referrals (one per writer; the services would refuse
    a second waiting referral, so they are put in directly): in round n every writer starts a course
    for citizen n from its own referral at once. One start per citizen lands."""
    with db.write_session() as session:
        first = [svc.register_referral(session, actor, unit_id=unit_id, citizen_ref=f"ÅBEN-{n:03d}",
                                       birth_year=1980, received=days_ago(100), referrer="socialcenter",
                                       target_group="psychic") for n in range(SAVES)]
        session.flush()
        citizens = [referral.citizen_id for referral in first]
        referrals: dict[tuple[int, int], int] = {(0, n): referral.id for n, referral in enumerate(first)}  # type: ignore[misc]
        extra = {(w, n): Referral(unit_id=unit_id, citizen_id=citizens[n], received=days_ago(100 - w),
                                  referrer="jobcenter", target_group="social")
                 for w in range(1, WRITERS) for n in range(SAVES)}
        session.add_all(extra.values())
        session.flush()
        referrals.update({key: referral.id for key, referral in extra.items()})  # type: ignore[misc]

    def save(session: Session, w: int, n: int) -> tuple[int, int]:
        course = svc.start_course(session, actor, referral_id=referrals[w, n], start=days_ago(10),
                                  form="group" if w % 2 else "individual")
        assert course.id is not None
        return citizens[n], course.id

    tally = run_writers("courses started for the same citizen", save)
    figures = tally.figures()
    assert all("allerede et åbent forløb" in message for message in tally.refused), f"{figures}; {tally.refused}"
    assert len(tally.landed) + sum(tally.refused.values()) == tally.attempted, figures
    assert sorted(citizen for citizen, _ in tally.landed) == sorted(citizens), f"{figures}: one start per citizen"
    with db.read_session() as session:
        open_courses = session.exec(select(Course.citizen_id, Course.id).where(col(Course.end).is_(None))).all()
        assert sorted(open_courses) == sorted(tally.landed), figures
        refs = session.exec(select(Course.ref)).all()
        assert len(refs) == len(set(refs)) == SAVES, figures
        started = session.exec(
            select(Referral.citizen_id, func.count()).where(Referral.status == "started").group_by(Referral.citizen_id)
        ).all()
        assert dict(started) == dict.fromkeys(citizens, 1), figures
        waiting = session.exec(select(func.count()).select_from(Referral).where(Referral.status == "waiting")).one()
        assert waiting == SAVES * WRITERS - SAVES, figures
        assert sorted(audit_rows(session, "created", "course")) == sorted(i for _, i in tally.landed), figures
        assert session.exec(sa.select(sa.func.count()).select_from(Course)).scalar_one() == SAVES, figures
