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
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from fokus import audit, codes
from fokus import validate as v
from fokus.actor import Actor
from fokus.clock import today
from fokus.errors import ConflictError, NotFoundError, ValidationError
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
    Target,
    Unit,
)

MIN_AGE, MAX_AGE = 18, 65
ITEM_TENTHS_MAX = 100
DEFAULT_TARGETS_FROM = date(2000, 1, 1)


# ---------------------------------------------------------------------------------------
# Loading rows the actor may see

def _get(session: Session, model: type, row_id: object, what: str):  # type: ignore[no-untyped-def]
    row = session.get(model, row_id) if isinstance(row_id, int) and not isinstance(row_id, bool) else None
    if row is None:
        raise NotFoundError(f"{what} findes ikke (længere). Genindlæs siden.")
    return row


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
    actor.require_writer(unit_id)
    v.a_date(valid_from, "valid_from", "Gyldig fra")
    low = v.integer(intake_min, "intake_min", "Mindste årlige tilgang", low=0, high=100_000)
    high = v.integer(intake_max, "intake_max", "Største årlige tilgang", low=0, high=100_000)
    if high < low:
        raise ValidationError("Største årlige tilgang skal være mindst den mindste.", "intake_max")
    if not isinstance(group_share, int | float) or not 0 <= group_share <= 1:
        raise ValidationError("Målet for gruppeandel skal ligge mellem 0 og 100 %.", "group_share")
    wmin = v.integer(weeks_min, "weeks_min", "Korteste forløb i uger", low=1, high=104)
    wmax = v.integer(weeks_max, "weeks_max", "Længste forløb i uger", low=1, high=104)
    if wmax < wmin:
        raise ValidationError("Længste forløb skal være mindst det korteste.", "weeks_max")
    target = session.exec(
        select(Target).where(Target.unit_id == unit_id, Target.valid_from == valid_from)
    ).first() or Target(unit_id=unit_id, valid_from=valid_from)
    target.intake_min, target.intake_max, target.group_share = low, high, float(group_share)
    target.weeks_min, target.weeks_max = wmin, wmax
    target.max_months = v.integer(max_months, "max_months", "Højst måneder", low=1, high=24)
    target.ors_cutoff = _points(ors_cutoff, "ors_cutoff", "ORS' kliniske grænse", low=0, high=40)
    target.rci = _points(rci, "rci", "Pålidelig ændring (RCI)", low=1, high=40)
    target.jobcenter_quota = (
        None if jobcenter_quota is None
        else v.integer(jobcenter_quota, "jobcenter_quota", "Jobcenterets kvote", low=0, high=100_000)
    )
    session.add(target)
    session.flush()
    audit.record(session, actor, "changed", "target", target.id, unit_id=unit_id, detail=f"gyldig fra {valid_from}")
    return target


def _points(value: object, field: str, label: str, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationError(f"{label} skal være et tal fra {low:g} til {high:g} point.", field)
    return float(value)


def add_staff(
    session: Session, actor: Actor, *, unit_id: int, name: str, initials: str, max_active_courses: int = 15
) -> Staff:
    actor.require_writer(unit_id)
    name_ = v.required_text(name, "name", "Navn", max_length=120)
    initials_ = v.required_text(initials, "initials", "Initialer", max_length=10).upper()
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

def create_group(
    session: Session,
    actor: Actor,
    *,
    unit_id: int,
    name: str,
    start: date,
    theme: str = "",
    end: date | None = None,
    capacity: int = 10,
) -> Group:
    actor.require_writer(unit_id)
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
    strangers = set(present_course_ids) - member_ids
    if strangers:
        raise ValidationError("Kun borgere med et aktivt forløb på holdet kan registreres som fremmødt.", "present")
    meeting = GroupSession(group_id=group_id, date=day_)
    session.add(meeting)
    session.flush()
    present = set(present_course_ids)
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
    if session.get(Unit, unit_id) is None:
        raise NotFoundError("Enheden findes ikke.")
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
) -> None:
    if group_id is not None:
        if form != "group":
            raise ValidationError("Et individuelt forløb kan ikke knyttes til et hold: vælg form gruppe.", "group_id")
        group = session.get(Group, group_id) if isinstance(group_id, int) else None
        if group is None or group.unit_id != unit_id:
            raise ValidationError("Vælg et hold fra enhedens liste.", "group_id")
    if contact_person_id is not None:
        staff = session.get(Staff, contact_person_id) if isinstance(contact_person_id, int) else None
        if staff is None or staff.unit_id != unit_id:
            raise ValidationError("Vælg en kontaktperson fra enhedens medarbejdere.", "contact_person_id")


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
) -> Course:
    """Start a course from a waiting referral; the referral leaves the waiting list."""
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
    course: Course = _get(session, Course, course_id, "Forløbet")
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
    course: Course = _get(session, Course, course_id, "Forløbet")
    actor.require_writer(course.unit_id)
    values = _items(items, codes.ORS_ITEMS, "ORS")
    day_ = _score_date(course, day, "ORS-datoen")
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
    course: Course = _get(session, Course, course_id, "Forløbet")
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

def add_network_meeting(
    session: Session, actor: Actor, *, course_id: int, day: date, participants: int
) -> NetworkMeeting:
    course: Course = _get(session, Course, course_id, "Forløbet")
    actor.require_writer(course.unit_id)
    day_ = v.past_date(day, "date", "Mødedato")
    if day_ < course.start:
        raise ValidationError(f"Netværksmødet ligger før forløbets start ({course.start:%d.%m.%Y}).", "date")
    count = v.integer(participants, "participants", "Antal deltagere", low=1, high=100)
    meeting = NetworkMeeting(course_id=course.id, date=day_, participants=count)
    session.add(meeting)
    session.flush()
    audit.record(session, actor, "created", "networkmeeting", meeting.id, citizen=_citizen_of(session, course))
    return meeting
