"""The authorization matrix: every role × every page and every function that acts for a user.

Two units, "Enhed A" and "Enhed B", with data in both written through the service layer. The
leader, staff member and meeting screen belong to Enhed A; the administrator sees both.

- Pages (AppTest, SQLite): every page `fokus.access.PAGES` lets a role open runs without an
  error; every other one, run directly, shows the refusal and logs it; the navigation that
  `app.py` builds lists exactly the allowed pages.
- Functions (SQLite and PostgreSQL): the table `CALLS` below says which roles may call what.
  Allowed roles succeed; the others get PermissionDenied and a "denied" entry in the audit log,
  and nothing else is written. A user of Enhed A is refused every write into Enhed B's rows.
- Reads: the figures, tables and lists of a leader of Enhed A are Enhed A's alone.

`test_every_function_that_acts_for_a_user_is_in_the_matrix` finds every public function that
takes an `actor`, so a new one cannot be left out of the table silently.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from fokus import (
    about,
    access,
    auditlog,
    auth,
    backup,
    citizen_record,
    dashboard,
    db,
    exchange,
    metrics,
    periods,
    queries,
    report,
    retention,
    screen,
    screen_access,
    selfreport,
    services,
    settings,
    targets,
    units,
)
from fokus.actor import ROLES, SYSTEM, Actor
from fokus.clock import now_utc, today
from fokus.errors import NotFoundError, PermissionDenied, ValidationError
from fokus.models import (
    AuditEvent,
    Course,
    Group,
    LoginSession,
    NetworkMeeting,
    OrsScore,
    Referral,
    SelfReportSession,
    SrsScore,
    Staff,
    Target,
    User,
)
from tests.apptest_helpers import ROOT, app_as
from tests.conftest import seeded_database

WRITERS = frozenset({"admin", "leader", "staff"})
ADMIN = frozenset({"admin"})
LEADERS = frozenset({"admin", "leader"})
ORS = {"individual": 40, "interpersonal": 50, "social": 35, "overall": 45}
SRS = {"relation": 90, "goals": 85, "approach": 90, "overall": 88}
# How many referrals and course starts each unit gets: different, so that a sum shows.
STARTS = {"Enhed A": 2, "Enhed B": 3}
DENIED_PAGE = "Din rolle giver ikke adgang til denne side."


# ---------------------------------------------------------------------------------------
# Two units with data in both

@dataclass(frozen=True)
class Rows:
    """One unit's rows that the calls below act on."""

    unit: int
    staff: int
    group: int
    waiting: int  # a referral on the waiting list
    course: int  # an open group course
    user: int  # a staff member's account
    citizen_ref: str  # the citizen of `course`


@dataclass(frozen=True)
class World:
    a: Rows
    b: Rows


def _fill_unit(session: Session, name: str) -> Rows:
    day = today()
    letter = name[-1]
    unit = services.create_unit(session, SYSTEM, name=name, municipality="Testkommune").id
    staff = services.add_staff(session, SYSTEM, unit_id=unit, name=f"Medarbejder {letter}", initials=f"M{letter}").id
    group = services.create_group(session, SYSTEM, unit_id=unit, name=f"Hold {letter}",
                                  start=day - timedelta(days=120)).id
    courses = []
    for number in range(STARTS[name]):
        referral = services.register_referral(
            session, SYSTEM, unit_id=unit, citizen_ref=f"{letter}-{number}", birth_year=1980,
            received=day - timedelta(days=100 - number), referrer="socialcenter", target_group="psychic",
        )
        course = services.start_course(
            session, SYSTEM, referral_id=referral.id, start=day - timedelta(days=90 - number),
            form="group" if number == 0 else "individual", group_id=group if number == 0 else None,
            contact_person_id=staff,
        )
        services.add_ors(session, SYSTEM, course_id=course.id, day=course.start, items=ORS)
        courses.append(course)
    services.end_course(session, SYSTEM, course_id=courses[-1].id, end=day - timedelta(days=5),
                        end_reason="completed", next_step="none")
    waiting = services.register_referral(
        session, SYSTEM, unit_id=unit, citizen_ref=f"{letter}-venter", birth_year=1990,
        received=day - timedelta(days=10), referrer="jobcenter", target_group="social",
    ).id
    user = auth.create_user(session, SYSTEM, login=f"medarbejder-{letter.lower()}@faxe.dk", role="staff",
                            password=None, unit_ids=[unit], staff_id=staff).id
    assert None not in (unit, staff, group, waiting, user)
    return Rows(unit, staff, group, waiting, courses[0].id, user, f"{letter}-0")  # type: ignore[arg-type]


def build_world(session: Session) -> World:
    return World(_fill_unit(session, "Enhed A"), _fill_unit(session, "Enhed B"))


def actor_of(role: str, world: World) -> Actor:
    """A user of Enhed A in this role (the administrator: of every unit)."""
    return Actor(f"{role}-a@faxe.dk", role, None if role == "admin" else frozenset({world.a.unit}))


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """Enhed A and Enhed B with their rows, in a fresh database (written once, copied for each test)."""
    with seeded_database(request, "authorization", build_world) as built:
        yield built


def events_since(first: int) -> list[tuple[str, str]]:
    with db.read_session() as session:
        rows = session.exec(select(AuditEvent).where(col(AuditEvent.id) > first).order_by(col(AuditEvent.id))).all()
        return [(row.action, row.user_login) for row in rows]


def last_event_id() -> int:
    with db.read_session() as session:
        return session.exec(select(AuditEvent.id).order_by(col(AuditEvent.id).desc())).first() or 0


# ---------------------------------------------------------------------------------------
# The matrix of functions

Run = Callable[[Session, Actor, Rows], object]


@dataclass(frozen=True)
class Call:
    roles: frozenset[str]  # who may call it
    run: Run  # a call that succeeds for them, on one unit's rows
    unit_rows: bool = True  # it acts on one unit's rows: a user of Enhed A is refused Enhed B's


def _calls() -> dict[str, Call]:
    day = today()
    return {
        "services.create_unit": Call(ADMIN, lambda s, a, r: services.create_unit(
            s, a, name="Enhed C", municipality="Testkommune"), unit_rows=False),
        "services.set_targets": Call(LEADERS, lambda s, a, r: services.set_targets(
            s, a, unit_id=r.unit, valid_from=day, intake_min=100, intake_max=140)),
        "services.delete_targets": Call(LEADERS, lambda s, a, r: services.delete_targets(
            s, a, target_id=s.exec(select(Target.id).where(Target.unit_id == r.unit)).one(), expected_version=None)),
        "services.add_staff": Call(WRITERS, lambda s, a, r: services.add_staff(
            s, a, unit_id=r.unit, name="Ny Medarbejder", initials="NM")),
        "services.create_group": Call(WRITERS, lambda s, a, r: services.create_group(
            s, a, unit_id=r.unit, name="Nyt hold", start=day + timedelta(days=14))),
        "services.add_group_session": Call(WRITERS, lambda s, a, r: services.add_group_session(
            s, a, group_id=r.group, day=day, present_course_ids=[r.course])),
        "services.register_referral": Call(WRITERS, lambda s, a, r: services.register_referral(
            s, a, unit_id=r.unit, citizen_ref="NY-1", birth_year=1985, received=day, referrer="other",
            target_group="physical")),
        "services.decide_referral": Call(WRITERS, lambda s, a, r: services.decide_referral(
            s, a, referral_id=r.waiting, status="rejected", decided=day, reason="outside_target_group")),
        "services.start_course": Call(WRITERS, lambda s, a, r: services.start_course(
            s, a, referral_id=r.waiting, start=day, form="individual")),
        "services.end_course": Call(WRITERS, lambda s, a, r: services.end_course(
            s, a, course_id=r.course, end=day, end_reason="completed", next_step="job")),
        "services.add_ors": Call(WRITERS, lambda s, a, r: services.add_ors(
            s, a, course_id=r.course, day=day, items=ORS)),
        "services.add_srs": Call(WRITERS, lambda s, a, r: services.add_srs(
            s, a, course_id=r.course, day=day, items=SRS)),
        "services.add_network_meeting": Call(WRITERS, lambda s, a, r: services.add_network_meeting(
            s, a, course_id=r.course, day=day, participants=4)),
        **_correction_calls(day),
        **_selfreport_calls(),
        "auth.create_user": Call(ADMIN, lambda s, a, r: auth.create_user(
            s, a, login="ny@faxe.dk", role="staff", password=None, unit_ids=[r.unit]), unit_rows=False),
        "auth.update_user": Call(ADMIN, lambda s, a, r: auth.update_user(
            s, a, user_id=r.user, role="leader", unit_ids=[r.unit], staff_id=None, active=True), unit_rows=False),
        "auth.reset_password": Call(ADMIN, lambda s, a, r: auth.reset_password(
            s, a, user_id=r.user, password="en-helt-ny-kode-77"), unit_rows=False),
        "auth.list_users": Call(ADMIN, lambda s, a, r: auth.list_users(s, a), unit_rows=False),
        "settings.put": Call(ADMIN, lambda s, a, r: settings.put(s, a, "idle_timeout_minutes", 20), unit_rows=False),
        "settings.put_for_unit": Call(LEADERS, lambda s, a, r: settings.put_for_unit(s, a, r.unit, "screen_dark", 1)),
        "auditlog.search": Call(LEADERS, lambda s, a, r: auditlog.search(s, a, citizen_ref=r.citizen_ref),
                                unit_rows=False),
        "auditlog.citizen_extract": Call(LEADERS, lambda s, a, r: auditlog.citizen_extract(
            s, a, r.unit, r.citizen_ref)),
        "auditlog.retention": Call(LEADERS, lambda s, a, r: auditlog.retention(s, a, now_utc()), unit_rows=False),
        "auditlog.purge": Call(LEADERS, lambda s, a, r: auditlog.purge(s, a, now_utc()), unit_rows=False),
        "retention.due_citizens": Call(ADMIN, lambda s, a, r: retention.due_citizens(s, a, today()),
                                       unit_rows=False),
        "retention.delete_due": Call(ADMIN, lambda s, a, r: retention.delete_due(s, a, today(), []),
                                     unit_rows=False),
        "retention.apply_register": Call(ADMIN, lambda s, a, r: retention.apply_register(s, a, {}),
                                         unit_rows=False),
        **_screen_calls(),
    }


def _screen_calls() -> dict[str, Call]:
    """The meeting screen (issue 6): its settings and its access, for leaders of the screen's unit."""

    def screen_user(s: Session, r: Rows) -> int:  # made by the system in the same transaction
        return auth.create_user(s, SYSTEM, login=f"skaerm-{r.unit}@faxe.dk", role="screen", password=None,
                                unit_ids=[r.unit]).id

    return {
        "screen.save_settings": Call(LEADERS, lambda s, a, r: screen.save_settings(
            s, a, unit_id=r.unit, slide_seconds=7, dark=True, chosen=["intake"])),
        "screen_access.screen_users": Call(LEADERS, lambda s, a, r: screen_access.screen_users(s, a),
                                           unit_rows=False),
        "screen_access.revoke": Call(LEADERS, lambda s, a, r: screen_access.revoke(s, a, user_id=screen_user(s, r))),
        "screen_access.renew": Call(LEADERS, lambda s, a, r: screen_access.renew(s, a, user_id=screen_user(s, r))),
    }


def _row(session: Session, model: type, row_id: int) -> Any:
    row = session.get(model, row_id)
    assert row is not None
    return row


def _citizen_of_waiting(session: Session, r: Rows) -> int:
    return _row(session, Referral, r.waiting).citizen_id


def _course_fields(session: Session, r: Rows, **changes: Any) -> dict[str, Any]:
    course = _row(session, Course, r.course)
    return {"ref": course.ref, "start": course.start, "form": course.form, "group_id": course.group_id,
            "contact_person_id": course.contact_person_id, "end": course.end, "end_reason": course.end_reason,
            "next_step": course.next_step, **changes}


def _first(session: Session, model: Any, course_id: int) -> Any:
    return session.exec(select(model).where(model.course_id == course_id).order_by(col(model.id))).first()


def _correction_calls(day: Any) -> dict[str, Call]:
    """Quick data entry's corrections (issue 4): each run by a writer of the rows' unit."""

    def ors(s: Session, r: Rows) -> OrsScore:
        return _first(s, OrsScore, r.course)

    def srs(s: Session, r: Rows) -> SrsScore:  # the world has none: made by the system in the same transaction
        return services.add_srs(s, SYSTEM, course_id=r.course, day=day, items=SRS)

    def meeting(s: Session, r: Rows) -> NetworkMeeting:
        return services.add_network_meeting(s, SYSTEM, course_id=r.course, day=day, participants=3)

    def rejected(s: Session, r: Rows) -> int:
        return services.decide_referral(s, SYSTEM, referral_id=r.waiting, status="rejected", decided=day,
                                        reason="declined").id

    def ended(s: Session, r: Rows) -> int:
        return services.end_course(s, SYSTEM, course_id=r.course, end=day, end_reason="completed").id

    def duplicate(s: Session, r: Rows) -> int:
        return services.register_referral(s, SYSTEM, unit_id=r.unit, citizen_ref="DUBLET", birth_year=1980,
                                          received=day, referrer="other", target_group="social").citizen_id

    return {
        "services.update_citizen": Call(WRITERS, lambda s, a, r: services.update_citizen(
            s, a, citizen_id=_citizen_of_waiting(s, r), expected_version=None, ref="NY-REF", birth_year=1990)),
        "services.update_referral": Call(WRITERS, lambda s, a, r: services.update_referral(
            s, a, referral_id=r.waiting, expected_version=None, received=day - timedelta(days=9), referrer="other",
            target_group="social", from_sel85=False, age_note=None)),
        "services.delete_referral": Call(WRITERS, lambda s, a, r: services.delete_referral(
            s, a, referral_id=r.waiting, expected_version=None)),
        "services.reopen_referral": Call(WRITERS, lambda s, a, r: services.reopen_referral(
            s, a, referral_id=rejected(s, r), expected_version=None)),
        "services.update_course": Call(WRITERS, lambda s, a, r: services.update_course(
            s, a, course_id=r.course, expected_version=None, **_course_fields(s, r, ref="RETTET"))),
        "services.delete_course": Call(WRITERS, lambda s, a, r: services.delete_course(
            s, a, course_id=r.course, expected_version=None)),
        "services.reopen_course": Call(WRITERS, lambda s, a, r: services.reopen_course(
            s, a, course_id=ended(s, r), expected_version=None)),
        "services.merge_citizens": Call(WRITERS, lambda s, a, r: services.merge_citizens(
            s, a, keep_citizen_id=_row(s, Course, r.course).citizen_id, merge_citizen_id=duplicate(s, r))),
        "services.start_group_courses": Call(WRITERS, lambda s, a, r: services.start_group_courses(
            s, a, group_id=r.group, referral_ids=[r.waiting], start=day, contact_person_id=r.staff)),
        "services.move_courses": Call(WRITERS, lambda s, a, r: services.move_courses(
            s, a, course_ids=[r.course], to_staff_id=r.staff)),
        "services.record_group_session": Call(WRITERS, lambda s, a, r: services.record_group_session(
            s, a, group_id=r.group, day=day, present_course_ids=[r.course], scores={r.course: ORS})),
        "services.update_staff": Call(WRITERS, lambda s, a, r: services.update_staff(
            s, a, staff_id=r.staff, expected_version=None, name="Omdøbt", initials=_row(s, Staff, r.staff).initials,
            active=True, max_active_courses=10)),
        "services.update_group": Call(WRITERS, lambda s, a, r: services.update_group(
            s, a, group_id=r.group, expected_version=None, name="Omdøbt hold", theme="",
            start=_row(s, Group, r.group).start, end=None, capacity=12)),
        "services.update_ors": Call(WRITERS, lambda s, a, r: services.update_ors(
            s, a, score_id=ors(s, r).id, expected_version=None, day=day, items=ORS, session_no=None)),
        "services.delete_ors": Call(WRITERS, lambda s, a, r: services.delete_ors(
            s, a, score_id=ors(s, r).id, expected_version=None)),
        "services.update_srs": Call(WRITERS, lambda s, a, r: services.update_srs(
            s, a, score_id=srs(s, r).id, expected_version=None, day=day, items=SRS, session_no=None)),
        "services.delete_srs": Call(WRITERS, lambda s, a, r: services.delete_srs(
            s, a, score_id=srs(s, r).id, expected_version=None)),
        "services.update_network_meeting": Call(WRITERS, lambda s, a, r: services.update_network_meeting(
            s, a, meeting_id=meeting(s, r).id, expected_version=None, day=day, participants=5)),
        "services.delete_network_meeting": Call(WRITERS, lambda s, a, r: services.delete_network_meeting(
            s, a, meeting_id=meeting(s, r).id, expected_version=None)),
    }


def _signed_in(session: Session, actor: Actor) -> tuple[Actor, str]:
    """The actor as a signed-in user with a PIN: the actor with its user id, and its login session's token."""
    user = User(login=actor.login, role=actor.role, pin_hash=auth.hash_password("2580"))
    session.add(user)
    session.flush()
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id))
    return replace(actor, user_id=user.id), token


def _selfreport_calls() -> dict[str, Call]:
    """The tablet self-report: the PIN is the user's own; opening and saving act on a course's unit."""

    def opened(s: Session, a: Actor, r: Rows) -> SelfReportSession:
        actor, token = _signed_in(s, a)
        return selfreport.open_mode(s, actor, course_id=r.course, login_token=token)

    def saved(s: Session, a: Actor, r: Rows) -> OrsScore:
        # The login session is in self-report mode for the course (as `open_mode` leaves it):
        # saving the citizen's ORS still needs the right to write into the course's unit.
        actor, token = _signed_in(s, a)
        now = now_utc()
        s.add(SelfReportSession(code_hash=secrets.token_hex(32), course_id=r.course, created_by=actor.user_id,
                                login_token_hash=hashlib.sha256(token.encode()).hexdigest(), created=now,
                                expires=now + timedelta(minutes=selfreport.OPEN_MINUTES)))
        s.flush()
        return selfreport.save_ors(s, actor, login_token=token, items=ORS)

    return {
        "selfreport.set_pin": Call(WRITERS, lambda s, a, r: selfreport.set_pin(
            s, _signed_in(s, a)[0], pin="3691", repeated="3691"), unit_rows=False),
        "selfreport.open_mode": Call(WRITERS, opened),
        "selfreport.open_code": Call(WRITERS, lambda s, a, r: selfreport.open_code(
            s, _signed_in(s, a)[0], course_id=r.course)),
        "selfreport.save_ors": Call(WRITERS, saved),
        "selfreport.code_progress": Call(WRITERS, lambda s, a, r: selfreport.code_progress(
            s, _signed_in(s, a)[0], course_id=r.course, code="ABCD2345")),
    }


def _backup_and_report_calls() -> dict[str, Call]:
    """Issue 7: backup and restore (administrators of every unit, each on a scratch file), the note."""

    def backed_up(a: Actor) -> object:
        with tempfile.TemporaryDirectory() as folder:
            return backup.backup(a, Path(folder) / "kopi")

    def restored(a: Actor) -> object:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "kopi"
            if a.role == "admin":  # the others are refused before the file is looked at
                backup.backup(SYSTEM, path)
            return backup.restore(a, path)

    return {
        "backup.backup": Call(ADMIN, lambda s, a, r: backed_up(a), unit_rows=False),
        "backup.download": Call(ADMIN, lambda s, a, r: backup.download(a), unit_rows=False),
        "backup.restore": Call(ADMIN, lambda s, a, r: restored(a), unit_rows=False),
        # The committee note: a leader's of their own unit (a leader of Enhed A is refused Enhed B's)
        "report.note": Call(LEADERS, lambda s, a, r: report.note(s, a, periods.rolling_12_months(today()), r.unit)),
    }


def _exchange_calls() -> dict[str, Call]:
    """Import and export (issue 7): leaders and administrators of the unit, on a one-referral workbook."""

    def workbook() -> exchange.Workbook:
        header, columns = ";".join(exchange.SHEETS["henvisninger"]), ";".join(exchange.SHEETS["forloeb"])
        row = f"NY-IMPORT;1980;psykisk;socialcenter;{today():%d.%m.%Y};nej;venter;;"
        return exchange.read_workbook({"henvisninger.csv": f"{header}\n{row}\n".encode(),
                                       "forloeb.csv": columns.encode()})

    return {
        "exchange.check": Call(LEADERS, lambda s, a, r: exchange.check(s, a, workbook(), r.unit)),
        "exchange.apply": Call(LEADERS, lambda s, a, r: exchange.apply(
            s, a, exchange.check(s, SYSTEM, workbook(), r.unit))),
        "exchange.import_workbook": Call(LEADERS, lambda s, a, r: exchange.import_workbook(s, a, workbook(), r.unit)),
        "exchange.export_sheets": Call(LEADERS, lambda s, a, r: exchange.export_sheets(s, a, r.unit)),
        "exchange.export": Call(LEADERS, lambda s, a, r: exchange.export(s, a, r.unit)),
        "exchange.dst_monthly": Call(LEADERS, lambda s, a, r: exchange.dst_monthly(
            s, a, r.unit, today().year, today().month)),
    }


CALLS = {**_calls(), **_backup_and_report_calls(), **_exchange_calls()}

# The dashboard's series (fokus.metrics, issue 5): each a read scoped like compute_kpis.
DASHBOARD_SERIES = ("load_over_time", "group_share_by_quarter", "ors_pairs_frame", "ors_by_session",
                    "duration_histogram", "referrals_by_month", "next_steps", "group_activity")
# Functions that take an actor without a role of their own to check: reads scoped to the
# actor's units (each tested for Enhed A alone below), and two that are no permission at all.
SCOPED_READS = {"metrics.compute_kpis", "metrics.monthly_starts", "about.targets_table", "auditlog.extract_units",
                *(f"metrics.{name}" for name in DASHBOARD_SERIES),
                "units.visible_units", "targets.targets_history",
                *(f"queries.{name}" for name in ("waiting_list", "active_courses", "course_detail", "ors_series",
                                                 "find_citizens", "staff_load", "groups_overview", "group_members"))}
# The meeting screen's settings: those of the actor's first unit, or the installation-wide ones.
SCOPED_READS |= {"screen.settings_of", "screen.settings_unit", "screen.settings_for"}
# Overblik's content (fokus.dashboard): reads scoped like compute_kpis; `visible_unit_ids` computes that scope.
SCOPED_READS |= {"dashboard.build", "dashboard.needs_action", "dashboard.course_actions", "dashboard.referral_actions",
                 "dashboard.first_data_day", "dashboard.contact_people",
                 "metrics.visible_unit_ids"}
NOT_A_PERMISSION = {
    "auth.logout",  # ends the caller's own session, known by its token
    "audit.record",  # writes the audit entry of what the actor did
    "selfreport.has_pin",  # asks whether the caller's own account has a PIN
    "selfreport.leave",  # ends the self-report mode of the caller's own login session, with the caller's own PIN
}
# Reads that take the acting user's `Actor.unit_ids` instead of the actor: each is tested below
# to stay inside the units it is given.
UNIT_ID_READS = {"citizen_record.citizen_record", "metrics.targets_for"}
# Upkeep with no user behind it (the migration that added the summaries, bench/): it recomputes
# stored figures of the units it is given (tests/test_summaries.py) and shows nobody anything.
UNIT_ID_UPKEEP = {"summaries.rebuild"}
# The page check itself and the browser session: the page matrix below tests them.
PAGE_MODULES = {"access", "signin", "ui"}


def _takes_actor(function: Callable[..., Any]) -> bool:
    return "actor" in inspect.signature(function).parameters


def test_every_function_that_acts_for_a_user_is_in_the_matrix() -> None:
    import fokus

    found = set()
    for path in sorted(Path(fokus.__file__).parent.glob("*.py")):
        if path.stem.startswith("_") or path.stem in PAGE_MODULES:
            continue
        module = importlib.import_module(f"fokus.{path.stem}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_") and _takes_actor(function):
                found.add(f"{path.stem}.{name}")
    listed = set(CALLS) | SCOPED_READS | NOT_A_PERMISSION
    assert found - listed == set(), "functions that act for a user but are missing from the authorization matrix"
    assert listed - found == set(), "the matrix names functions that do not exist (or take no actor)"


def test_every_read_scoped_by_unit_ids_instead_of_an_actor_is_listed() -> None:
    import fokus

    found = set()
    for path in sorted(Path(fokus.__file__).parent.glob("*.py")):
        if path.stem.startswith("_") or path.stem in PAGE_MODULES:
            continue
        module = importlib.import_module(f"fokus.{path.stem}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            parameters = inspect.signature(function).parameters
            if (function.__module__ == module.__name__ and not name.startswith("_") and "unit_ids" in parameters
                    and "actor" not in parameters):
                found.add(f"{path.stem}.{name}")
    assert found == UNIT_ID_READS | UNIT_ID_UPKEEP


def test_every_public_service_function_takes_session_and_actor_and_is_in_the_matrix() -> None:
    public = {name: function for name, function in inspect.getmembers(services, inspect.isfunction)
              if function.__module__ == services.__name__ and not name.startswith("_")}
    for name, function in public.items():
        assert list(inspect.signature(function).parameters)[:2] == ["session", "actor"], name
    assert set(public) == {name.split(".")[1] for name in CALLS if name.startswith("services.")}


ALLOWED = [(name, role) for name, call in CALLS.items() for role in ROLES if role in call.roles]
FORBIDDEN = [(name, role) for name, call in CALLS.items() for role in ROLES if role not in call.roles]
ACROSS_UNITS = [(name, role) for name, call in CALLS.items() if call.unit_rows
                for role in ("leader", "staff") if role in call.roles]


def test_the_matrix_covers_every_role() -> None:
    assert set(ROLES) == {"admin", "leader", "staff", "screen"}
    assert len(ALLOWED) + len(FORBIDDEN) == len(CALLS) * len(ROLES)
    assert all(("admin" in call.roles) for call in CALLS.values()), "an administrator may do everything"
    # The meeting screen calls nothing that acts for a user (each refused and logged: FORBIDDEN)
    assert [name for name, call in CALLS.items() if "screen" in call.roles] == []


@pytest.mark.parametrize(("name", "role"), ALLOWED)
def test_an_allowed_role_may_call(name: str, role: str, world: World) -> None:
    actor = actor_of(role, world)
    first = last_event_id()
    with db.write_session() as session:
        CALLS[name].run(session, actor, world.a)
    assert ("denied", actor.login) not in events_since(first)


@pytest.mark.parametrize(("name", "role"), FORBIDDEN)
def test_a_forbidden_role_is_refused_and_the_refusal_is_logged(name: str, role: str, world: World) -> None:
    actor = actor_of(role, world)
    first = last_event_id()
    with pytest.raises(PermissionDenied), db.write_session() as session:
        CALLS[name].run(session, actor, world.a)
    assert events_since(first) == [("denied", actor.login)]  # and nothing of the refused call is kept


@pytest.mark.parametrize(("name", "role"), ACROSS_UNITS)
def test_a_user_of_enhed_a_is_refused_every_write_into_enhed_b(name: str, role: str, world: World) -> None:
    actor = actor_of(role, world)
    first = last_event_id()
    with pytest.raises(PermissionDenied), db.write_session() as session:
        CALLS[name].run(session, actor, world.b)
    assert events_since(first) == [("denied", actor.login)]


def test_an_administrator_writes_into_either_unit(world: World) -> None:
    for rows in (world.a, world.b):
        with db.write_session() as session:
            services.add_ors(session, actor_of("admin", world), course_id=rows.course, day=today(), items=ORS)


@pytest.mark.parametrize("role", ["admin", "leader", "staff"])
def test_enhed_a_rows_cannot_point_at_enhed_b_rows(role: str, world: World) -> None:
    actor, a, b = actor_of(role, world), world.a, world.b
    attempts: list[Callable[[Session], object]] = [
        lambda s: services.start_course(s, actor, referral_id=a.waiting, start=today(), form="group", group_id=b.group),
        lambda s: services.start_course(s, actor, referral_id=a.waiting, start=today(), form="individual",
                                        contact_person_id=b.staff),
        lambda s: services.add_group_session(s, actor, group_id=a.group, day=today(), present_course_ids=[b.course]),
        lambda s: services.update_course(s, actor, course_id=a.course, expected_version=None,
                                         **_course_fields(s, a, group_id=b.group)),
        lambda s: services.update_course(s, actor, course_id=a.course, expected_version=None,
                                         **_course_fields(s, a, contact_person_id=b.staff)),
        lambda s: services.record_group_session(s, actor, group_id=a.group, day=today(),
                                                present_course_ids=[b.course], scores={}),
    ]
    if role == "admin":  # the administrator may write into both units: what stops these is the rule itself
        attempts += [
            lambda s: services.start_group_courses(s, actor, group_id=a.group, referral_ids=[b.waiting],
                                                   start=today(), contact_person_id=None),
            lambda s: services.move_courses(s, actor, course_ids=[a.course], to_staff_id=b.staff),
            lambda s: services.merge_citizens(s, actor, keep_citizen_id=_citizen_of_waiting(s, a),
                                              merge_citizen_id=_citizen_of_waiting(s, b)),
        ]
    first = last_event_id()
    for attempt in attempts:
        with pytest.raises(ValidationError), db.write_session() as session:
            attempt(session)
    assert events_since(first) == []


def test_a_user_cannot_be_linked_to_a_staff_member_of_another_unit(world: World) -> None:
    with pytest.raises(ValidationError, match="medarbejder fra en af brugerens enheder"), \
            db.write_session() as session:
        auth.create_user(session, actor_of("admin", world), login="ny@faxe.dk", role="staff", password=None,
                         unit_ids=[world.a.unit], staff_id=world.b.staff)


# ---------------------------------------------------------------------------------------
# Reads: a leader of Enhed A sees Enhed A

def _kpis(actor: Actor, unit_ids: list[int] | None = None) -> dict[str, Any]:
    end = today()
    with db.read_session() as session:
        return metrics.compute_kpis(session, actor, end - timedelta(days=364), end, unit_ids)


def test_a_leader_of_enhed_a_gets_the_figures_of_enhed_a_alone(world: World) -> None:
    leader = actor_of("leader", world)
    mine, a, b = _kpis(leader), _kpis(SYSTEM, [world.a.unit]), _kpis(SYSTEM, [world.b.unit])
    assert mine == a != b
    assert (mine["referrals"], mine["courses_started"], mine["intake_12m"]) == (3, 2, 2)
    assert (b["referrals"], b["courses_started"], b["intake_12m"]) == (4, 3, 3)
    assert _kpis(actor_of("admin", world))["intake_12m"] == 5
    asked_for_b = _kpis(leader, [world.b.unit])
    assert (asked_for_b["referrals"], asked_for_b["intake_12m"], asked_for_b["capacity"]) == (0, 0, 0)


def test_the_screen_settings_a_leader_reads_and_saves_are_of_enhed_a_alone(world: World) -> None:
    leader = actor_of("leader", world)
    with db.write_session() as session:
        settings.put_for_unit(session, SYSTEM, world.b.unit, "screen_slide_seconds", 40)
        screen.save_settings(session, leader, unit_id=world.a.unit, slide_seconds=9, dark=True, chosen=["ors"])
    with db.read_session() as session:
        assert screen.settings_of(session, leader) == screen.ScreenSettings(9, True, ("ors",))
        b_screen = Actor("skaerm-b@faxe.dk", "screen", frozenset({world.b.unit}))
        assert screen.settings_of(session, b_screen) == screen.ScreenSettings(40, False, tuple(screen.SLIDES))
        assert screen.settings_of(session, actor_of("admin", world)) == screen.ScreenSettings(15, False,
                                                                                                tuple(screen.SLIDES))
        with pytest.raises(PermissionDenied):
            screen.settings_for(session, leader, world.b.unit)
    with pytest.raises(PermissionDenied), db.write_session() as session:  # the installation-wide ones: administrators
        screen.save_settings(session, leader, unit_id=None, slide_seconds=9, dark=True, chosen=["ors"])


def test_the_monthly_starts_and_the_targets_of_a_leader_are_of_enhed_a_alone(world: World) -> None:
    leader = actor_of("leader", world)
    end = today()
    with db.read_session() as session:
        starts = metrics.monthly_starts(session, leader, end - timedelta(days=364), end)
        everyone = metrics.monthly_starts(session, SYSTEM, end - timedelta(days=364), end)
        targets = about.targets_table(session, leader, end)
    assert sum(count for _, count, _ in starts) == 2
    assert sum(count for _, count, _ in everyone) == 5
    assert targets and {row["Enhed"] for row in targets} == {"Enhed A"}


def test_the_dashboard_series_of_a_leader_are_of_enhed_a_alone(world: World) -> None:
    with db.write_session() as session:  # a second ORS on Enhed B's ended course: B has an ORS pair, A none
        ended_b = session.exec(select(Course).where(Course.unit_id == world.b.unit, col(Course.end).is_not(None))).one()
        services.add_ors(session, SYSTEM, course_id=ended_b.id, day=ended_b.end, items=ORS)
    leader, end = actor_of("leader", world), today()
    start = end - timedelta(days=364)
    with db.read_session() as session:
        for name in DASHBOARD_SERIES:
            series = getattr(metrics, name)
            mine = series(session, leader, start, end)
            assert mine.equals(series(session, SYSTEM, start, end, [world.a.unit])), name
            assert not mine.equals(series(session, SYSTEM, start, end)), name
            assert series(session, leader, start, end, [world.b.unit]).equals(
                series(session, SYSTEM, start, end, [])), name  # asking for Enhed B gives nothing
        a = {name: getattr(metrics, name)(session, leader, start, end) for name in DASHBOARD_SERIES}
    # Enhed A: A-0 (group, open) and A-1 (individual, 84 days, ended 5 days ago), one ORS of 17 each; A-venter waits
    assert list(a["load_over_time"].iloc[-1])[1:] == [1, 1, 15]
    assert (a["group_share_by_quarter"]["starts"].sum(), a["group_share_by_quarter"]["group_starts"].sum()) == (2, 1)
    assert a["ors_pairs_frame"].empty
    assert list(a["ors_by_session"].itertuples(index=False, name=None)) == [(1, 2, 17.0, 17.0, 17.0)]
    assert dict(zip(a["duration_histogram"]["weeks_from"], a["duration_histogram"]["courses"], strict=True))[12] == 1
    referrals = a["referrals_by_month"]
    assert referrals[referrals["dimension"] == "referrer"]["count"].sum() == 3
    assert list(a["next_steps"]["courses"]) == [1, 0, 0, 0, 0, 0]
    assert list(a["group_activity"].itertuples(index=False, name=None)) == [("Hold A", 10, 1, 0, None)]


def test_a_leader_reads_the_target_history_of_enhed_a_alone(world: World) -> None:
    with db.read_session() as session:
        assert [row.unit_id for row in targets.targets_history(session, actor_of("leader", world), world.a.unit)] == [
            world.a.unit]
        with pytest.raises(PermissionDenied):
            targets.targets_history(session, actor_of("leader", world), world.b.unit)


def test_a_leader_makes_audit_extracts_for_enhed_a_alone(world: World) -> None:
    with db.read_session() as session:
        assert auditlog.extract_units(session, actor_of("leader", world)) == {world.a.unit: "Enhed A"}
        assert set(auditlog.extract_units(session, actor_of("admin", world))) == {world.a.unit, world.b.unit}


def test_the_entry_pages_lists_for_a_leader_of_enhed_a_are_of_enhed_a_alone(world: World) -> None:
    leader, b = actor_of("leader", world), world.b
    day = today()
    with db.read_session() as session:
        assert [w.citizen_ref for w in queries.waiting_list(session, leader, today=day)] == ["A-venter"]
        assert {c.citizen_ref for c in queries.active_courses(session, leader, today=day)} == {"A-0"}
        assert [x.initials for x in queries.staff_load(session, leader, today=day)] == ["MA"]
        assert [g.name for g in queries.groups_overview(session, leader, today=day)] == ["Hold A"]
        assert {h.ref for h in queries.find_citizens(session, leader, text="-", seen=set())} == {
            "A-0", "A-1", "A-venter"}
        refused = [
            lambda: queries.course_detail(session, leader, course_id=b.course, seen=set()),
            lambda: queries.ors_series(session, leader, course_id=b.course),
            lambda: queries.group_members(session, leader, group_id=b.group, day=day),
        ]
        for read in refused:
            with pytest.raises(PermissionDenied):
                read()


def test_a_user_of_enhed_a_sees_the_units_and_citizen_records_of_enhed_a_alone(world: World) -> None:
    leader, a, b = actor_of("leader", world), world.a, world.b
    with db.write_session() as session:
        services.set_targets(session, SYSTEM, unit_id=b.unit, valid_from=today(), intake_min=100, intake_max=140)
    with db.read_session() as session:
        assert units.visible_units(session, leader) == {a.unit: "Enhed A"}
        assert units.visible_units(session, actor_of("admin", world)) == {a.unit: "Enhed A", b.unit: "Enhed B"}
        mine = citizen_record.citizen_record(session, citizen_id=_citizen_of_waiting(session, a),
                                             unit_ids=leader.unit_ids)
        assert (mine.ref, [row.status for row in mine.referrals]) == ("A-venter", ["waiting"])
        with pytest.raises(NotFoundError):
            citizen_record.citizen_record(session, citizen_id=_citizen_of_waiting(session, b),
                                          unit_ids=leader.unit_ids)
        targets = metrics.targets_for(session, leader.unit_ids, today())
        assert targets == metrics.targets_for(session, [a.unit], today()) != metrics.targets_for(
            session, [b.unit], today())


# ---------------------------------------------------------------------------------------
# The matrix of pages (AppTest, SQLite)

@pytest.fixture(scope="module")
def page_world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, World]]:
    path = tmp_path_factory.mktemp("authorization") / "fokus.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    with db.write_session(db.engine_for(url)) as session:
        built = build_world(session)
    yield url, built
    db.dispose_all()


@pytest.fixture
def pages_db(page_world: tuple[str, World], monkeypatch: pytest.MonkeyPatch) -> World:
    url, built = page_world
    monkeypatch.setenv("DATABASE_URL", url)
    return built


def _as_user_of_a(role: str, page: str | None = None) -> AppTest:
    """The app for a user of Enhed A in this role, signed in through a real login session."""
    return app_as(f"side-{role}@faxe.dk", role, page, ["Enhed A"])


def _no_error(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


PAGE_ALLOWED = [(page.key, role) for page in access.PAGES for role in ROLES if role in page.roles]
PAGE_FORBIDDEN = [(page.key, role) for page in access.PAGES for role in ROLES if role not in page.roles]


@pytest.mark.parametrize(("key", "role"), PAGE_ALLOWED)
def test_an_allowed_page_runs_without_an_error(key: str, role: str, pages_db: World) -> None:
    at = _as_user_of_a(role, access.BY_KEY[key].path)
    _no_error(at)
    assert at.title, "the page shows nothing"


@pytest.mark.parametrize(("key", "role"), PAGE_FORBIDDEN)
def test_a_forbidden_page_refuses_and_logs_the_refusal_once(key: str, role: str, pages_db: World) -> None:
    actor = Actor(f"nej-{role}-{key}@faxe.dk", role, frozenset({pages_db.a.unit}))
    at = AppTest.from_file(str(ROOT / access.BY_KEY[key].path), default_timeout=60)
    at.session_state["fokus_actor"] = actor
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [DENIED_PAGE]
    assert not at.title and not at.metric and not at.dataframe
    at.run()  # Streamlit reruns a page on every click: one entry per session and page is enough
    with db.read_session() as session:
        denied = session.exec(select(AuditEvent).where(AuditEvent.user_login == actor.login)).all()
    assert [(e.action, e.detail) for e in denied] == [("denied", f"side {key}")]


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_lists_exactly_the_pages_the_role_may_open(role: str, pages_db: World) -> None:
    at = _as_user_of_a(role)
    _no_error(at)
    allowed = {page.path for page in access.PAGES if role in page.roles}
    registered = set()
    for path in sorted((ROOT / "pages").glob("*.py")):
        relative = f"pages/{path.name}"
        try:
            at.switch_page(relative)
        except ValueError:  # "Could not find a navigation page"
            continue
        registered.add(relative)
    assert registered == allowed
    assert allowed == {page.path for page in access.pages_for(Actor("x", role, frozenset()))}
    if role == "screen":  # the meeting screen alone, without a menu or a logout button
        assert allowed == {"pages/moedeskaerm.py"}
        assert not at.info and not at.button and not at.sidebar.children


@pytest.mark.parametrize(
    ("login", "role", "units", "intake"),
    [("overblik-leder-a@faxe.dk", "leader", ["Enhed A"], "2"),
     ("overblik-leder-b@faxe.dk", "leader", ["Enhed B"], "3"),
     ("overblik-medarbejder-a@faxe.dk", "staff", ["Enhed A"], "2"),
     ("overblik-admin@faxe.dk", "admin", None, "5")],
)
def test_overblik_shows_the_intake_of_the_users_own_units(login: str, role: str, units: list[str] | None,
                                                          intake: str, pages_db: World) -> None:
    at = app_as(login, role, "pages/overblik.py", units)
    _no_error(at)
    figures = {metric.label: metric.value for metric in at.metric}
    assert figures["Tilgang, 12 måneder"] == intake


def test_overblik_content_of_a_leader_is_of_enhed_a_alone(world: World) -> None:
    leader, end = actor_of("leader", world), today()
    period = periods.rolling_12_months(end)
    with db.read_session() as session:
        view = dashboard.build(session, leader, period)
        assert view.figures == metrics.compute_kpis(session, SYSTEM, period.start, end, [world.a.unit])
        assert view.figures != metrics.compute_kpis(session, SYSTEM, period.start, end)
        asked_for_b = dashboard.build(session, leader, period, [world.b.unit])
        assert asked_for_b.figures["courses_started"] == 0 and asked_for_b.figures["referrals"] == 0
        assert {item.unit_id for item in dashboard.needs_action(session, SYSTEM, today=end)} == {
            world.a.unit, world.b.unit}
        assert {item.unit_id for item in dashboard.needs_action(session, leader, today=end)} == {world.a.unit}
        assert dashboard.needs_action(session, leader, today=end, unit_ids=[world.b.unit]) == []
        assert list(dashboard.contact_people(session, leader).values()) == ["Medarbejder A (MA)"]
        assert dashboard.contact_people(session, leader, [world.b.unit]) == {}
        assert dashboard.first_data_day(session, leader, [world.b.unit]) is None
        assert dashboard.first_data_day(session, leader) is not None
        assert metrics.visible_unit_ids(leader, [world.a.unit, world.b.unit]) == frozenset({world.a.unit})
