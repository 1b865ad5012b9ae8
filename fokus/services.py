"""Every change to fokus's data: validate, write, audit — in the caller's one transaction.

Each function takes the open write session first and the acting user second:

    with write_session() as session:
        course = start_course(session, actor, referral_id=7, start=date(2026, 3, 2), form="group")

The transaction commits when the block ends, or nothing is written at all. A refusal is a
`ValidationError` (or `ConflictError`, `NotFoundError`, `PermissionDenied`) whose Danish message
says what to fix. Optimistic locking: functions that edit an existing row take the version the
user saw and refuse when someone has saved since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from fokus import audit, codes, db, metrics
from fokus import targets as target_text
from fokus import validate as v
from fokus.actor import Actor
from fokus.clock import busiest_day, today
from fokus.errors import ConflictError, NotFoundError, ValidationError
from fokus.models import (
    Attendance,
    AuditEvent,
    Citizen,
    Course,
    Group,
    GroupSession,
    NetworkMeeting,
    OrsScore,
    Referral,
    SrsScore,
    Staff,
    Target,
    Unit,
)

MIN_AGE, MAX_AGE = 18, 65
ITEM_TENTHS_MAX = 100
DEFAULT_TARGETS_FROM = date(2000, 1, 1)


# ---------------------------------------------------------------------------------------
# Loading rows the actor may see

def _get(session: Session, model: type, row_id: object, what: str):  # type: ignore[no-untyped-def]
    """The row a write is about, locked until the transaction ends (SELECT … FOR UPDATE).

    The lock makes the version check hold on PostgreSQL: a colleague saving the same row at the
    same moment waits here for the first save to commit, then sees its new version (a conflict)
    instead of overwriting it. SQLite needs no row lock: its writers queue at BEGIN IMMEDIATE.
    """
    row = session.get(model, row_id, with_for_update=True) if _is_id(row_id) else None
    if row is None:
        raise NotFoundError(f"{what} findes ikke (længere). Genindlæs siden.")
    return row


def _get_course(session: Session, course_id: object) -> Course:
    """The course a write is about, locked as `_get` locks it, read in one statement with its
    citizen (whom the audit entry names): a save's round trips are most of its time."""
    found = session.exec(
        select(Course, Citizen).join(Citizen, col(Citizen.id) == col(Course.citizen_id))
        .where(col(Course.id) == course_id).with_for_update(of=Course.__table__)  # type: ignore[attr-defined]
    ).first() if _is_id(course_id) else None
    if found is None:
        raise NotFoundError("Forløbet findes ikke (længere). Genindlæs siden.")
    # The session holds its rows weakly: kept here, the citizen is still there for the audit entry
    # and the course's start for the data version's stamp (`fokus.db`), without reading them again.
    course, citizen = found
    held = session.info.setdefault("fokus_held_rows", {})
    held["course", course.id], held["citizen", citizen.id] = course, citizen
    return course


MAX_ID = 2**31 - 1  # ids are PostgreSQL integers (SQLite counts from 1 too): a larger number is no row


def _is_id(value: object) -> bool:
    """A whole number that can be a row's id (a bool, a float, a text or an out-of-range number cannot)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _ids(values: object, field: str, message: str, *, allow_empty: bool = False) -> list[int]:
    """A list of row ids as a page sends it, each once; anything else is refused with `message`."""
    if not isinstance(values, list | tuple | set | frozenset) or (not values and not allow_empty):
        raise ValidationError(message, field)
    if not all(_is_id(value) for value in values):
        raise ValidationError(message, field)
    return list(dict.fromkeys(values))  # type: ignore[arg-type]


def _unit(session: Session, unit_id: object) -> Unit:
    unit = session.get(Unit, unit_id) if _is_id(unit_id) else None
    if unit is None:
        raise NotFoundError("Enheden findes ikke (længere). Genindlæs siden.")
    return unit


def _check_version(row: object, expected: int | None, what: str) -> None:
    if expected is not None and row.version != expected:
        raise ConflictError(
            f"{what} er blevet ændret af en anden, efter du åbnede den. "
            "Dine indtastninger er bevaret: genindlæs og gem igen."
        )


def _bump(row: object) -> None:
    row.version += 1  # type: ignore[attr-defined]


def _citizen_of(session: Session, course: Course) -> Citizen:
    citizen = session.get(Citizen, course.citizen_id)
    assert citizen is not None
    return citizen


# ---------------------------------------------------------------------------------------
# Units, targets, staff

def create_unit(session: Session, actor: Actor, *, name: str, municipality: str) -> Unit:
    actor.require_role("admin", what="oprettelse af enheder")
    name_ = v.required_text(name, "name", "Enhedens navn", max_length=120)
    municipality_ = v.required_text(municipality, "municipality", "Kommune", max_length=120)
    if session.exec(select(Unit).where(Unit.name == name_)).first():
        raise ValidationError(f"Der findes allerede en enhed med navnet {name_}.", "name")
    unit = Unit(name=name_, municipality=municipality_)
    session.add(unit)
    session.flush()
    session.add(Target(unit_id=unit.id, valid_from=DEFAULT_TARGETS_FROM, jobcenter_quota=120))
    audit.record(session, actor, "created", "unit", unit.id, unit_id=unit.id, detail=name_)
    return unit


def set_targets(
    session: Session,
    actor: Actor,
    *,
    unit_id: int,
    valid_from: date,
    intake_min: int = 150,
    intake_max: int = 200,
    group_share: float = 0.70,
    weeks_min: int = 12,
    weeks_max: int = 16,
    max_months: int = 6,
    ors_cutoff: float = 25.0,
    rci: float = 5.0,
    jobcenter_quota: int | None = 120,
) -> Target:
    """The unit's targets from `valid_from` on (a leader's or administrator's decision).

    A row with the same date is changed; otherwise a new one is added. The audit entry says, in
    Danish, what changed: against the row's old values, or for a new row against the targets in
    force the day before it (DESIGN's defaults where none were).
    """
    actor.require_role("admin", "leader", what="enhedens mål")
    actor.require_unit(unit_id)
    _unit(session, unit_id)
    label = target_text.LABELS
    day = v.planned_date(valid_from, "valid_from", "Gyldig fra")
    low = v.integer(intake_min, "intake_min", label["intake_min"], low=0, high=100_000)
    high = v.integer(intake_max, "intake_max", label["intake_max"], low=0, high=100_000)
    if high < low:
        raise ValidationError("Største årlige tilgang skal være mindst den mindste.", "intake_max")
    if isinstance(group_share, bool) or not isinstance(group_share, int | float) or not 0 <= group_share <= 1:
        raise ValidationError("Målet for gruppeandel skal ligge mellem 0 og 100 %.", "group_share")
    wmin = v.integer(weeks_min, "weeks_min", label["weeks_min"], low=1, high=104)
    wmax = v.integer(weeks_max, "weeks_max", label["weeks_max"], low=1, high=104)
    if wmax < wmin:
        raise ValidationError("Længste forløb skal være mindst det korteste.", "weeks_max")
    values = metrics.Targets(
        intake_min=low, intake_max=high, group_share=float(group_share), weeks_min=wmin, weeks_max=wmax,
        max_months=v.integer(max_months, "max_months", label["max_months"], low=1, high=24),
        ors_cutoff=_points(ors_cutoff, "ors_cutoff", label["ors_cutoff"], low=0, high=40),
        rci=_points(rci, "rci", label["rci"], low=1, high=40),
        jobcenter_quota=None if jobcenter_quota is None else v.integer(
            jobcenter_quota, "jobcenter_quota", label["jobcenter_quota"], low=0, high=100_000),
    )
    target = session.exec(
        select(Target).where(Target.unit_id == unit_id, Target.valid_from == day).with_for_update()
    ).first()
    if target is None:
        before = metrics.targets_for(session, [unit_id], day - timedelta(days=1))
        target = Target(unit_id=unit_id, valid_from=day, **asdict(values))
        session.add(target)
        session.flush()
        changed = target_text.changes(before, values)
        audit.record(session, actor, "created", "target", target.id, unit_id=unit_id,
                     detail=f"mål gyldig fra {day:%d.%m.%Y}: "
                            + ("; ".join(changed) if changed else "som de hidtil gældende"))
        return target
    changed = target_text.changes(target_text.targets_of(target), values)
    if changed:
        for name, value in asdict(values).items():
            setattr(target, name, value)
        _bump(target)
        session.add(target)
        audit.record(session, actor, "changed", "target", target.id, unit_id=unit_id,
                     detail=f"mål gyldig fra {day:%d.%m.%Y} rettet: " + "; ".join(changed))
    return target


def delete_targets(session: Session, actor: Actor, *, target_id: int, expected_version: int | None) -> None:
    """Delete a wrongly dated row of targets; the rows around it (or DESIGN's defaults) apply again."""
    actor.require_role("admin", "leader", what="enhedens mål")
    target: Target = _get(session, Target, target_id, "Målene")
    actor.require_unit(target.unit_id)
    _check_version(target, expected_version, "Målene")
    removed = target_text.changes(None, target_text.targets_of(target))
    session.delete(target)
    audit.record(session, actor, "deleted", "target", target_id, unit_id=target.unit_id,
                 detail=f"mål gyldig fra {target.valid_from:%d.%m.%Y} slettet: " + "; ".join(removed))


def _points(value: object, field: str, label: str, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationError(f"{label} skal være et tal fra {low:g} til {high:g} point.", field)
    return float(value)


def _initials(value: object) -> str:
    """Initials in capitals, checked after the change of case ("ß" becomes "SS")."""
    text = v.required_text(value, "initials", "Initialer", max_length=10)
    return v.required_text(text.upper(), "initials", "Initialer", max_length=10)


def add_staff(
    session: Session, actor: Actor, *, unit_id: int, name: str, initials: str, max_active_courses: int = 15
) -> Staff:
    actor.require_writer(unit_id)
    _unit(session, unit_id)
    name_ = v.required_text(name, "name", "Navn", max_length=120)
    initials_ = _initials(initials)
    max_active = v.integer(max_active_courses, "max_active_courses", "Højst aktive forløb", low=0, high=200)
    if session.exec(select(Staff).where(Staff.unit_id == unit_id, Staff.initials == initials_)).first():
        raise ValidationError(f"Initialerne {initials_} bruges allerede i enheden: vælg andre.", "initials")
    staff = Staff(unit_id=unit_id, name=name_, initials=initials_, max_active_courses=max_active)
    session.add(staff)
    session.flush()
    audit.record(session, actor, "created", "staff", staff.id, unit_id=unit_id, detail=initials_)
    return staff


# ---------------------------------------------------------------------------------------
# Groups (hold)

GROUP_PLACES = 10  # a new group's places unless told otherwise


def create_group(
    session: Session,
    actor: Actor,
    *,
    unit_id: int,
    name: str,
    start: date,
    theme: str = "",
    end: date | None = None,
    capacity: int = GROUP_PLACES,
) -> Group:
    actor.require_writer(unit_id)
    _unit(session, unit_id)
    name_ = v.required_text(name, "name", "Holdets navn", max_length=80)
    theme_ = v.text(theme, "theme", "Tema", max_length=200, required=False) or ""
    start_ = v.planned_date(start, "start", "Startdato")
    end_ = v.planned_date(end, "end", "Slutdato") if end is not None else None
    if end_ is not None and end_ < start_:
        raise ValidationError("Holdets slutdato skal ligge på eller efter startdatoen.", "end")
    capacity_ = v.integer(capacity, "capacity", "Antal pladser", low=1, high=100)
    if session.exec(select(Group).where(Group.unit_id == unit_id, Group.name == name_)).first():
        raise ValidationError(f"Der findes allerede et hold med navnet {name_}: vælg et andet navn.", "name")
    group = Group(unit_id=unit_id, name=name_, theme=theme_, start=start_, end=end_, capacity=capacity_)
    session.add(group)
    session.flush()
    audit.record(session, actor, "created", "group", group.id, unit_id=unit_id, detail=name_)
    return group


def add_group_session(
    session: Session, actor: Actor, *, group_id: int, day: date, present_course_ids: list[int]
) -> GroupSession:
    """Register a held group session and who came (every course on the group gets a row)."""
    group: Group = _get(session, Group, group_id, "Holdet")
    actor.require_writer(group.unit_id)
    day_ = v.past_date(day, "day", "Mødedato")
    if day_ < group.start:
        raise ValidationError("Mødedatoen ligger før holdets start.", "day")
    if session.exec(select(GroupSession).where(GroupSession.group_id == group_id, GroupSession.date == day_)).first():
        raise ValidationError(f"Holdet har allerede et møde den {day_:%d.%m.%Y}.", "day")
    members = session.exec(
        select(Course).where(Course.group_id == group_id, Course.start <= day_)
        .where(sa.or_(col(Course.end).is_(None), col(Course.end) >= day_))
    ).all()
    member_ids = {course.id for course in members}
    only_members = "Kun borgere med et aktivt forløb på holdet kan registreres som fremmødt."
    present = set(_ids(present_course_ids, "present", only_members, allow_empty=True))
    if present - member_ids:
        raise ValidationError(only_members, "present")
    meeting = GroupSession(group_id=group_id, date=day_)
    session.add(meeting)
    session.flush()
    for course in members:
        session.add(Attendance(session_id=meeting.id, course_id=course.id, present=course.id in present))
        audit.record(
            session, actor, "created", "attendance", meeting.id,
            citizen=_citizen_of(session, course), detail="fremmødt" if course.id in present else "fravær",
        )
    return meeting


# ---------------------------------------------------------------------------------------
# Referrals (henvisninger)

def _age_check(birth_year: int, received: date, age_note: str | None) -> None:
    age = received.year - birth_year
    if not MIN_AGE <= age <= MAX_AGE and not age_note:
        raise ValidationError(
            f"Borgeren er {age} år ved henvisningen, uden for 18–65 år. "
            "Skriv i aldersnoten, hvorfor henvisningen alligevel modtages.",
            "age_note",
        )


def register_referral(
    session: Session,
    actor: Actor,
    *,
    unit_id: int,
    citizen_ref: str,
    birth_year: int,
    received: date,
    referrer: str,
    target_group: str,
    from_sel85: bool = False,
    age_note: str | None = None,
) -> Referral:
    """A referral arrives: the citizen (found or created by reference) joins the waiting list."""
    actor.require_writer(unit_id)
    _unit(session, unit_id)
    ref = v.required_text(citizen_ref, "citizen_ref", "Borgerens reference", max_length=40)
    year = v.integer(birth_year, "birth_year", "Fødselsår", low=1900, high=today().year)
    received_ = v.past_date(received, "received", "Henvisningsdato")
    referrer_ = v.code(referrer, codes.REFERRERS, "referrer", "Henviser")
    target_ = v.code(target_group, codes.TARGET_GROUPS, "target_group", "Målgruppe")
    sel85 = v.boolean(from_sel85, "from_sel85", "Revisitering fra § 85")
    note = v.text(age_note, "age_note", "Aldersnote", max_length=500, required=False)
    if received_.year < year:
        raise ValidationError("Henvisningsdatoen ligger før fødselsåret: ret en af dem.", "birth_year")
    _age_check(year, received_, note)

    citizen = session.exec(select(Citizen).where(Citizen.unit_id == unit_id, Citizen.ref == ref)).first()
    if citizen is None:
        citizen = Citizen(unit_id=unit_id, ref=ref, birth_year=year)
        session.add(citizen)
        session.flush()
        audit.record(session, actor, "created", "citizen", citizen.id, citizen=citizen)
    else:
        if citizen.birth_year != year:
            raise ValidationError(
                f"Borger {ref} er registreret med fødselsår {citizen.birth_year}, ikke {year}. "
                "Ret fødselsåret, eller brug en anden reference.",
                "birth_year",
            )
        same_day = select(Referral).where(Referral.citizen_id == citizen.id, Referral.received == received_)
        if session.exec(same_day).first():
            raise ValidationError(
                f"Borger {ref} har allerede en henvisning modtaget {received_:%d.%m.%Y}.", "received"
            )
        waiting = select(Referral).where(Referral.citizen_id == citizen.id, Referral.status == "waiting")
        if session.exec(waiting).first():
            raise ValidationError(
                f"Borger {ref} står allerede på ventelisten: afgør den henvisning først.", "citizen_ref"
            )
    referral = Referral(
        unit_id=unit_id, citizen_id=citizen.id, received=received_, referrer=referrer_,
        target_group=target_, from_sel85=sel85, age_note=note,
    )
    session.add(referral)
    session.flush()
    audit.record(session, actor, "created", "referral", referral.id, citizen=citizen)
    return referral


def decide_referral(
    session: Session,
    actor: Actor,
    *,
    referral_id: int,
    status: str,
    decided: date,
    reason: str,
    expected_version: int | None = None,
) -> Referral:
    """Reject or withdraw a waiting referral, with a reason from the short list."""
    referral: Referral = _get(session, Referral, referral_id, "Henvisningen")
    actor.require_writer(referral.unit_id)
    _check_version(referral, expected_version, "Henvisningen")
    if status not in ("rejected", "withdrawn"):
        raise ValidationError("Vælg afvist eller trukket tilbage.", "status")
    if referral.status != "waiting":
        raise ValidationError("Kun en ventende henvisning kan afvises eller trækkes tilbage.", "status")
    decided_ = v.past_date(decided, "decided", "Afgørelsesdato")
    if decided_ < referral.received:
        raise ValidationError("Afgørelsesdatoen ligger før henvisningen blev modtaget.", "decided")
    reason_ = v.code(reason, codes.DECISION_REASONS, "reason", "Årsag")
    referral.status, referral.decided, referral.reason = status, decided_, reason_
    _bump(referral)
    session.add(referral)
    citizen = session.get(Citizen, referral.citizen_id)
    audit.record(session, actor, "changed", "referral", referral.id, citizen=citizen, detail=status)
    return referral


# ---------------------------------------------------------------------------------------
# Courses (forløb)

def _next_course_ref(session: Session, unit_id: int, start: date) -> str:
    prefix = f"F{start.year}-"
    taken = session.exec(
        select(func.count()).select_from(Course).where(Course.unit_id == unit_id, col(Course.ref).startswith(prefix))
    ).one()
    number = taken + 1

    def taken_ref(number: int) -> bool:
        query = select(Course.id).where(Course.unit_id == unit_id, Course.ref == f"{prefix}{number:04d}")
        return session.exec(query).first() is not None

    while taken_ref(number):
        number += 1
    return f"{prefix}{number:04d}"


def _check_group_and_contact(
    session: Session, unit_id: int, form: str, group_id: int | None, contact_person_id: int | None
) -> Staff | None:
    """The group and the contact person belong to the unit; the contact person, if any."""
    if group_id is not None:
        if form != "group":
            raise ValidationError("Et individuelt forløb kan ikke knyttes til et hold: vælg form gruppe.", "group_id")
        group = session.get(Group, group_id) if _is_id(group_id) else None
        if group is None or group.unit_id != unit_id:
            raise ValidationError("Vælg et hold fra enhedens liste.", "group_id")
    staff = None
    if contact_person_id is not None:
        staff = session.get(Staff, contact_person_id) if _is_id(contact_person_id) else None
        if staff is None or staff.unit_id != unit_id:
            raise ValidationError("Vælg en kontaktperson fra enhedens medarbejdere.", "contact_person_id")
    return staff


def start_course(
    session: Session,
    actor: Actor,
    *,
    referral_id: int,
    start: date,
    form: str,
    group_id: int | None = None,
    contact_person_id: int | None = None,
    ref: str | None = None,
    until: date | None = None,
) -> Course:
    """Start a course from a waiting referral; the referral leaves the waiting list.

    `until` is the day the course ends when it is written whole, as an import writes a finished
    course (`end_course` in the same transaction): its group place is then needed only until that day.
    """
    referral: Referral = _get(session, Referral, referral_id, "Henvisningen")
    actor.require_writer(referral.unit_id)
    if referral.status != "waiting":
        raise ValidationError("Forløbet kan kun startes fra en ventende henvisning.", "referral_id")
    start_ = v.past_date(start, "start", "Startdato")
    if start_ < referral.received:
        raise ValidationError(
            f"Startdatoen ligger før henvisningen blev modtaget ({referral.received:%d.%m.%Y}).", "start"
        )
    form_ = v.code(form, codes.FORMS, "form", "Form")
    _check_group_and_contact(session, referral.unit_id, form_, group_id, contact_person_id)
    until_ = None if until is None else v.past_date(until, "end", "Slutdato")
    if until_ is not None and until_ < start_:
        raise ValidationError(f"Slutdatoen ligger før startdatoen ({start_:%d.%m.%Y}).", "end")
    _join_group(session, group_id, start_, until_)
    open_course = session.exec(
        select(Course).where(Course.citizen_id == referral.citizen_id, col(Course.end).is_(None))
    ).first()
    if open_course is not None:
        raise ValidationError(
            f"Borgeren har allerede et åbent forløb ({open_course.ref}): afslut det, før et nyt startes.",
            "referral_id",
        )
    previous_end = session.exec(
        select(func.max(Course.end)).where(Course.citizen_id == referral.citizen_id)
    ).one()
    if previous_end is not None and start_ < previous_end:
        raise ValidationError(
            f"Borgerens forrige forløb sluttede {previous_end:%d.%m.%Y}: et nyt kan ikke starte før.", "start"
        )
    if ref is not None:
        ref = v.required_text(ref, "ref", "Forløbets reference", max_length=40)
        if session.exec(select(Course.id).where(Course.unit_id == referral.unit_id, Course.ref == ref)).first():
            raise ValidationError(f"Forløbsreferencen {ref} bruges allerede i enheden.", "ref")

    def new_course(ref_: str) -> Course:
        return Course(
            unit_id=referral.unit_id, ref=ref_, citizen_id=referral.citizen_id, referral_id=referral.id,
            start=start_, form=form_, group_id=group_id, contact_person_id=contact_person_id,
        )

    if ref is None:  # colleagues starting courses in the unit at once take turns for the next number
        db.take_turn(session, "course_ref", referral.unit_id)
    course = _insert_course(session, new_course, ref, lambda: _next_course_ref(session, referral.unit_id, start_))
    referral.status, referral.decided = "started", start_
    _bump(referral)
    session.add(referral)
    session.flush()
    citizen = _citizen_of(session, course)
    audit.record(session, actor, "created", "course", course.id, citizen=citizen, detail=course.ref)
    return course


_REF_CLASH = ("uq_course_unit_ref", "course.unit_id, course.ref")  # PostgreSQL's and SQLite's words


def _insert_course(
    session: Session, new_course: Callable[[str], Course], ref: str | None, next_ref: Callable[[], str]
) -> Course:
    """Insert a course; an automatic ref that a colleague took at the same moment is replaced.

    On PostgreSQL two colleagues starting courses at once both compute the same next ref
    (neither sees the other's uncommitted course): the second insert then fails on the unique
    ref and is retried, in a savepoint, with the next free one. Any other refusal stands.
    """
    session.flush()  # what came before stays outside the savepoints below
    for _attempt in range(5):
        course = new_course(ref if ref is not None else next_ref())
        try:
            with session.begin_nested():
                session.add(course)
            return course
        except sa.exc.IntegrityError as error:
            if ref is not None or not any(words in str(error.orig) for words in _REF_CLASH):
                raise
    raise ConflictError("Mange gemmer forløb lige nu: vent et øjeblik, og gem igen.")


def end_course(
    session: Session,
    actor: Actor,
    *,
    course_id: int,
    end: date,
    end_reason: str,
    next_step: str | None = None,
    expected_version: int | None = None,
) -> Course:
    course: Course = _get_course(session, course_id)
    actor.require_writer(course.unit_id)
    _check_version(course, expected_version, "Forløbet")
    if course.end is not None:
        raise ValidationError(f"Forløbet {course.ref} er allerede afsluttet {course.end:%d.%m.%Y}.", "end")
    end_ = v.past_date(end, "end", "Slutdato")
    if end_ < course.start:
        raise ValidationError(f"Slutdatoen ligger før forløbets start ({course.start:%d.%m.%Y}).", "end")
    reason = v.code(end_reason, codes.END_REASONS, "end_reason", "Afslutningsårsag")
    step = v.code(next_step, codes.NEXT_STEPS, "next_step", "Efterfølgende indsats") if next_step is not None else None
    for model, instrument in ((OrsScore, "ORS"), (SrsScore, "SRS")):
        last_score = session.exec(select(func.max(model.date)).where(model.course_id == course.id)).one()
        if last_score is not None and last_score > end_:
            raise ValidationError(
                f"Der er en {instrument}-måling dateret {last_score:%d.%m.%Y}, efter slutdatoen: "
                "ret slutdatoen eller målingen.",
                "end",
            )
    course.end, course.end_reason, course.next_step = end_, reason, step
    _bump(course)
    session.add(course)
    audit.record(
        session, actor, "changed", "course", course.id, citizen=_citizen_of(session, course), detail="afsluttet"
    )
    return course


# ---------------------------------------------------------------------------------------
# ORS and SRS

def _items(values: dict[str, object], names: dict[str, str], instrument: str) -> dict[str, int]:
    """Items as whole tenths 0–100 (7,5 on the scale is 75)."""
    if not isinstance(values, dict):
        raise ValidationError(f"{instrument}: udfyld alle {len(names)} skalaer med et tal fra 0 til 10.", "items")
    items: dict[str, int] = {}
    for name, label in names.items():
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{instrument}: angiv {label} som et tal fra 0 til 10 med højst én decimal.", name)
        if not 0 <= value <= ITEM_TENTHS_MAX:
            raise ValidationError(f"{instrument}: {label} skal ligge fra 0 til 10.", name)
        items[name] = value
    return items


def _score_date(course: Course, day: object, label: str) -> date:
    day_ = v.past_date(day, "date", label)
    if day_ < course.start or (course.end is not None and day_ > course.end):
        end = f"{course.end:%d.%m.%Y}" if course.end else "i dag"
        raise ValidationError(
            f"{label} skal ligge inden for forløbet ({course.start:%d.%m.%Y}–{end}).", "date"
        )
    return day_


def _session_no(session: Session, model: type, course_id: int, session_no: int | None) -> int:
    if session_no is None:
        count = session.exec(select(func.count()).select_from(model).where(model.course_id == course_id)).one()
        return int(count) + 1
    return v.integer(session_no, "session_no", "Sessionsnummer", low=1, high=500)


def add_ors(
    session: Session,
    actor: Actor,
    *,
    course_id: int,
    day: date,
    items: dict[str, int],
    session_no: int | None = None,
) -> OrsScore:
    """Record an ORS measurement; items in whole tenths (see `fokus.fmt.parse_score_item`)."""
    course: Course = _get_course(session, course_id)
    actor.require_writer(course.unit_id)
    values = _items(items, codes.ORS_ITEMS, "ORS")
    day_ = _score_date(course, day, "ORS-datoen")
    if session_no is None and db.summary_is_current(session, course.id):
        number = course.ors_count + 1  # the stored count (the course is locked): no count of its scores
    else:
        number = _session_no(session, OrsScore, course.id, session_no)
    score = OrsScore(course_id=course.id, date=day_, session_no=number, entered_by=actor.user_id, **values)
    session.add(score)
    session.flush()
    audit.record(session, actor, "created", "orsscore", score.id, citizen=_citizen_of(session, course))
    return score


def add_srs(
    session: Session,
    actor: Actor,
    *,
    course_id: int,
    day: date,
    items: dict[str, int],
    session_no: int | None = None,
    group_session: bool = False,
) -> SrsScore:
    course: Course = _get_course(session, course_id)
    actor.require_writer(course.unit_id)
    values = _items(items, codes.SRS_ITEMS, "SRS")
    day_ = _score_date(course, day, "SRS-datoen")
    number = _session_no(session, SrsScore, course.id, session_no)
    score = SrsScore(
        course_id=course.id, date=day_, session_no=number, entered_by=actor.user_id,
        group_session=v.boolean(group_session, "group_session", "Gruppesession"), **values,
    )
    session.add(score)
    session.flush()
    audit.record(session, actor, "created", "srsscore", score.id, citizen=_citizen_of(session, course))
    return score


# ---------------------------------------------------------------------------------------
# Network meetings (Åben Dialog)

def _meeting_date(course: Course, day: object) -> date:
    """A network meeting is dated on or after its course's start, never in the future.

    It may lie after the course's end: an Open Dialogue network often meets again after the
    course (retention counts a citizen's time from such a meeting too, see `fokus.retention`).
    """
    day_ = v.past_date(day, "date", "Mødedato")
    if day_ < course.start:
        raise ValidationError(f"Netværksmødet ligger før forløbets start ({course.start:%d.%m.%Y}).", "date")
    return day_


def add_network_meeting(
    session: Session, actor: Actor, *, course_id: int, day: date, participants: int
) -> NetworkMeeting:
    """Record an Open Dialogue network meeting for a course (see `_meeting_date` for its date)."""
    course: Course = _get_course(session, course_id)
    actor.require_writer(course.unit_id)
    day_ = _meeting_date(course, day)
    count = v.integer(participants, "participants", "Antal deltagere", low=1, high=100)
    meeting = NetworkMeeting(course_id=course.id, date=day_, participants=count)
    session.add(meeting)
    session.flush()
    audit.record(session, actor, "created", "networkmeeting", meeting.id, citizen=_citizen_of(session, course))
    return meeting


# ---------------------------------------------------------------------------------------
# Corrections (edit, delete, reopen, merge): each carries the version the user saw

def _apply(row: Any, values: dict[str, object], labels: dict[str, str]) -> list[str]:
    """Set the values that differ; bump the version if any did. The Danish labels of those."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        _bump(row)
    return [labels[name] for name in changed]


def _record_change(
    session: Session, actor: Actor, table: str, row_id: int | None, changed: list[str], *,
    citizen: Citizen | None = None, unit_id: int | None = None,
) -> None:
    if changed:
        audit.record(session, actor, "changed", table, row_id, citizen=citizen, unit_id=unit_id,
                     detail="rettet: " + ", ".join(changed))


def _exists(session: Session, query: Any) -> bool:
    return session.exec(query.limit(1)).first() is not None


def _waiting_referral(session: Session, citizen_id: int, but: int | None = None) -> Referral | None:
    query = select(Referral).where(Referral.citizen_id == citizen_id, Referral.status == "waiting")
    if but is not None:
        query = query.where(Referral.id != but)
    return session.exec(query).first()


CITIZEN_LABELS = {"ref": "reference", "birth_year": "fødselsår"}


def update_citizen(
    session: Session, actor: Actor, *, citizen_id: int, expected_version: int | None, ref: str, birth_year: int
) -> Citizen:
    """Correct a citizen's reference or birth year; every referral's age is checked again."""
    citizen: Citizen = _get(session, Citizen, citizen_id, "Borgeren")
    actor.require_writer(citizen.unit_id)
    _check_version(citizen, expected_version, "Borgeren")
    ref_ = v.required_text(ref, "ref", "Borgerens reference", max_length=40)
    year = v.integer(birth_year, "birth_year", "Fødselsår", low=1900, high=today().year)
    if ref_ != citizen.ref and _exists(
        session, select(Citizen.id).where(Citizen.unit_id == citizen.unit_id, Citizen.ref == ref_)
    ):
        raise ValidationError(
            f"Referencen {ref_} bruges allerede af en anden borger i enheden. "
            "Er det den samme borger, så læg de to sammen.",
            "ref",
        )
    for referral in session.exec(select(Referral).where(Referral.citizen_id == citizen.id)).all():
        age = referral.received.year - year
        if age < 0:
            raise ValidationError(
                f"Fødselsåret {year} ligger efter henvisningen modtaget {referral.received:%d.%m.%Y}.", "birth_year"
            )
        if not MIN_AGE <= age <= MAX_AGE and not referral.age_note:
            raise ValidationError(
                f"Med fødselsår {year} er borgeren {age} år ved henvisningen {referral.received:%d.%m.%Y}, "
                "uden for 18–65 år, og den henvisning har ingen aldersnote: ret fødselsåret, "
                "eller skriv først en aldersnote på henvisningen.",
                "birth_year",
            )
    changed = _apply(citizen, {"ref": ref_, "birth_year": year}, CITIZEN_LABELS)
    session.add(citizen)
    _record_change(session, actor, "citizen", citizen.id, changed, citizen=citizen)
    return citizen


REFERRAL_LABELS = {
    "received": "henvisningsdato", "referrer": "henviser", "target_group": "målgruppe",
    "from_sel85": "revisitering fra § 85", "age_note": "aldersnote",
}


def update_referral(
    session: Session,
    actor: Actor,
    *,
    referral_id: int,
    expected_version: int | None,
    received: date,
    referrer: str,
    target_group: str,
    from_sel85: bool,
    age_note: str | None,
) -> Referral:
    """Correct a referral, whatever its status; the age rule and the dates are checked again."""
    referral: Referral = _get(session, Referral, referral_id, "Henvisningen")
    actor.require_writer(referral.unit_id)
    _check_version(referral, expected_version, "Henvisningen")
    received_ = v.past_date(received, "received", "Henvisningsdato")
    referrer_ = v.code(referrer, codes.REFERRERS, "referrer", "Henviser")
    target_ = v.code(target_group, codes.TARGET_GROUPS, "target_group", "Målgruppe")
    sel85 = v.boolean(from_sel85, "from_sel85", "Revisitering fra § 85")
    note = v.text(age_note, "age_note", "Aldersnote", max_length=500, required=False)
    citizen = session.get(Citizen, referral.citizen_id)
    assert citizen is not None
    if received_.year < citizen.birth_year:
        raise ValidationError(
            f"Henvisningsdatoen ligger før borgerens fødselsår ({citizen.birth_year}).", "received"
        )
    _age_check(citizen.birth_year, received_, note)
    course = session.exec(select(Course).where(Course.referral_id == referral.id)).first()
    if course is not None and received_ > course.start:
        raise ValidationError(
            f"Henvisningsdatoen ligger efter forløbets start ({course.start:%d.%m.%Y}).", "received"
        )
    if referral.decided is not None and received_ > referral.decided:
        raise ValidationError(
            f"Henvisningsdatoen ligger efter, at henvisningen blev afgjort ({referral.decided:%d.%m.%Y}).", "received"
        )
    if received_ != referral.received and _exists(
        session, select(Referral.id).where(Referral.citizen_id == citizen.id, Referral.received == received_)
    ):
        raise ValidationError(
            f"Borger {citizen.ref} har allerede en henvisning modtaget {received_:%d.%m.%Y}.", "received"
        )
    changed = _apply(
        referral,
        {"received": received_, "referrer": referrer_, "target_group": target_, "from_sel85": sel85, "age_note": note},
        REFERRAL_LABELS,
    )
    session.add(referral)
    _record_change(session, actor, "referral", referral.id, changed, citizen=citizen)
    return referral


def delete_referral(session: Session, actor: Actor, *, referral_id: int, expected_version: int | None) -> None:
    """Delete a referral registered by mistake (never one with a course).

    The citizen goes too when nothing else (another referral, a course) refers to them.
    """
    referral: Referral = _get(session, Referral, referral_id, "Henvisningen")
    actor.require_writer(referral.unit_id)
    _check_version(referral, expected_version, "Henvisningen")
    course_ref = session.exec(select(Course.ref).where(Course.referral_id == referral.id)).first()
    if course_ref is not None:
        raise ValidationError(
            f"Henvisningen har forløbet {course_ref}: slet forløbet først, hvis også det er en fejl.", "referral_id"
        )
    citizen = session.get(Citizen, referral.citizen_id)
    assert citizen is not None
    session.delete(referral)
    session.flush()
    audit.record(session, actor, "deleted", "referral", referral.id, citizen=citizen,
                 detail=f"modtaget {referral.received:%d.%m.%Y}")
    if not _exists(session, select(Referral.id).where(Referral.citizen_id == citizen.id)) and not _exists(
        session, select(Course.id).where(Course.citizen_id == citizen.id)
    ):
        session.delete(citizen)
        session.flush()
        audit.record(session, actor, "deleted", "citizen", citizen.id, citizen=citizen,
                     detail="ingen henvisninger tilbage")


def reopen_referral(session: Session, actor: Actor, *, referral_id: int, expected_version: int | None) -> Referral:
    """A rejected or withdrawn referral goes back on the waiting list (a decision made by mistake)."""
    referral: Referral = _get(session, Referral, referral_id, "Henvisningen")
    actor.require_writer(referral.unit_id)
    _check_version(referral, expected_version, "Henvisningen")
    if referral.status not in ("rejected", "withdrawn"):
        raise ValidationError("Kun en afvist eller tilbagetrukket henvisning kan sættes på ventelisten igen.", "status")
    other = _waiting_referral(session, referral.citizen_id, but=referral.id)
    if other is not None:
        raise ValidationError(
            f"Borgeren står allerede på ventelisten med en henvisning modtaget {other.received:%d.%m.%Y}: "
            "afgør eller slet den først.",
            "status",
        )
    referral.status, referral.decided, referral.reason = "waiting", None, None
    _bump(referral)
    session.add(referral)
    audit.record(session, actor, "changed", "referral", referral.id, citizen=session.get(Citizen, referral.citizen_id),
                 detail="sat på ventelisten igen")
    return referral


def _overlapping_course(
    session: Session, citizen_id: int, start: date, end: date | None, but: int | None
) -> Course | None:
    """Another course of the citizen sharing a day with [start, end) (None: still open).

    One course may start on the day another ended, as `start_course` allows.
    """
    query = select(Course).where(
        Course.citizen_id == citizen_id, sa.or_(col(Course.end).is_(None), col(Course.end) > start)
    )
    if end is not None:
        query = query.where(Course.start < end)
    if but is not None:
        query = query.where(Course.id != but)
    return session.exec(query.order_by(col(Course.start))).first()


def _check_course_span(session: Session, course: Course, start: date, end: date | None) -> None:
    """[start, end] holds everything of the course and no other course of the citizen."""
    other = _overlapping_course(session, course.citizen_id, start, end, but=course.id)
    if other is not None:
        if other.end is None and end is None:
            raise ValidationError(
                f"Borgeren har allerede et åbent forløb ({other.ref}): kun ét forløb kan være åbent ad gangen.", "end"
            )
        until = f"{other.end:%d.%m.%Y}" if other.end else "åbent"
        raise ValidationError(
            f"Forløbet ville overlappe borgerens forløb {other.ref} ({other.start:%d.%m.%Y}–{until}): "
            "ret start- eller slutdatoen.",
            "start" if other.start <= start else "end",
        )
    attended = (
        select(func.min(GroupSession.date), func.max(GroupSession.date))
        .join(Attendance, col(Attendance.session_id) == col(GroupSession.id))
        .where(Attendance.course_id == course.id)
    )
    def dates_of(model: Any) -> Any:
        return select(func.min(model.date), func.max(model.date)).where(model.course_id == course.id)

    spans: list[tuple[str, Any, bool]] = [
        ("en ORS-måling", dates_of(OrsScore), True),
        ("en SRS-måling", dates_of(SrsScore), True),
        ("fremmøde på et holdmøde", attended, True),
        # A network meeting may lie after the end (see `_meeting_date`), never before the start.
        ("et netværksmøde", dates_of(NetworkMeeting), False),
    ]
    for what, query, bounded_by_end in spans:
        first, last = session.exec(query).one()
        if first is not None and first < start:
            raise ValidationError(
                f"Forløbet har {what} dateret {first:%d.%m.%Y}, før startdatoen: ret startdatoen, eller ret det først.",
                "start",
            )
        if bounded_by_end and end is not None and last is not None and last > end:
            raise ValidationError(
                f"Forløbet har {what} dateret {last:%d.%m.%Y}, efter slutdatoen: ret slutdatoen, eller ret det først.",
                "end",
            )


COURSE_LABELS = {
    "ref": "reference", "start": "startdato", "form": "form", "group_id": "hold", "contact_person_id": "kontaktperson",
    "end": "slutdato", "end_reason": "afslutningsårsag", "next_step": "efterfølgende indsats",
}


def update_course(
    session: Session,
    actor: Actor,
    *,
    course_id: int,
    expected_version: int | None,
    ref: str,
    start: date,
    form: str,
    group_id: int | None,
    contact_person_id: int | None,
    end: date | None,
    end_reason: str | None,
    next_step: str | None,
) -> Course:
    """Correct every field of a course; the rules of DESIGN §2 are checked again as a whole (those
    of its span, against the citizen's other courses and the course's own dates, when the start or
    the end changes).

    The referral's decision date follows the start. Clearing the end reopens the course (with
    the same checks as `reopen_course`); an end without a reason is refused, as in `end_course`.
    """
    course: Course = _get_course(session, course_id)
    actor.require_writer(course.unit_id)
    _check_version(course, expected_version, "Forløbet")
    ref_ = v.required_text(ref, "ref", "Forløbets reference", max_length=40)
    same_ref = select(Course.id).where(Course.unit_id == course.unit_id, Course.ref == ref_)
    if ref_ != course.ref and _exists(session, same_ref):
        raise ValidationError(f"Forløbsreferencen {ref_} bruges allerede i enheden.", "ref")
    start_ = v.past_date(start, "start", "Startdato")
    referral = session.get(Referral, course.referral_id)
    assert referral is not None
    if start_ < referral.received:
        raise ValidationError(
            f"Startdatoen ligger før henvisningen blev modtaget ({referral.received:%d.%m.%Y}).", "start"
        )
    form_ = v.code(form, codes.FORMS, "form", "Form")
    staff = _check_group_and_contact(session, course.unit_id, form_, group_id, contact_person_id)
    if staff is not None and staff.id != course.contact_person_id and not staff.active:
        raise ValidationError(f"{staff.name} er ikke aktiv: vælg en aktiv kontaktperson.", "contact_person_id")
    end_ = None if end is None else v.past_date(end, "end", "Slutdato")
    if end_ is None:
        if end_reason is not None:
            raise ValidationError(
                "Et forløb uden slutdato har ingen afslutningsårsag: angiv slutdatoen, eller fjern årsagen.",
                "end_reason",
            )
        if next_step is not None:
            raise ValidationError(
                "Et forløb uden slutdato har ingen efterfølgende indsats: angiv slutdatoen, eller fjern indsatsen.",
                "next_step",
            )
        reason = step = None
    else:
        if end_ < start_:
            raise ValidationError(f"Slutdatoen ligger før startdatoen ({start_:%d.%m.%Y}).", "end")
        reason = v.code(end_reason, codes.END_REASONS, "end_reason", "Afslutningsårsag")
        step = None if next_step is None else v.code(next_step, codes.NEXT_STEPS, "next_step", "Efterfølgende indsats")
    if (start_, end_) != (course.start, course.end):  # the span was checked when it was saved
        _check_course_span(session, course, start_, end_)
    if group_id != course.group_id or (group_id is not None and (start_, end_) != (course.start, course.end)):
        # moved onto another group, or its days on the group changed: it needs a place on each of them
        _join_group(session, group_id, start_, end_, without=course.id)
    changed = _apply(
        course,
        {"ref": ref_, "start": start_, "form": form_, "group_id": group_id, "contact_person_id": contact_person_id,
         "end": end_, "end_reason": reason, "next_step": step},
        COURSE_LABELS,
    )
    session.add(course)
    if referral.decided != start_:
        referral.decided = start_
        _bump(referral)
        session.add(referral)
    _record_change(session, actor, "course", course.id, changed, citizen=_citizen_of(session, course))
    return course


def delete_course(session: Session, actor: Actor, *, course_id: int, expected_version: int | None) -> None:
    """Delete a course started by mistake, with its scores, attendance and network meetings.

    Its referral goes back on the waiting list (refused if the citizen already waits on another).
    """
    course: Course = _get_course(session, course_id)
    actor.require_writer(course.unit_id)
    _check_version(course, expected_version, "Forløbet")
    other = _waiting_referral(session, course.citizen_id)
    if other is not None:
        raise ValidationError(
            f"Borgeren står allerede på ventelisten med en henvisning modtaget {other.received:%d.%m.%Y}, så "
            "forløbets henvisning kan ikke komme tilbage på listen: afgør eller slet den anden først.",
            "course_id",
        )
    citizen = _citizen_of(session, course)
    counts = []
    for model, label in ((OrsScore, "ORS"), (SrsScore, "SRS"), (Attendance, "fremmøde"),
                         (NetworkMeeting, "netværksmøder")):
        result = session.exec(sa.delete(model).where(model.course_id == course.id))  # type: ignore[call-overload]
        counts.append(f"{int(result.rowcount or 0)} {label}")
    referral = session.get(Referral, course.referral_id)
    assert referral is not None
    session.delete(course)
    session.flush()
    referral.status, referral.decided, referral.reason = "waiting", None, None
    _bump(referral)
    session.add(referral)
    audit.record(session, actor, "deleted", "course", course.id, citizen=citizen,
                 detail=f"{course.ref} med {', '.join(counts)}")
    audit.record(session, actor, "changed", "referral", referral.id, citizen=citizen,
                 detail="sat på ventelisten igen, da forløbet blev slettet")


def reopen_course(session: Session, actor: Actor, *, course_id: int, expected_version: int | None) -> Course:
    """Reopen a course ended by mistake: end, end reason and next step are cleared."""
    course: Course = _get_course(session, course_id)
    actor.require_writer(course.unit_id)
    _check_version(course, expected_version, "Forløbet")
    if course.end is None:
        raise ValidationError(f"Forløbet {course.ref} er ikke afsluttet.", "end")
    other = _overlapping_course(session, course.citizen_id, course.start, None, but=course.id)
    if other is not None:
        state = "et åbent forløb" if other.end is None else "et senere forløb"
        raise ValidationError(
            f"Borgeren har {state} ({other.ref}): forløbet {course.ref} kan ikke genåbnes ved siden af det.", "end"
        )
    _join_group(session, course.group_id, course.start, without=course.id, field="end")  # it runs on till today
    course.end, course.end_reason, course.next_step = None, None, None
    _bump(course)
    session.add(course)
    audit.record(session, actor, "changed", "course", course.id, citizen=_citizen_of(session, course),
                 detail="genåbnet")
    return course


def merge_citizens(session: Session, actor: Actor, *, keep_citizen_id: int, merge_citizen_id: int) -> Citizen:
    """Two references that turn out to be one citizen: everything moves to the one kept.

    Refused when the result would break a rule: another unit, another birth year, two referrals
    received the same day, two on the waiting list, two open or overlapping courses.
    The merged citizen's earlier log entries are linked to the kept citizen (their recorded
    reference stays as it was), so the kept citizen's log extract and deletion cover them. The
    merge is logged as "deleted" for the merged reference (naming the kept one) and as
    "changed" for the kept; no entry of the kept citizen names the merged reference in its text.
    """
    keep: Citizen = _get(session, Citizen, keep_citizen_id, "Borgeren")
    merge: Citizen = _get(session, Citizen, merge_citizen_id, "Borgeren, der skal lægges sammen")
    actor.require_writer(keep.unit_id)
    actor.require_writer(merge.unit_id)
    if keep.id == merge.id:
        raise ValidationError("Vælg to forskellige borgere.", "merge_citizen_id")
    if keep.unit_id != merge.unit_id:
        raise ValidationError("Kun borgere i samme enhed kan lægges sammen.", "merge_citizen_id")
    if keep.birth_year != merge.birth_year:
        raise ValidationError(
            f"Borger {keep.ref} er født {keep.birth_year}, borger {merge.ref} {merge.birth_year}: "
            "ret fødselsåret, før de lægges sammen.",
            "merge_citizen_id",
        )
    referrals = session.exec(select(Referral).where(Referral.citizen_id == merge.id)).all()
    kept = session.exec(select(Referral).where(Referral.citizen_id == keep.id)).all()
    same_day = sorted({r.received for r in referrals} & {r.received for r in kept})
    if same_day:
        raise ValidationError(
            f"Begge borgere har en henvisning modtaget {same_day[0]:%d.%m.%Y}: slet den ene først.", "merge_citizen_id"
        )
    if any(r.status == "waiting" for r in referrals) and any(r.status == "waiting" for r in kept):
        raise ValidationError(
            "Begge borgere står på ventelisten: afgør eller slet den ene henvisning først.", "merge_citizen_id"
        )
    courses = session.exec(select(Course).where(Course.citizen_id == merge.id)).all()
    for course in courses:
        other = _overlapping_course(session, keep.id, course.start, course.end, but=None)
        if other is not None:
            what = "begge et åbent forløb" if course.end is None and other.end is None else "forløb, der overlapper"
            raise ValidationError(
                f"Borgerne har {what} ({other.ref} og {course.ref}): afslut eller ret det ene først.",
                "merge_citizen_id",
            )
    for row in (*referrals, *courses):
        row.citizen_id = keep.id
        _bump(row)
        session.add(row)
    session.flush()
    audit.record(session, actor, "deleted", "citizen", merge.id, citizen=merge, detail=f"lagt sammen med {keep.ref}")
    session.flush()
    session.exec(  # type: ignore[call-overload]
        sa.update(AuditEvent).where(col(AuditEvent.citizen_id) == merge.id).values(citizen_id=keep.id)
    )
    session.delete(merge)
    session.flush()
    _bump(keep)
    session.add(keep)
    audit.record(session, actor, "changed", "citizen", keep.id, citizen=keep,
                 detail=f"lagt sammen med en anden reference: {len(referrals)} henvisninger og "
                        f"{len(courses)} forløb flyttet hertil")
    return keep


# ---------------------------------------------------------------------------------------
# Several at once: a group's starts, a colleague's courses, a group session with its ORS

def _busiest(session: Session, group_id: int, first: date, last: date | None = None,
             without: int | None = None) -> tuple[int, date | None]:
    """The most courses on the group on one day from `first` to `last` (None: from `first` on), and the
    first such day. Members are counted as `add_group_session` counts them (a course ending that day
    included); `without` is a course already on the group whose span is being changed."""
    query = (select(Course.start, Course.end).where(Course.group_id == group_id)
             .where(sa.or_(col(Course.end).is_(None), col(Course.end) >= first)))
    if last is not None:
        query = query.where(Course.start <= last)
    if without is not None:
        query = query.where(Course.id != without)
    return busiest_day(session.exec(query).all(), first)


def _check_room(session: Session, group: Group, first: date, last: date | None, joining: int, field: str,
                without: int | None = None) -> None:
    """Refuse more courses joining `group` from `first` to `last` (None: still running) than it has free
    places on every day of that span."""
    members, busiest = _busiest(session, group.id, first, last, without)
    if members + joining > group.capacity:
        day = busiest or first
        free = max(group.capacity - members, 0)
        taken = (f"{group.name} er fuldt {day:%d.%m.%Y}: alle {group.capacity} pladser er optaget" if joining == 1
                 else f"{group.name} har {group.capacity} pladser, og {members} er optaget {day:%d.%m.%Y}: "
                      f"der er plads til {free} mere, ikke {joining}")
        raise ValidationError(f"{taken}. Vælg et andet hold, eller sæt holdets antal pladser op på siden Hold.", field)


def _join_group(session: Session, group_id: int | None, first: date, last: date | None = None, *,
                without: int | None = None, field: str = "group_id") -> None:
    """A course on this group from `first` to `last` (None: still running) needs a free place on each of
    those days. The group is locked until the save commits, so two colleagues starting citizens on it at
    once cannot both take its last place."""
    if group_id is not None:
        _check_room(session, _get(session, Group, group_id, "Holdet"), first, last, 1, field, without)


def start_group_courses(
    session: Session,
    actor: Actor,
    *,
    group_id: int,
    referral_ids: list[int],
    start: date,
    contact_person_id: int | None,
) -> list[Course]:
    """Start several waiting citizens on a group at once: all of them, or none.

    Refused beyond the group's capacity (members on the start day plus the new ones), before the
    group starts or after it ends; a citizen who cannot start is named in the message.
    """
    group: Group = _get(session, Group, group_id, "Holdet")
    actor.require_writer(group.unit_id)
    wanted = _ids(referral_ids, "referral_ids", "Vælg mindst én borger fra ventelisten.")
    start_ = v.past_date(start, "start", "Startdato")
    if start_ < group.start:
        raise ValidationError(f"Startdatoen ligger før holdets start ({group.start:%d.%m.%Y}).", "start")
    if group.end is not None and start_ > group.end:
        raise ValidationError(f"Startdatoen ligger efter holdets slutdato ({group.end:%d.%m.%Y}).", "start")
    _check_room(session, group, start_, None, len(wanted), "referral_ids")
    courses = []
    for referral_id in wanted:
        referral: Referral = _get(session, Referral, referral_id, "Henvisningen")
        citizen = session.get(Citizen, referral.citizen_id)
        assert citizen is not None
        try:
            courses.append(start_course(
                session, actor, referral_id=referral.id, start=start_, form="group", group_id=group.id,
                contact_person_id=contact_person_id,
            ))
        except ValidationError as error:
            raise ValidationError(f"Borger {citizen.ref}: {error.message}", error.field) from error
    return courses


def move_courses(session: Session, actor: Actor, *, course_ids: list[int], to_staff_id: int) -> int:
    """Give active courses a new contact person (a colleague off sick, or leaving): how many moved."""
    staff: Staff = _get(session, Staff, to_staff_id, "Medarbejderen")
    actor.require_writer(staff.unit_id)
    wanted = _ids(course_ids, "course_ids", "Vælg mindst ét forløb, der skal flyttes.")
    if not staff.active:
        raise ValidationError(f"{staff.name} er ikke aktiv: vælg en aktiv kollega.", "to_staff_id")
    moved = 0
    for course_id in wanted:
        course: Course = _get_course(session, course_id)
        actor.require_writer(course.unit_id)
        if course.unit_id != staff.unit_id:
            raise ValidationError(f"Forløbet {course.ref} hører til en anden enhed end {staff.name}.", "to_staff_id")
        if course.end is not None:
            raise ValidationError(f"Forløbet {course.ref} er afsluttet: kun aktive forløb flyttes.", "course_ids")
        if course.contact_person_id == staff.id:
            continue
        course.contact_person_id = staff.id
        _bump(course)
        session.add(course)
        audit.record(session, actor, "changed", "course", course.id, citizen=_citizen_of(session, course),
                     detail=f"ny kontaktperson: {staff.initials}")
        moved += 1
    return moved


def record_group_session(
    session: Session,
    actor: Actor,
    *,
    group_id: int,
    day: date,
    present_course_ids: list[int],
    scores: dict[int, dict[str, int]],
) -> GroupSession:
    """A group session in one go: who came, and the ORS (in tenths) of those present.

    A refusal about one member's score names the citizen, and its `field` is "<course id>" or
    "<course id>:<item>" so the page can show it beside that row.
    """
    group: Group = _get(session, Group, group_id, "Holdet")
    actor.require_writer(group.unit_id)
    only_members = "Kun borgere med et aktivt forløb på holdet kan registreres som fremmødt."
    present = _ids(present_course_ids, "present", only_members, allow_empty=True)
    if not isinstance(scores, dict) or not all(_is_id(course_id) for course_id in scores):
        raise ValidationError("ORS kan kun registreres for borgere med et forløb på holdet.", "scores")
    absent = sorted(set(scores) - set(present))
    if absent:
        course = session.get(Course, absent[0])
        who = f"Borger {_citizen_of(session, course).ref}" if course is not None else "En borger"
        raise ValidationError(
            f"{who} er ikke markeret som fremmødt, men har en ORS: sæt flueben ved fremmødt, eller slet tallene.",
            str(absent[0]),
        )
    meeting = add_group_session(session, actor, group_id=group.id, day=day, present_course_ids=present)
    for course_id, items in scores.items():
        course = _get_course(session, course_id)
        try:
            add_ors(session, actor, course_id=course_id, day=meeting.date, items=items)
        except ValidationError as error:
            where = f"{course_id}:{error.field}" if error.field in codes.ORS_ITEMS else str(course_id)
            raise ValidationError(f"Borger {_citizen_of(session, course).ref}: {error.message}", where) from error
    return meeting


# ---------------------------------------------------------------------------------------
# Staff and groups

STAFF_LABELS = {"name": "navn", "initials": "initialer", "active": "aktiv", "max_active_courses": "højst aktive forløb"}


def update_staff(
    session: Session,
    actor: Actor,
    *,
    staff_id: int,
    expected_version: int | None,
    name: str,
    initials: str,
    active: bool,
    max_active_courses: int,
) -> Staff:
    """Correct a staff member; one who still has active courses cannot be made inactive."""
    staff: Staff = _get(session, Staff, staff_id, "Medarbejderen")
    actor.require_writer(staff.unit_id)
    _check_version(staff, expected_version, "Medarbejderen")
    name_ = v.required_text(name, "name", "Navn", max_length=120)
    initials_ = _initials(initials)
    active_ = v.boolean(active, "active", "Aktiv")
    max_active = v.integer(max_active_courses, "max_active_courses", "Højst aktive forløb", low=0, high=200)
    if initials_ != staff.initials and _exists(
        session, select(Staff.id).where(Staff.unit_id == staff.unit_id, Staff.initials == initials_)
    ):
        raise ValidationError(f"Initialerne {initials_} bruges allerede i enheden: vælg andre.", "initials")
    if staff.active and not active_:
        open_courses = int(session.exec(
            select(func.count()).select_from(Course)
            .where(Course.contact_person_id == staff.id, col(Course.end).is_(None))
        ).one())
        if open_courses:
            raise ValidationError(
                f"{staff.name} er kontaktperson for {open_courses} aktive forløb: flyt dem til kolleger, "
                "før medarbejderen gøres inaktiv.",
                "active",
            )
    changed = _apply(
        staff, {"name": name_, "initials": initials_, "active": active_, "max_active_courses": max_active},
        STAFF_LABELS,
    )
    session.add(staff)
    _record_change(session, actor, "staff", staff.id, changed, unit_id=staff.unit_id)
    return staff


GROUP_LABELS = {"name": "navn", "theme": "tema", "start": "startdato", "end": "slutdato", "capacity": "pladser"}


def update_group(
    session: Session,
    actor: Actor,
    *,
    group_id: int,
    expected_version: int | None,
    name: str,
    theme: str,
    start: date,
    end: date | None,
    capacity: int,
) -> Group:
    """Correct a group; its sessions stay inside its dates and its members inside its capacity."""
    group: Group = _get(session, Group, group_id, "Holdet")
    actor.require_writer(group.unit_id)
    _check_version(group, expected_version, "Holdet")
    name_ = v.required_text(name, "name", "Holdets navn", max_length=80)
    theme_ = v.text(theme, "theme", "Tema", max_length=200, required=False) or ""
    start_ = v.planned_date(start, "start", "Startdato")
    end_ = v.planned_date(end, "end", "Slutdato") if end is not None else None
    if end_ is not None and end_ < start_:
        raise ValidationError("Holdets slutdato skal ligge på eller efter startdatoen.", "end")
    capacity_ = v.integer(capacity, "capacity", "Antal pladser", low=1, high=100)
    same_name = select(Group.id).where(Group.unit_id == group.unit_id, Group.name == name_)
    if name_ != group.name and _exists(session, same_name):
        raise ValidationError(f"Der findes allerede et hold med navnet {name_}: vælg et andet navn.", "name")
    first, last = session.exec(
        select(func.min(GroupSession.date), func.max(GroupSession.date)).where(GroupSession.group_id == group.id)
    ).one()
    if first is not None and first < start_:
        raise ValidationError(f"Holdet har et møde {first:%d.%m.%Y}, før den nye startdato.", "start")
    if last is not None and end_ is not None and last > end_:
        raise ValidationError(f"Holdet har et møde {last:%d.%m.%Y}, efter den nye slutdato.", "end")
    # Courses start today at the latest, so the members today are the most on any day to come.
    members, _ = _busiest(session, group.id, today())
    if capacity_ < members:
        raise ValidationError(
            f"Holdet har {members} aktive deltagere: antallet af pladser kan ikke være lavere (ikke {capacity_}).",
            "capacity",
        )
    changed = _apply(
        group, {"name": name_, "theme": theme_, "start": start_, "end": end_, "capacity": capacity_}, GROUP_LABELS
    )
    session.add(group)
    _record_change(session, actor, "group", group.id, changed, unit_id=group.unit_id)
    return group


# ---------------------------------------------------------------------------------------
# Correcting scores and network meetings

def _course_row(
    session: Session, actor: Actor, model: type, row_id: int, what: str, expected_version: int | None
) -> tuple[Any, Course]:
    row = _get(session, model, row_id, what)
    course = session.get(Course, row.course_id)
    assert course is not None
    actor.require_writer(course.unit_id)
    _check_version(row, expected_version, what)
    return row, course


def _update_score(
    session: Session, actor: Actor, model: type, names: dict[str, str], instrument: str, *,
    score_id: int, expected_version: int | None, day: date, items: dict[str, int], session_no: int | None,
    extra: dict[str, object] | None = None,
) -> Any:
    score, course = _course_row(session, actor, model, score_id, f"{instrument}-målingen", expected_version)
    values = _items(items, names, instrument)
    day_ = _score_date(course, day, f"{instrument}-datoen")
    number = score.session_no if session_no is None else v.integer(
        session_no, "session_no", "Sessionsnummer", low=1, high=500
    )
    labels = {"date": "dato", "session_no": "sessionsnummer", "group_session": "gruppesession",
              **{name: label.lower() for name, label in names.items()}}
    changed = _apply(score, {"date": day_, "session_no": number, **values, **(extra or {})}, labels)
    session.add(score)
    _record_change(session, actor, model.__tablename__, score.id, changed,  # type: ignore[attr-defined]
                   citizen=_citizen_of(session, course))
    return score


def _delete_course_row(
    session: Session, actor: Actor, model: type, row_id: int, what: str, expected_version: int | None
) -> None:
    row, course = _course_row(session, actor, model, row_id, what, expected_version)
    session.delete(row)
    session.flush()
    audit.record(session, actor, "deleted", model.__tablename__, row.id,  # type: ignore[attr-defined]
                 citizen=_citizen_of(session, course), detail=f"dateret {row.date:%d.%m.%Y}")


def update_ors(
    session: Session, actor: Actor, *, score_id: int, expected_version: int | None, day: date,
    items: dict[str, int], session_no: int | None,
) -> OrsScore:
    """Correct an ORS measurement (items in tenths; session_no None keeps the number)."""
    return _update_score(session, actor, OrsScore, codes.ORS_ITEMS, "ORS", score_id=score_id,
                         expected_version=expected_version, day=day, items=items, session_no=session_no)


def delete_ors(session: Session, actor: Actor, *, score_id: int, expected_version: int | None) -> None:
    _delete_course_row(session, actor, OrsScore, score_id, "ORS-målingen", expected_version)


def update_srs(
    session: Session, actor: Actor, *, score_id: int, expected_version: int | None, day: date,
    items: dict[str, int], session_no: int | None, group_session: bool | None = None,
) -> SrsScore:
    """Correct an SRS measurement (group_session None keeps it as it was)."""
    extra = None if group_session is None else {
        "group_session": v.boolean(group_session, "group_session", "Gruppesession")
    }
    return _update_score(session, actor, SrsScore, codes.SRS_ITEMS, "SRS", score_id=score_id,
                         expected_version=expected_version, day=day, items=items, session_no=session_no, extra=extra)


def delete_srs(session: Session, actor: Actor, *, score_id: int, expected_version: int | None) -> None:
    _delete_course_row(session, actor, SrsScore, score_id, "SRS-målingen", expected_version)


def update_network_meeting(
    session: Session, actor: Actor, *, meeting_id: int, expected_version: int | None, day: date, participants: int
) -> NetworkMeeting:
    meeting, course = _course_row(session, actor, NetworkMeeting, meeting_id, "Netværksmødet", expected_version)
    day_ = _meeting_date(course, day)
    count = v.integer(participants, "participants", "Antal deltagere", low=1, high=100)
    changed = _apply(meeting, {"date": day_, "participants": count}, {"date": "dato", "participants": "deltagere"})
    session.add(meeting)
    _record_change(session, actor, "networkmeeting", meeting.id, changed, citizen=_citizen_of(session, course))
    return meeting


def delete_network_meeting(session: Session, actor: Actor, *, meeting_id: int, expected_version: int | None) -> None:
    _delete_course_row(session, actor, NetworkMeeting, meeting_id, "Netværksmødet", expected_version)
