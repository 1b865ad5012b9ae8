"""Demo data: three years of FOKUS Faxe, a plausible §82a/§82b unit, to try fokus on.

Only ever into an empty database (DESIGN §8), and only when asked for (`python -m fokus demo`).
The history is first planned in memory from a fixed seed, with every date counted back from
today, so the same day always gives the same data. It is then written in date order through the
service functions, as if the staff had typed it in day by day, in one transaction: the audit log,
the course references and every rule of the service layer are exercised as in real use.

The plan follows the unit's targets and Slagelse's reference figures (DESIGN §9): about 175
course starts a year, 70 % of them in groups, referrers 55/35/10 % (Socialcenter, Jobcenter,
Andet), target groups 81/10/9 %, 15 % revisited from §85, ORS progress of about +35 %, and
about 17 % going on to a further measure. Such shares are dealt from shuffled decks rather than
drawn independently, so that every year lands near its target, as a steady unit's would.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from sqlmodel import Session, select

from fokus import clock, codes, config, db, services
from fokus import fmt as f
from fokus.actor import SYSTEM
from fokus.errors import ValidationError
from fokus.models import Citizen, Unit

SEED = 82_2018
UNIT_NAME = "FOKUS Faxe"
MUNICIPALITY = "Faxe Kommune"
DAYS = 3 * 365
WARM_UP_DAYS = 91  # the unit opened a quarter before the three years, so the first is a steady one too
REFERRALS_PER_YEAR = 202
STUCK_DAYS = 180  # a few referrals this recent are still waiting today, some for a long time

# (name, initials, most active courses): the leader takes a few courses herself.
STAFF = (
    ("Lene Dalsgaard", "LD", 5),
    ("Mette Kjær Holm", "MKH", 15),
    ("Jonas Brandt", "JB", 15),
    ("Sara Lund Pedersen", "SLP", 14),
    ("Ahmad Rahimi", "AR", 13),
)
SRS_USER = "SLP"  # the one who also hands out the Session Rating Scale
THEMES = (
    "Angst og bekymringer",
    "Stress og balance i hverdagen",
    "Selvværd og fællesskab",
    "Søvn, kost og bevægelse",
    "Tanker og følelser",
    "Struktur i hverdagen",
    "Mod på job og uddannelse",
    "Ro og nærvær",
)
GROUP_SESSIONS = 12
# Referral number → (age at referral, why it was accepted): the few exceptions to 18–65.
AGE_EXCEPTIONS = {
    60: (17, "Fylder 18 år kort efter henvisningen; aftalt med Socialcenteret."),
    250: (66, "Netop fyldt 66 og revisiteret fra § 85; forløbet er aftalt med pensionsteamet."),
    480: (17, "Ung fra efterværn, der fylder 18 år inden forløbets start."),
}
ORS_SHARES = (0.25, 0.27, 0.22, 0.26)  # individual, interpersonal, social, overall: social lowest


class _Deck:
    """Deals codes in fixed proportions, reshuffled every round: shares stay near target in any stretch."""

    def __init__(self, rng: random.Random, cards: dict[str, int]) -> None:
        self._rng, self._cards = rng, cards
        self._hand: list[str] = []

    def draw(self) -> str:
        if not self._hand:
            self._hand = [card for card, count in self._cards.items() for _ in range(count)]
            self._rng.shuffle(self._hand)
        return self._hand.pop()


@dataclass(eq=False)
class _Citizen:
    ref: str
    birth_year: int
    last: _Referral | None = None


@dataclass(eq=False)
class _Group:
    name: str
    theme: str
    start: date
    capacity: int
    planned_sessions: list[date]
    members: list[_Course] = field(default_factory=list)
    present: dict[date, list[_Course]] = field(default_factory=dict)
    id: int | None = None


@dataclass(eq=False)
class _Referral:
    citizen: _Citizen
    received: date
    referrer: str
    target_group: str
    from_sel85: bool
    age_note: str | None
    status: str = "waiting"
    decided: date | None = None
    reason: str | None = None
    course: _Course | None = None
    id: int | None = None


@dataclass(eq=False)
class _Course:
    referral: _Referral
    start: date
    form: str
    group: _Group | None
    planned_end: date
    end_reason: str
    end: date | None = None
    next_step: str | None = None
    contact: int = 0
    attendance_rate: float = 0.9
    ors: list[tuple[date, int, dict[str, int]]] = field(default_factory=list)
    srs: list[tuple[date, int, dict[str, int], bool]] = field(default_factory=list)
    meetings: list[tuple[date, int]] = field(default_factory=list)
    id: int | None = None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


@dataclass
class _Plan:
    opened: date
    today: date
    groups: list[_Group]
    referrals: list[_Referral]

    @property
    def courses(self) -> list[_Course]:
        return [r.course for r in self.referrals if r.course is not None]


# ---------------------------------------------------------------------------------------
# Calendar helpers

def _weekday_from(day: date) -> date:
    """The day itself, or the Monday after a weekend."""
    return day + timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def _tuesday_from(day: date) -> date:
    return day + timedelta(days=(1 - day.weekday()) % 7)


def _holiday(day: date) -> bool:
    """Christmas and the summer holiday (ISO weeks 28–31): no group meets."""
    return (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2) or 28 <= day.isocalendar()[1] <= 31


def _christmas(day: date) -> bool:
    return day.month == 12 and day.day >= 24


# ---------------------------------------------------------------------------------------
# The plan

class _Planner:
    """Plans a unit's history up to `today`; `seed` and `days` let `bench/` plan many, longer ones."""

    def __init__(self, today: date, *, seed: int = SEED, days: int = DAYS) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.opened = today - timedelta(days=days - 1 + WARM_UP_DAYS)
        rng = self.rng
        self.referrers = _Deck(rng, {"socialcenter": 11, "jobcenter": 7, "other": 2})
        self.target_groups = _Deck(rng, {"psychic": 81, "physical": 10, "social": 9})
        self.sel85 = _Deck(rng, {"yes": 3, "no": 17})
        self.outcomes = _Deck(rng, {"start": 23, "rejected": 1, "withdrawn": 1})
        self.forms = _Deck(rng, {"group": 7, "individual": 3})
        self.long_waits = _Deck(rng, {"yes": 1, "no": 24})
        self.stuck = _Deck(rng, {"yes": 1, "no": 9})
        self.end_reasons = _Deck(rng, {"completed": 78, "dropped_out": 14, "moved": 5, "other": 3})
        self.lengths = _Deck(rng, {"usual": 86, "long": 10, "very_long": 4})
        self.further = _Deck(rng, {"yes": 17, "no": 83})
        self.ors_use = _Deck(rng, {"every_session": 23, "first_only": 1, "never": 1})
        self.ors_kinds = _Deck(rng, {"improve": 17, "little": 6, "worse": 2})
        self.meetings = _Deck(rng, {"yes": 7, "no": 13})
        self.refs = rng.sample(range(100_000, 1_000_000), max(2_000, days))  # more referrals than days never come

    def plan(self) -> _Plan:
        groups = self._groups()
        referrals = self._referrals(groups)
        courses = sorted((r.course for r in referrals if r.course), key=lambda c: (c.start, c.referral.received))
        self._contact_persons(courses)
        for course in courses:
            self._scores(course)
            self._network_meetings(course)
        self._attendance(groups)
        return _Plan(self.opened, self.today, groups, referrals)

    # Groups start every three weeks on a Tuesday, not in the summer holiday or at Christmas.
    def _groups(self) -> list[_Group]:
        groups: list[_Group] = []
        start = _tuesday_from(self.opened + timedelta(days=14))
        while start <= self.today:
            if start.month == 7:
                start = _tuesday_from(date(start.year, 8, 5))
            elif (start.month == 12 and start.day >= 16) or (start.month == 1 and start.day <= 5):
                start = _tuesday_from(date(start.year + (start.month == 12), 1, 6))
            if start > self.today:
                break
            number = sum(1 for g in groups if g.start.year == start.year) + 1
            sessions: list[date] = []
            day = start
            while len(sessions) < GROUP_SESSIONS:
                if not _holiday(day):
                    sessions.append(day)
                day += timedelta(days=7)
            theme = THEMES[len(groups) % len(THEMES)]
            groups.append(_Group(f"Hold {number}/{start.year}", theme, start, self.rng.randint(8, 12), sessions))
            start += timedelta(days=21)
        return groups

    def _arrivals(self) -> Iterator[date]:
        """Referral dates: a steady stream, thinner in July and at Christmas, fuller after."""
        season = {7: 0.55, 8: 1.15, 12: 0.8, 1: 1.15}
        moment = float(self.rng.uniform(0, 2))
        while True:
            day = self.opened + timedelta(days=int(moment))
            gap = 365 / REFERRALS_PER_YEAR / season.get(day.month, 1.0) * self.rng.uniform(0.6, 1.4)
            moment += gap
            received = _weekday_from(day)
            if received > self.today:
                return
            yield received

    def _referrals(self, groups: list[_Group]) -> list[_Referral]:
        referrals: list[_Referral] = []
        citizens: list[_Citizen] = []
        for number, received in enumerate(self._arrivals()):
            citizen = None if number in AGE_EXCEPTIONS else self._returning(citizens, received)
            referral = self._referral(citizens, received, citizen, AGE_EXCEPTIONS.get(number))
            referrals.append(referral)
            self._decide(referral, groups)
            if (self.today - received).days <= STUCK_DAYS and self.stuck.draw() == "yes":
                # No contact yet, or waiting for a particular offer: still on the list today.
                referrals.append(self._referral(citizens, received, None, None))
        return referrals

    def _referral(
        self, citizens: list[_Citizen], received: date, citizen: _Citizen | None, exception: tuple[int, str] | None
    ) -> _Referral:
        age, age_note = exception or (self._age(), None)
        if citizen is None:
            citizen = _Citizen(f"SAG-{self.refs[len(citizens)]}", received.year - age)
            citizens.append(citizen)
        referral = _Referral(
            citizen, received, self.referrers.draw(), self.target_groups.draw(), self.sel85.draw() == "yes", age_note
        )
        citizen.last = referral
        return referral

    def _age(self) -> int:
        band = self.rng.random()
        if band < 0.42:
            return self.rng.randint(18, 29)
        if band < 0.75:
            return self.rng.randint(30, 44)
        return self.rng.randint(45, 65)

    def _returning(self, citizens: list[_Citizen], received: date) -> _Citizen | None:
        """Now and then a citizen comes back, some months after an earlier course ended."""
        if self.rng.random() >= 0.04:
            return None
        candidates = [
            c for c in citizens
            if c.last and c.last.course and c.last.course.end
            and 45 <= (received - c.last.course.end).days <= 540
            and 18 <= received.year - c.birth_year <= 65
        ]
        return self.rng.choice(candidates) if candidates else None

    def _decide(self, referral: _Referral, groups: list[_Group]) -> None:
        outcome = self.outcomes.draw()
        if outcome != "start":
            decided = _weekday_from(referral.received + timedelta(days=self.rng.randint(3, 35)))
            if decided <= self.today:
                reasons = (
                    ("outside_target_group", "needs_other_help", "needs_other_help", "other")
                    if outcome == "rejected" else ("declined", "declined", "no_contact", "moved")
                )
                referral.status, referral.decided = outcome, decided
                referral.reason = self.rng.choice(reasons)
            return
        form = self.forms.draw()
        extra = self.rng.randint(45, 150) if self.long_waits.draw() == "yes" else 0
        earliest = referral.received + timedelta(days=7 + extra)
        group = None
        if form == "group":
            group = next((g for g in groups if g.start >= earliest and len(g.members) < g.capacity), None)
            if group is None:
                return  # waiting for a group not yet planned
            start = group.start
        else:
            start = _weekday_from(earliest + timedelta(days=round(self.rng.triangular(0, 35, 7))))
        if start > self.today:
            return
        course = self._course(referral, start, form, group)
        referral.status, referral.decided, referral.course = "started", start, course
        if group is not None:
            group.members.append(course)

    def _course(self, referral: _Referral, start: date, form: str, group: _Group | None) -> _Course:
        reason = self.end_reasons.draw()
        if reason == "completed":
            kind = self.lengths.draw()
            days = {"usual": (96, 112), "long": (113, 168), "very_long": (176, 205)}[kind]
        else:
            days = {"dropped_out": (18, 84), "moved": (14, 90), "other": (21, 100)}[reason]
        planned_end = _weekday_from(start + timedelta(days=self.rng.randint(*days)))
        rate = self.rng.uniform(0.5, 0.8) if reason == "dropped_out" else self.rng.uniform(0.75, 0.98)
        course = _Course(referral, start, form, group, planned_end, reason, attendance_rate=rate)
        if planned_end <= self.today:
            course.end = planned_end
            course.next_step = self._next_step(course)
        return course

    def _next_step(self, course: _Course) -> str | None:
        if course.end_reason == "moved":
            return None  # gone from the municipality: nobody knows
        if self.further.draw() == "yes":
            sel85_odds = 0.9 if course.referral.from_sel85 else 0.75
            return "sel85" if self.rng.random() < sel85_odds else "other_sel"
        weights = {
            "completed": {"none": 45, "job": 20, "education": 20, "other": 15},
            "dropped_out": {"none": 70, "job": 10, "education": 5, "other": 15},
            "other": {"none": 60, "other": 40},
        }[course.end_reason]
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _contact_persons(self, courses: list[_Course]) -> None:
        """Each new course goes to the staff member with the most room that day."""
        load: list[list[_Course]] = [[] for _ in STAFF]
        for course in courses:
            def fullness(index: int, day: date = course.start) -> float:
                active = sum(1 for c in load[index] if c.start <= day < c.planned_end)
                return (active + 1) / STAFF[index][2]

            best = min(range(len(STAFF)), key=lambda i: (fullness(i), self.rng.random()))
            course.contact = best
            load[best].append(course)

    def _scores(self, course: _Course) -> None:
        """ORS at most weekly sessions, moving from the first score towards the course's outcome."""
        rng = self.rng
        last_day = min(course.end or course.planned_end, self.today)
        sessions = [course.start + timedelta(days=7 * k) for k in range((last_day - course.start).days // 7 + 1)]
        if course.end is not None and (course.end - sessions[-1]).days >= 3:
            sessions.append(course.end)  # the closing talk
        use = self.ors_use.draw()  # a few citizens decline the scales, or answer only once
        if use == "never":
            return
        if use == "first_only":
            sessions = sessions[:1]
        first = min(33.0, max(6.0, rng.gauss(20.0, 4.5)))
        kind = self.ors_kinds.draw()
        change = {"improve": rng.uniform(8, 17), "little": rng.uniform(-3, 4.5), "worse": rng.uniform(-10, -5.5)}[kind]
        if course.end_reason == "dropped_out" and change > 0:
            change *= 0.4
        final = min(39.0, max(2.0, first + change))
        span = max(1, (course.planned_end - course.start).days)
        shares = [share + rng.uniform(-0.03, 0.03) for share in ORS_SHARES]
        shares = [share / sum(shares) for share in shares]
        uses_srs = STAFF[course.contact][1] == SRS_USER
        group_days = set(course.group.planned_sessions) if course.group else set()
        for number, day in enumerate(sessions, start=1):
            if _christmas(day) or rng.random() > (0.97 if number == 1 else 0.88):
                continue
            progress = (1 - math.exp(-2.5 * (day - course.start).days / span)) / (1 - math.exp(-2.5))
            total = first + (final - first) * min(1.0, progress) + (rng.gauss(0, 1.2) if number > 1 else 0)
            tenths = round(min(39.0, max(2.0, total)) * 10)
            course.ors.append((day, number, _split(tenths, shares)))
            if uses_srs and rng.random() < 0.8:
                low = rng.random() < 0.06
                items = {name: rng.randint(55, 85) if low else rng.randint(80, 100) for name in codes.SRS_ITEMS}
                course.srs.append((day, number, items, day in group_days))

    def _attendance(self, groups: list[_Group]) -> None:
        """Who came to each group session held so far: most members, most weeks."""
        for group in groups:
            for day in group.planned_sessions:
                if day <= self.today:
                    group.present[day] = [
                        c for c in group.members if c.active_on(day) and self.rng.random() < c.attendance_rate
                    ]

    def _network_meetings(self, course: _Course) -> None:
        """An Open Dialogue meeting for about a third of the courses, some with a follow-up."""
        if self.meetings.draw() != "yes":
            return
        last_day = min(course.end or self.today, self.today)
        day = _weekday_from(course.start + timedelta(days=self.rng.randint(10, 35)))
        if day <= last_day:
            course.meetings.append((day, self.rng.randint(3, 8)))
            follow_up = _weekday_from(day + timedelta(days=self.rng.randint(28, 56)))
            if self.rng.random() < 0.25 and follow_up <= last_day:
                course.meetings.append((follow_up, self.rng.randint(3, 7)))


def _split(total_tenths: int, shares: list[float]) -> dict[str, int]:
    """Four ORS items in tenths (0–100) that add up to the total exactly."""
    items = [min(100, max(0, round(total_tenths * share))) for share in shares]
    index = 0
    while (difference := total_tenths - sum(items)) != 0:
        step = 1 if difference > 0 else -1
        if 0 <= items[index % 4] + step <= 100:
            items[index % 4] += step
        index += 1
    return dict(zip(codes.ORS_ITEMS, items, strict=True))


# ---------------------------------------------------------------------------------------
# Writing the plan, day by day, through the service layer

class _Writer:
    """Writes the plan's rows through the service functions, as the SYSTEM actor."""

    def __init__(self, session: Session, plan: _Plan) -> None:
        self.session, self.plan, self.actor = session, plan, SYSTEM
        # The session's identity map holds rows only weakly: keeping them here saves a SELECT
        # each time a service function looks one up again (the course of a score, its citizen).
        self.rows: list[object] = []
        unit = services.create_unit(session, self.actor, name=UNIT_NAME, municipality=MUNICIPALITY)
        assert unit.id is not None
        self.unit_id = unit.id
        staff = [
            services.add_staff(session, self.actor, unit_id=unit.id, name=name, initials=initials,
                               max_active_courses=most)
            for name, initials, most in STAFF
        ]
        self.staff_ids = [member.id for member in staff]
        self.rows += [unit, *staff]

    def group(self, group: _Group) -> None:
        # A group may be planned ahead, but the demo dates nothing after today: a running group
        # has no end date yet.
        end = group.planned_sessions[-1]
        row = services.create_group(
            self.session, self.actor, unit_id=self.unit_id, name=group.name, theme=group.theme,
            start=group.start, end=end if end <= self.plan.today else None, capacity=group.capacity,
        )
        group.id = row.id
        self.rows.append(row)

    def group_session(self, group: _Group, day: date) -> None:
        assert group.id is not None
        present = [course.id for course in group.present[day] if course.id is not None]
        services.add_group_session(self.session, self.actor, group_id=group.id, day=day, present_course_ids=present)

    def referral(self, referral: _Referral) -> None:
        row = services.register_referral(
            self.session, self.actor, unit_id=self.unit_id, citizen_ref=referral.citizen.ref,
            birth_year=referral.citizen.birth_year, received=referral.received, referrer=referral.referrer,
            target_group=referral.target_group, from_sel85=referral.from_sel85, age_note=referral.age_note,
        )
        referral.id = row.id
        self.rows += [row, self.session.get(Citizen, row.citizen_id)]

    def decision(self, referral: _Referral) -> None:
        assert referral.id is not None and referral.decided is not None and referral.reason is not None
        services.decide_referral(
            self.session, self.actor, referral_id=referral.id, status=referral.status, decided=referral.decided,
            reason=referral.reason,
        )

    def start(self, course: _Course) -> None:
        assert course.referral.id is not None
        row = services.start_course(
            self.session, self.actor, referral_id=course.referral.id, start=course.start, form=course.form,
            group_id=course.group.id if course.group else None, contact_person_id=self.staff_ids[course.contact],
        )
        course.id = row.id
        self.rows.append(row)

    def end(self, course: _Course) -> None:
        assert course.id is not None and course.end is not None
        services.end_course(
            self.session, self.actor, course_id=course.id, end=course.end, end_reason=course.end_reason,
            next_step=course.next_step,
        )

    def ors(self, course: _Course, day: date, number: int, items: dict[str, int]) -> None:
        assert course.id is not None
        services.add_ors(self.session, self.actor, course_id=course.id, day=day, items=items, session_no=number)

    def srs(self, course: _Course, day: date, number: int, items: dict[str, int], in_group: bool) -> None:
        assert course.id is not None
        services.add_srs(
            self.session, self.actor, course_id=course.id, day=day, items=items, session_no=number,
            group_session=in_group,
        )

    def meeting(self, course: _Course, day: date, participants: int) -> None:
        assert course.id is not None
        services.add_network_meeting(self.session, self.actor, course_id=course.id, day=day, participants=participants)


def _write(session: Session, plan: _Plan) -> None:
    """The plan as the unit's history: every row on its own day, in the order staff would type it."""
    writer = _Writer(session, plan)
    events: list[tuple[date, int, int, Callable[[], None]]] = []

    def on(day: date, order: int, write: Callable[[], None]) -> None:
        events.append((day, order, len(events), write))

    for group in plan.groups:
        on(group.start, 0, partial(writer.group, group))
        for day in group.present:
            on(day, 4, partial(writer.group_session, group, day))
    for referral in plan.referrals:
        on(referral.received, 1, partial(writer.referral, referral))
        if referral.status in ("rejected", "withdrawn"):
            assert referral.decided is not None
            on(referral.decided, 5, partial(writer.decision, referral))
        course = referral.course
        if course is None:
            continue
        on(course.start, 2, partial(writer.start, course))
        for day, number, items in course.ors:
            on(day, 3, partial(writer.ors, course, day, number, items))
        for day, number, items, in_group in course.srs:
            on(day, 3, partial(writer.srs, course, day, number, items, in_group))
        for day, participants in course.meetings:
            on(day, 3, partial(writer.meeting, course, day, participants))
        if course.end is not None:
            on(course.end, 6, partial(writer.end, course))
    for _day, _order, _sequence, write in sorted(events, key=lambda event: event[:3]):
        write()


# ---------------------------------------------------------------------------------------
# The public face

def database_is_empty(url: str | None = None) -> bool:
    """True when the database holds no unit and no citizen: the only kind demo data goes into."""
    with db.read_session(db.engine_for(url)) as session:
        return _is_empty(session)


def _is_empty(session: Session) -> bool:
    return session.exec(select(Unit.id).limit(1)).first() is None and (
        session.exec(select(Citizen.id).limit(1)).first() is None
    )


def fill_demo(url: str | None = None, today: date | None = None) -> str:
    """Fill an empty database with three years of FOKUS Faxe up to `today`; a Danish summary back."""
    day = today or clock.today()
    if day > clock.today():
        raise ValidationError("Demodata kan ikke ligge i fremtiden: vælg i dag eller en tidligere dag.", "today")
    plan = _Planner(day).plan()
    with db.write_session(db.engine_for(url)) as session:
        if not _is_empty(session):
            raise ValidationError(
                "Databasen indeholder allerede data. Demodata lægges kun i en tom database: "
                "brug en ny database (en anden DATABASE_URL eller en anden SQLite-fil)."
            )
        _write(session, plan)
    return _summary(plan)


def _summary(plan: _Plan) -> str:
    courses = plan.courses
    referrals = plan.referrals
    group_sessions = sum(len(g.present) for g in plan.groups)
    counts = {
        "medarbejdere": len(STAFF),
        "borgere": len({r.citizen.ref for r in referrals}),
        "henvisninger": len(referrals),
        "venter": sum(1 for r in referrals if r.status == "waiting"),
        "forløb": len(courses),
        "aktive": sum(1 for c in courses if c.end is None),
        "hold": len(plan.groups),
        "ORS": sum(len(c.ors) for c in courses),
        "SRS": sum(len(c.srs) for c in courses),
        "netværksmøder": sum(len(c.meetings) for c in courses),
    }
    n = {key: f.integer(value) for key, value in counts.items()}
    return (
        f"Demodata for {UNIT_NAME} ({MUNICIPALITY}), {f.period(plan.opened, plan.today)}: "
        f"{n['medarbejdere']} medarbejdere, {n['borgere']} borgere, {n['henvisninger']} henvisninger "
        f"({n['venter']} venter), {n['forløb']} forløb ({n['aktive']} aktive), {n['hold']} hold med "
        f"{f.integer(group_sessions)} gruppemøder, {n['ORS']} ORS-målinger, {n['SRS']} SRS-målinger "
        f"og {n['netværksmøder']} netværksmøder."
    )


# ---------------------------------------------------------------------------------------
# Demo logins: one per role, with one random password written beside the database

DEMO_USERS = (
    ("demo-admin", "admin"),
    ("demo-leder", "leader"),
    ("demo-medarbejder", "staff"),
    ("demo-skaerm", "screen"),
)


def demo_login_file(url: str | None = None) -> Path:
    """Where the demo password is kept: beside the SQLite file, else in data/ (both git-ignored)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url or config.database_url())
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database).with_name("demo-login.txt")
    return config.DATA_DIR / "demo-login.txt"


def create_demo_logins(url: str | None = None) -> str:
    """Create the demo users (once) with a fresh random password; the note to show the user."""
    from fokus import auth
    from fokus.models import User

    password = "demo-" + secrets.token_urlsafe(12)
    engine = db.engine_for(url)
    with db.write_session(engine) as session:
        unit_id = session.exec(select(Unit.id).where(Unit.name == UNIT_NAME)).one()
        for login, role in DEMO_USERS:
            existing = session.exec(select(User.id).where(User.login == login)).first()
            if existing is None:
                auth.create_user(session, SYSTEM, login=login, role=role, password=password,
                                 unit_ids=[] if role == "admin" else [unit_id])
            else:
                auth.reset_password(session, SYSTEM, user_id=existing, password=password)
    note = (
        "Demo-login til fokus (kun til afprøvning):\n"
        + "".join(f"  {login:<18} ({role})\n" for login, role in DEMO_USERS)
        + f"  adgangskode: {password}\n"
    )
    path = demo_login_file(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(note, encoding="utf-8")
    path.chmod(0o600)
    return note
