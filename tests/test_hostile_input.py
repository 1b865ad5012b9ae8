"""Hostile input (issue 9): every public write function and the workbook import, with hypothesis.

Each example builds a small world of its own through the service functions (a unit's staff, a
group, citizens with a course, scores, a waiting and a rejected referral, an ended course), then
calls one service function:

- with random VALID values for its parameters: the call must succeed and a fresh read session must
  read back what was given;
- with one HOSTILE value in one parameter (huge strings, control characters, SQL and HTML
  fragments, CPR-like numbers, far dates, NaN/inf, negative and huge numbers, wrong types): the
  call must be refused with a `fokus.errors` error carrying a Danish message, no table may change
  (row counts of every table, the audit log included) — or, where the value is legitimately free
  text (SQL or HTML fragments are just characters), it is stored and reads back equal.

`SPECS` names every public function of `fokus.services`; `test_every_public_write_function_is_driven`
fails when one is added without being driven here. On SQLite and PostgreSQL (PostgreSQL rejects
NUL in text, SQLite does not: the service layer must refuse it before either sees it).
The import is driven the same way with hostile cells (`test_import_hostile_cells`), and the pages
are checked to show stored names as text, never as Markdown or HTML (`test_pages_show_names_as_text`).
"""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select

from fokus import codes, db, exchange, fmt, services
from fokus.actor import SYSTEM
from fokus.clock import today
from fokus.cpr import looks_like_cpr
from fokus.errors import FokusError
from fokus.models import (
    Attendance,
    Citizen,
    Course,
    Group,
    NetworkMeeting,
    OrsScore,
    Referral,
    SrsScore,
    Staff,
    Target,
    Unit,
)

HYPOTHESIS = settings(
    max_examples=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
HYPOTHESIS_VALID = settings(HYPOTHESIS, max_examples=8)
FIGURES: dict[str, int] = {"valid": 0, "hostile": 0, "refused": 0, "stored_free_text": 0, "import": 0}



@pytest.fixture(scope="module", autouse=True)
def _figures() -> Any:
    """With HOSTILE_FIGURES=<file>, each worker appends its counts there (the issue's closing figures)."""
    yield
    target = os.environ.get("HOSTILE_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(FIGURES) + "\n")


# ---------------------------------------------------------------------------------------
# A world per example

_serial = itertools.count(1)


@dataclass
class World:
    unit_id: int
    n: int
    staff_id: int
    staff2_id: int
    group_id: int
    citizen_a: int
    referral_a: int
    course_a: int  # open, group form, on the group, contact staff
    ors_id: int
    srs_id: int
    meeting_id: int
    referral_b: int  # waiting
    citizen_c: int
    referral_c: int  # rejected
    course_d: int  # ended
    target_id: int


def T(days: int) -> date:  # noqa: N802 — a day relative to today, as the tests read it
    return today() + timedelta(days=days)


ORS_ITEMS = dict.fromkeys(codes.ORS_ITEMS, 50)
SRS_ITEMS = dict.fromkeys(codes.SRS_ITEMS, 80)


def build(unit_id: int) -> World:
    n = next(_serial)
    with db.write_session() as s:
        a = SYSTEM
        staff = services.add_staff(s, a, unit_id=unit_id, name=f"Medarbejder {n}", initials=f"M{n}")
        staff2 = services.add_staff(s, a, unit_id=unit_id, name=f"Kollega {n}", initials=f"K{n}")
        group = services.create_group(s, a, unit_id=unit_id, name=f"Hold {n}", start=T(-280), capacity=10)

        def referral(letter: str, received: date) -> Referral:
            return services.register_referral(s, a, unit_id=unit_id, citizen_ref=f"{letter}-{n}", birth_year=1980,
                                              received=received, referrer="socialcenter", target_group="psychic")

        ref_a = referral("A", T(-300))
        course_a = services.start_course(s, a, referral_id=ref_a.id, start=T(-250), form="group",
                                         group_id=group.id, contact_person_id=staff.id)
        ors = services.add_ors(s, a, course_id=course_a.id, day=T(-200), items=ORS_ITEMS)
        srs = services.add_srs(s, a, course_id=course_a.id, day=T(-200), items=SRS_ITEMS)
        meeting = services.add_network_meeting(s, a, course_id=course_a.id, day=T(-200), participants=4)
        ref_b = referral("B", T(-290))
        ref_c = referral("C", T(-280))
        services.decide_referral(s, a, referral_id=ref_c.id, status="rejected", decided=T(-270), reason="other")
        ref_d = referral("D", T(-310))
        course_d = services.start_course(s, a, referral_id=ref_d.id, start=T(-250), form="individual")
        services.end_course(s, a, course_id=course_d.id, end=T(-100), end_reason="completed")
        target = services.set_targets(s, a, unit_id=unit_id, valid_from=date(2001, 1, 1) + timedelta(days=n))
        return World(unit_id, n, staff.id, staff2.id, group.id, ref_a.citizen_id, ref_a.id, course_a.id, ors.id,
                     srs.id, meeting.id, ref_b.id, ref_c.citizen_id, ref_c.id, course_d.id, target.id)


# ---------------------------------------------------------------------------------------
# Every public write function: its default (valid) call, its parameters by kind

@dataclass(frozen=True)
class Spec:
    call: Callable[[Session, World, dict[str, Any]], Any]  # the call with the given overrides
    params: dict[str, str]  # parameter → kind (see HOSTILE)
    # parameter → (model, attribute) to read back a value that was stored; "result" means the returned row
    readback: dict[str, tuple[type, str]]


def _kw(defaults: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    return {**defaults, **over}


def _s(name: str) -> Callable[..., Any]:
    return getattr(services, name)


SPECS: dict[str, Spec] = {
    "create_unit": Spec(
        lambda s, w, o: services.create_unit(s, SYSTEM, **_kw({"name": f"Enhed {w.n}", "municipality": "Kommune"}, o)),
        {"name": "text", "municipality": "text"}, {"name": (Unit, "name"), "municipality": (Unit, "municipality")}),
    "set_targets": Spec(
        lambda s, w, o: services.set_targets(s, SYSTEM, **_kw({"unit_id": w.unit_id, "valid_from": T(10 + w.n % 300)},
                                                              o)),
        {"unit_id": "id", "valid_from": "date", "intake_min": "count", "intake_max": "count", "group_share": "share",
         "weeks_min": "count", "weeks_max": "count", "max_months": "count", "ors_cutoff": "points", "rci": "points",
         "jobcenter_quota": "count"},
        {k: (Target, k) for k in ("valid_from", "intake_min", "intake_max", "group_share", "weeks_min", "weeks_max",
                                  "max_months", "ors_cutoff", "rci", "jobcenter_quota")}),
    "delete_targets": Spec(
        lambda s, w, o: services.delete_targets(s, SYSTEM, **_kw({"target_id": w.target_id, "expected_version": 1}, o)),
        {"target_id": "id", "expected_version": "version"}, {}),
    "add_staff": Spec(
        lambda s, w, o: services.add_staff(s, SYSTEM, **_kw(
            {"unit_id": w.unit_id, "name": "Ny Kollega", "initials": f"N{w.n}"}, o)),
        {"unit_id": "id", "name": "text", "initials": "initials", "max_active_courses": "count"},
        {"name": (Staff, "name"), "initials": (Staff, "initials"),
         "max_active_courses": (Staff, "max_active_courses")}),
    "create_group": Spec(
        lambda s, w, o: services.create_group(s, SYSTEM, **_kw(
            {"unit_id": w.unit_id, "name": f"Nyt hold {w.n}", "start": T(-10)}, o)),
        {"unit_id": "id", "name": "text", "theme": "free", "start": "date", "end": "date", "capacity": "count"},
        {"name": (Group, "name"), "theme": (Group, "theme"), "start": (Group, "start"), "end": (Group, "end"),
         "capacity": (Group, "capacity")}),
    "add_group_session": Spec(
        lambda s, w, o: services.add_group_session(s, SYSTEM, **_kw(
            {"group_id": w.group_id, "day": T(-150), "present_course_ids": [w.course_a]}, o)),
        {"group_id": "id", "day": "date", "present_course_ids": "ids"}, {}),
    "register_referral": Spec(
        lambda s, w, o: services.register_referral(s, SYSTEM, **_kw(
            {"unit_id": w.unit_id, "citizen_ref": f"E-{w.n}-{next(_serial)}", "birth_year": 1980, "received": T(-20),
             "referrer": "jobcenter", "target_group": "social"}, o)),
        {"unit_id": "id", "citizen_ref": "text", "birth_year": "count", "received": "date", "referrer": "code",
         "target_group": "code", "from_sel85": "bool", "age_note": "free"},
        {"received": (Referral, "received"), "referrer": (Referral, "referrer"),
         "target_group": (Referral, "target_group"), "from_sel85": (Referral, "from_sel85"),
         "age_note": (Referral, "age_note")}),
    "decide_referral": Spec(
        lambda s, w, o: services.decide_referral(s, SYSTEM, **_kw(
            {"referral_id": w.referral_b, "status": "withdrawn", "decided": T(-5), "reason": "other"}, o)),
        {"referral_id": "id", "status": "code", "decided": "date", "reason": "code", "expected_version": "version"},
        {"status": (Referral, "status"), "decided": (Referral, "decided"), "reason": (Referral, "reason")}),
    "start_course": Spec(
        lambda s, w, o: services.start_course(s, SYSTEM, **_kw(
            {"referral_id": w.referral_b, "start": T(-30), "form": "individual"}, o)),
        {"referral_id": "id", "start": "date", "form": "code", "group_id": "id", "contact_person_id": "id",
         "ref": "text"},
        {"start": (Course, "start"), "form": (Course, "form"), "ref": (Course, "ref")}),
    "end_course": Spec(
        lambda s, w, o: services.end_course(s, SYSTEM, **_kw(
            {"course_id": w.course_a, "end": T(-1), "end_reason": "completed"}, o)),
        {"course_id": "id", "end": "date", "end_reason": "code", "next_step": "code", "expected_version": "version"},
        {"end": (Course, "end"), "end_reason": (Course, "end_reason"), "next_step": (Course, "next_step")}),
    "add_ors": Spec(
        lambda s, w, o: services.add_ors(s, SYSTEM, **_kw({"course_id": w.course_a, "day": T(-50), "items": ORS_ITEMS},
                                                          o)),
        {"course_id": "id", "day": "date", "items": "items", "session_no": "count"},
        {"day": (OrsScore, "date"), "session_no": (OrsScore, "session_no")}),
    "add_srs": Spec(
        lambda s, w, o: services.add_srs(s, SYSTEM, **_kw({"course_id": w.course_a, "day": T(-50), "items": SRS_ITEMS},
                                                          o)),
        {"course_id": "id", "day": "date", "items": "srs_items", "session_no": "count", "group_session": "bool"},
        {"day": (SrsScore, "date"), "session_no": (SrsScore, "session_no"),
         "group_session": (SrsScore, "group_session")}),
    "add_network_meeting": Spec(
        lambda s, w, o: services.add_network_meeting(s, SYSTEM, **_kw(
            {"course_id": w.course_a, "day": T(-50), "participants": 3}, o)),
        {"course_id": "id", "day": "date", "participants": "count"},
        {"day": (NetworkMeeting, "date"), "participants": (NetworkMeeting, "participants")}),
    "update_citizen": Spec(
        lambda s, w, o: services.update_citizen(s, SYSTEM, **_kw(
            {"citizen_id": w.citizen_a, "expected_version": None, "ref": f"A2-{w.n}", "birth_year": 1981}, o)),
        {"citizen_id": "id", "expected_version": "version", "ref": "text", "birth_year": "count"},
        {"ref": (Citizen, "ref"), "birth_year": (Citizen, "birth_year")}),
    "update_referral": Spec(
        lambda s, w, o: services.update_referral(s, SYSTEM, **_kw(
            {"referral_id": w.referral_b, "expected_version": None, "received": T(-295), "referrer": "other",
             "target_group": "physical", "from_sel85": True, "age_note": None}, o)),
        {"referral_id": "id", "expected_version": "version", "received": "date", "referrer": "code",
         "target_group": "code", "from_sel85": "bool", "age_note": "free"},
        {"received": (Referral, "received"), "referrer": (Referral, "referrer"),
         "target_group": (Referral, "target_group"), "from_sel85": (Referral, "from_sel85"),
         "age_note": (Referral, "age_note")}),
    "delete_referral": Spec(
        lambda s, w, o: services.delete_referral(s, SYSTEM, **_kw({"referral_id": w.referral_b, "expected_version": 1},
                                                                  o)),
        {"referral_id": "id", "expected_version": "version"}, {}),
    "reopen_referral": Spec(
        lambda s, w, o: services.reopen_referral(s, SYSTEM, **_kw({"referral_id": w.referral_c, "expected_version": 2},
                                                                  o)),
        {"referral_id": "id", "expected_version": "version"}, {}),
    "update_course": Spec(
        lambda s, w, o: services.update_course(s, SYSTEM, **_kw(
            {"course_id": w.course_a, "expected_version": None, "ref": f"R-{w.n}", "start": T(-240), "form": "group",
             "group_id": w.group_id, "contact_person_id": w.staff_id, "end": None, "end_reason": None,
             "next_step": None}, o)),
        {"course_id": "id", "expected_version": "version", "ref": "text", "start": "date", "form": "code",
         "group_id": "id", "contact_person_id": "id", "end": "date", "end_reason": "code", "next_step": "code"},
        {"ref": (Course, "ref"), "start": (Course, "start"), "form": (Course, "form"), "end": (Course, "end"),
         "end_reason": (Course, "end_reason"), "next_step": (Course, "next_step")}),
    "delete_course": Spec(
        lambda s, w, o: services.delete_course(s, SYSTEM, **_kw({"course_id": w.course_d, "expected_version": 2}, o)),
        {"course_id": "id", "expected_version": "version"}, {}),
    "reopen_course": Spec(
        lambda s, w, o: services.reopen_course(s, SYSTEM, **_kw({"course_id": w.course_d, "expected_version": 2}, o)),
        {"course_id": "id", "expected_version": "version"}, {}),
    "merge_citizens": Spec(
        lambda s, w, o: services.merge_citizens(s, SYSTEM, **_kw(
            {"keep_citizen_id": w.citizen_a, "merge_citizen_id": w.citizen_c}, o)),
        {"keep_citizen_id": "id", "merge_citizen_id": "id"}, {}),
    "start_group_courses": Spec(
        lambda s, w, o: services.start_group_courses(s, SYSTEM, **_kw(
            {"group_id": w.group_id, "referral_ids": [w.referral_b], "start": T(-20), "contact_person_id": None}, o)),
        {"group_id": "id", "referral_ids": "ids", "start": "date", "contact_person_id": "id"}, {}),
    "move_courses": Spec(
        lambda s, w, o: services.move_courses(s, SYSTEM, **_kw({"course_ids": [w.course_a], "to_staff_id": w.staff2_id},
                                                               o)),
        {"course_ids": "ids", "to_staff_id": "id"}, {}),
    "record_group_session": Spec(
        lambda s, w, o: services.record_group_session(s, SYSTEM, **_kw(
            {"group_id": w.group_id, "day": T(-140), "present_course_ids": [w.course_a],
             "scores": {w.course_a: ORS_ITEMS}}, o)),
        {"group_id": "id", "day": "date", "present_course_ids": "ids", "scores": "scores"}, {}),
    "update_staff": Spec(
        lambda s, w, o: services.update_staff(s, SYSTEM, **_kw(
            {"staff_id": w.staff2_id, "expected_version": None, "name": "Omdøbt", "initials": f"O{w.n}", "active": True,
             "max_active_courses": 12}, o)),
        {"staff_id": "id", "expected_version": "version", "name": "text", "initials": "initials", "active": "bool",
         "max_active_courses": "count"},
        {"name": (Staff, "name"), "initials": (Staff, "initials"), "active": (Staff, "active"),
         "max_active_courses": (Staff, "max_active_courses")}),
    "update_group": Spec(
        lambda s, w, o: services.update_group(s, SYSTEM, **_kw(
            {"group_id": w.group_id, "expected_version": None, "name": f"Hold {w.n} ny", "theme": "",
             "start": T(-285), "end": None, "capacity": 12}, o)),
        {"group_id": "id", "expected_version": "version", "name": "text", "theme": "free", "start": "date",
         "end": "date", "capacity": "count"},
        {"name": (Group, "name"), "theme": (Group, "theme"), "start": (Group, "start"), "end": (Group, "end"),
         "capacity": (Group, "capacity")}),
    "update_ors": Spec(
        lambda s, w, o: services.update_ors(s, SYSTEM, **_kw(
            {"score_id": w.ors_id, "expected_version": None, "day": T(-190), "items": ORS_ITEMS,
             "session_no": None}, o)),
        {"score_id": "id", "expected_version": "version", "day": "date", "items": "items", "session_no": "count"},
        {"day": (OrsScore, "date"), "session_no": (OrsScore, "session_no")}),
    "delete_ors": Spec(
        lambda s, w, o: services.delete_ors(s, SYSTEM, **_kw({"score_id": w.ors_id, "expected_version": 1}, o)),
        {"score_id": "id", "expected_version": "version"}, {}),
    "update_srs": Spec(
        lambda s, w, o: services.update_srs(s, SYSTEM, **_kw(
            {"score_id": w.srs_id, "expected_version": None, "day": T(-190), "items": SRS_ITEMS,
             "session_no": None}, o)),
        {"score_id": "id", "expected_version": "version", "day": "date", "items": "srs_items", "session_no": "count",
         "group_session": "optbool"},
        {"day": (SrsScore, "date"), "session_no": (SrsScore, "session_no"),
         "group_session": (SrsScore, "group_session")}),
    "delete_srs": Spec(
        lambda s, w, o: services.delete_srs(s, SYSTEM, **_kw({"score_id": w.srs_id, "expected_version": 1}, o)),
        {"score_id": "id", "expected_version": "version"}, {}),
    "update_network_meeting": Spec(
        lambda s, w, o: services.update_network_meeting(s, SYSTEM, **_kw(
            {"meeting_id": w.meeting_id, "expected_version": None, "day": T(-190), "participants": 5}, o)),
        {"meeting_id": "id", "expected_version": "version", "day": "date", "participants": "count"},
        {"day": (NetworkMeeting, "date"), "participants": (NetworkMeeting, "participants")}),
    "delete_network_meeting": Spec(
        lambda s, w, o: services.delete_network_meeting(s, SYSTEM, **_kw(
            {"meeting_id": w.meeting_id, "expected_version": 1}, o)),
        {"meeting_id": "id", "expected_version": "version"}, {}),
}
# Every public function of fokus.services writes, except none: all are driven above.
NOT_DRIVEN: dict[str, str] = {}


def test_every_public_write_function_is_driven() -> None:
    public = {name for name, f in inspect.getmembers(services, inspect.isfunction)
              if not name.startswith("_") and f.__module__ == services.__name__}
    assert public == set(SPECS) | set(NOT_DRIVEN)
    for name, spec in SPECS.items():
        signature = inspect.signature(getattr(services, name))
        for param in spec.params:
            assert param in signature.parameters, (name, param)


# ---------------------------------------------------------------------------------------
# Reading back, counting rows

TABLES: list[type[SQLModel]] = [m.class_ for m in SQLModel._sa_registry.mappers]  # type: ignore[attr-defined]


def counts() -> dict[str, int]:
    """Rows in every table (the audit log and the data-version table included), in one query."""
    names = [m.__tablename__ for m in TABLES]  # type: ignore[attr-defined]
    query = sa.select(*(sa.select(sa.func.count()).select_from(m).scalar_subquery().label(n)
                        for m, n in zip(TABLES, names, strict=True)))
    with db.read_session() as s:
        return dict(zip(names, s.execute(query).one(), strict=True))


def read_back(name: str, param: str, result: Any) -> Any:
    """The stored value of `param` after a successful call of `name` (a fresh read session)."""
    with db.read_session() as s:
        if name == "register_referral" and param == "citizen_ref":
            citizen = s.get(Citizen, result.citizen_id)
            return citizen.ref if citizen else None
        model, attribute = SPECS[name].readback[param]
        row = s.get(model, result.id)
        assert row is not None, f"{name}: the stored row is gone"
        return getattr(row, attribute)


def expected(kind: str, value: Any) -> Any:
    """What a stored value should read back as: text trimmed (initials in capitals), "" or None as empty."""
    if kind in ("text", "free", "initials") and isinstance(value, str):
        cleaned = value.strip()
        return cleaned.upper() if kind == "initials" else cleaned
    return value


def same(kind: str, stored: Any, value: Any) -> bool:
    """Stored equals given; an empty optional text may be stored as "" or as nothing."""
    if kind == "free" and not expected(kind, value):
        return stored in ("", None)
    return bool(stored == expected(kind, value))


DANISH = re.compile(r"[a-zæøå]", re.IGNORECASE)


def assert_refusal_message(error: FokusError) -> None:
    message = error.message
    assert isinstance(message, str) and 5 <= len(message) <= 1000, message
    assert DANISH.search(message), message
    assert "Traceback" not in message and "sqlalchemy" not in message.lower() and "psycopg" not in message.lower()


@dataclass
class Outcome:
    refused: FokusError | None
    result: Any = None


def attempt(name: str, w: World, overrides: dict[str, Any]) -> Outcome:
    """One call in its own transaction: a fokus refusal or the result. Anything else fails the test."""
    try:
        with db.write_session() as s:
            result = SPECS[name].call(s, w, overrides)
            s.flush()
            seen = SimpleNamespace(id=getattr(result, "id", None), citizen_id=getattr(result, "citizen_id", None))
        return Outcome(None, seen)
    except FokusError as error:
        return Outcome(error)


# ---------------------------------------------------------------------------------------
# Hostile values by kind. MUST: refused whatever the context. MAY: legitimately free text (or a
# value the parameter allows, such as None for an optional one): stored and read back equal, or
# refused by a rule (a name already in use, say) — never an unhandled exception.

NAN, INF = float("nan"), float("inf")
HUGE = "x" * 100_000
SQL = ["'; DROP TABLE course; --", "Robert'); DELETE FROM citizen; --", "1' OR '1'='1", "\\'; SELECT pg_sleep(5); --"]
HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<b>x</b>", "**fed** [klik](javascript:alert(1))",
        "![x](http://evil.example/a.png)", "&lt;b&gt;", "# Overskrift", "a%s%d{0}"]
CONTROL = ["a\x00b", "\x00", "a\x1bb", "\x1b[31mrød", "\u202eabc", "a\u200bb", "a\ufeffb", "a\ud800b", "a\nb\rc",
           "a\x7fb", "a\u2028b"]
CPR = ["010203-1234", "reference 0102031234", "31.12 311299 1234", "290200-4444", "０１０２０３－１２３４"]
WRONG_TYPES: list[Any] = [5, 5.5, b"bytes", ["x"], {"x": 1}, NAN]

# Every value above is tried by the hypothesis test `test_hostile_text_random`; the table test below
# tries these representatives of each on every text parameter (to keep it fast).
SQL_SOME, HTML_SOME = SQL[:2], [HTML[0], HTML[1], HTML[3], HTML[4]]
CONTROL_SOME = ["a\x00b", "a\x1bb", "\u202eabc", "a\u200bb", "a\ud800b", "a\nb", "a\u2028b"]
CPR_SOME, WRONG_SOME = [CPR[0], CPR[1], CPR[4]], [5, b"bytes", ["x"], NAN]

HOSTILE: dict[str, tuple[list[Any], list[Any]]] = {
    # kind: (must be refused, may be stored)
    "text": ([HUGE, "", "   ", *CONTROL_SOME, *CPR_SOME, *WRONG_SOME], [*SQL_SOME, *HTML_SOME, None]),
    "initials": ([HUGE, "", "ßßßßßßßßß", *CONTROL_SOME, *CPR_SOME, *WRONG_SOME], ["<b>", "';--", "Ø&Å"]),
    "free": ([HUGE, *CONTROL_SOME, *CPR_SOME, *WRONG_SOME], [*SQL_SOME, *HTML_SOME, None, ""]),
    "date": ([date(1, 1, 1), date(9999, 12, 31), date.min, date.max, date(1989, 12, 31),
              datetime.now(UTC), "2024-01-01", "01.01.2024", 20240101, NAN, INF, -1],
             [None]),
    "count": ([-1, -10**30, 10**30, 2**63, 2**31, NAN, INF, -INF, 1.5, "5", True, HUGE, [1]], [None]),
    "share": ([NAN, INF, -INF, -0.01, 1.01, -1, 10**30, "0,7", True, [0.5]], []),
    "points": ([NAN, INF, -INF, -1, 41, 1e308, -1e308, 10**400, "25", True, None], []),
    "id": ([-1, 0, 2**31, 2**63, -2**63 - 1, 10**30, "1", "'; DROP TABLE course; --", 1.0, NAN, INF, True,
            [1], (1,), {"id": 1}, HUGE], [None]),
    "version": ([-1, 10**30, 2**63, "1", "'; DROP TABLE course; --", NAN, INF, 1.5, [1], HUGE], []),
    "code": ([*SQL, "<script>alert(1)</script>", "", "GROUP", " group", 5, ["group"], HUGE, "\x00", NAN],
             [None]),
    "bool": ([None, "ja", "True", 1, 0, NAN, [True]], []),
    "optbool": (["ja", "True", 1, 0, NAN, [True]], [None]),  # None: keep as it was
    "ids": ([None, "abc", 5, 5.5, [None], [-1], [0], [10**30], [2**63], [[1]], [NAN], ["1"], [{"a": 1}], {1: 2},
             HUGE], [[]]),
}


def _items_hostile(names: tuple[str, ...]) -> list[Any]:
    first = names[0]
    full = dict.fromkeys(names, 50)
    bad_values: list[Any] = [-1, 101, 10**30, -10**30, NAN, INF, 5.5, "50", "7,5", None, True, [5]]
    return [*({**full, first: bad} for bad in bad_values), {}, {k: 50 for k in names[1:]}, None, [], "x", 5, HUGE]


HOSTILE["items"] = (_items_hostile(tuple(codes.ORS_ITEMS)), [])
HOSTILE["srs_items"] = (_items_hostile(tuple(codes.SRS_ITEMS)), [])
HOSTILE["scores"] = ([None, [], "x", 5, {None: ORS_ITEMS}, {"1": ORS_ITEMS}, {10**30: ORS_ITEMS}, {-1: ORS_ITEMS}],
                     [])


def _scores_for(w: World) -> list[Any]:
    """Scores hostile in their items, for the world's course (which is present)."""
    return [{w.course_a: bad} for bad in HOSTILE["items"][0]]


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:60] + f"… ({len(text)} tegn)"


def check_hostile(name: str, w: World, param: str, value: Any, may_store: bool) -> World:
    """Call `name` with the hostile value; assert the outcome. Returns the world to go on with."""
    kind = SPECS[name].params[param]
    before = counts()
    outcome = attempt(name, w, {param: value})
    FIGURES["hostile"] += 1
    if outcome.refused is not None:
        FIGURES["refused"] += 1
        assert_refusal_message(outcome.refused)
        assert counts() == before, f"{name}({param}={_describe(value)}) was refused but a table changed"
        return w
    assert may_store, f"{name}({param}={_describe(value)}) was accepted: it must be refused with a message"
    if param in SPECS[name].readback and value is not None:
        FIGURES["stored_free_text"] += 1
        stored = read_back(name, param, outcome.result)
        assert same(kind, stored, value), (name, param, value, stored)
    # An accepted call that used the world up (a referral decided, a course started) needs a new one; the
    # others leave it usable (an edit is called without a version, so the next edit is no conflict).
    return build(w.unit_id) if name in USES_UP else w


USES_UP = {"decide_referral", "start_course", "end_course", "add_group_session",
           "record_group_session", "start_group_courses", "move_courses", "merge_citizens", "delete_targets",
           "delete_referral", "reopen_referral", "delete_course", "reopen_course", "delete_ors", "delete_srs",
           "delete_network_meeting"}


@pytest.mark.slow  # about 1-10 s per function and database
@pytest.mark.parametrize("name", sorted(SPECS))
def test_hostile_values_every_parameter(db_url: str, unit_id: int, name: str) -> None:
    """Every parameter of every write function, with every hostile value of its kind."""
    w = build(unit_id)
    for param, kind in SPECS[name].params.items():
        must, may = HOSTILE[kind]
        values = [(value, False) for value in must] + [(value, True) for value in may]
        if kind == "scores":
            values += [(value, False) for value in _scores_for(w)]
        for value, may_store in values:
            w = check_hostile(name, w, param, value, may_store)


# ---------------------------------------------------------------------------------------
# Random VALID values: stored, and read back equal

# Printable text of every script (letters, marks, digits, punctuation, symbols, spaces): SQL and
# HTML characters included, CPR-like numbers and blank texts left out.
TEXT = st.characters(categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="\u3000")


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(TEXT, min_size=1, max_size=max_size).filter(
        lambda t: t.strip() == t and t != "" and not looks_like_cpr(t))


def unique(max_size: int) -> Callable[[World], st.SearchStrategy[str]]:
    """A random text made unique in the unit by the world's number."""
    return lambda w: text(max_size - 8).map(lambda t: f"{t} #{w.n}")


def initials(w: World) -> st.SearchStrategy[str]:
    return st.text(st.characters(categories=["Lu", "Nd"]), min_size=1, max_size=4).map(
        lambda t: f"{t}{w.n}").filter(lambda t: t == t.upper() and len(t) <= 10 and not looks_like_cpr(t))


def days(first: int, last: int) -> st.SearchStrategy[date]:
    return st.dates(T(first), T(last))


def items(names: dict[str, str]) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({name: st.integers(0, 100) for name in names})


def codes_of(words: dict[str, str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(words))


FAR = date(today().year + 5, 12, 31)


@st.composite
def target_values(draw: st.DrawFn, w: World) -> dict[str, Any]:
    low, high = sorted(draw(st.lists(st.integers(0, 100_000), min_size=2, max_size=2)))
    wmin, wmax = sorted(draw(st.lists(st.integers(1, 104), min_size=2, max_size=2)))
    return {"valid_from": draw(st.dates(date(1990, 1, 1), FAR)), "intake_min": low, "intake_max": high,
            "group_share": draw(st.floats(0, 1)), "weeks_min": wmin, "weeks_max": wmax,
            "max_months": draw(st.integers(1, 24)), "ors_cutoff": draw(st.floats(0, 40)),
            "rci": draw(st.floats(1, 40)), "jobcenter_quota": draw(st.none() | st.integers(0, 100_000))}


@st.composite
def group_values(draw: st.DrawFn, w: World, latest_start: date) -> dict[str, Any]:
    start = draw(st.dates(date(1990, 1, 1), latest_start))
    return {"name": draw(unique(80)(w)), "theme": draw(st.just("") | text(200)), "start": start,
            "end": draw(st.none() | st.dates(start, FAR)), "capacity": draw(st.integers(1, 100))}


@st.composite
def referral_values(draw: st.DrawFn, w: World) -> dict[str, Any]:
    received = draw(days(-3000, 0))
    return {"citizen_ref": draw(unique(40)(w)), "received": received,
            "birth_year": received.year - draw(st.integers(18, 65)),
            "referrer": draw(codes_of(codes.REFERRERS)), "target_group": draw(codes_of(codes.TARGET_GROUPS)),
            "from_sel85": draw(st.booleans()), "age_note": draw(st.none() | text(500))}


@st.composite
def course_values(draw: st.DrawFn, w: World) -> dict[str, Any]:
    start = draw(days(-300, -200))
    grouped = draw(st.booleans())
    end = draw(st.none() | days(-200, 0).filter(lambda d: d >= start))
    return {"ref": draw(unique(40)(w)), "start": start, "form": "group" if grouped else "individual",
            "group_id": w.group_id if grouped else None,
            "contact_person_id": draw(st.sampled_from([None, w.staff_id, w.staff2_id])), "end": end,
            "end_reason": None if end is None else draw(codes_of(codes.END_REASONS)),
            "next_step": None if end is None else draw(st.none() | codes_of(codes.NEXT_STEPS))}


VALID: dict[str, Callable[[World], st.SearchStrategy[dict[str, Any]]]] = {
    "create_unit": lambda w: st.fixed_dictionaries({"name": unique(120)(w), "municipality": text(120)}),
    "set_targets": target_values,
    "add_staff": lambda w: st.fixed_dictionaries(
        {"name": text(120), "initials": initials(w), "max_active_courses": st.integers(0, 200)}),
    "create_group": lambda w: group_values(w, FAR),
    "add_group_session": lambda w: st.fixed_dictionaries(
        {"day": days(-250, 0), "present_course_ids": st.sampled_from([[], [w.course_a]])}),
    "register_referral": referral_values,
    "decide_referral": lambda w: st.fixed_dictionaries(
        {"status": st.sampled_from(["rejected", "withdrawn"]), "decided": days(-290, 0),
         "reason": codes_of(codes.DECISION_REASONS)}),
    "start_course": lambda w: st.fixed_dictionaries(
        {"start": days(-290, 0), "form": st.just("individual"),
         "contact_person_id": st.sampled_from([None, w.staff_id, w.staff2_id]), "ref": st.none() | unique(40)(w)}),
    "end_course": lambda w: st.fixed_dictionaries(
        {"end": days(-200, 0), "end_reason": codes_of(codes.END_REASONS),
         "next_step": st.none() | codes_of(codes.NEXT_STEPS)}),
    "add_ors": lambda w: st.fixed_dictionaries(
        {"day": days(-250, 0), "items": items(codes.ORS_ITEMS), "session_no": st.none() | st.integers(1, 500)}),
    "add_srs": lambda w: st.fixed_dictionaries(
        {"day": days(-250, 0), "items": items(codes.SRS_ITEMS), "session_no": st.none() | st.integers(1, 500),
         "group_session": st.booleans()}),
    "add_network_meeting": lambda w: st.fixed_dictionaries(
        {"day": days(-250, 0), "participants": st.integers(1, 100)}),
    "update_citizen": lambda w: st.fixed_dictionaries(
        {"ref": unique(40)(w), "birth_year": st.integers(18, 65).map(lambda age: T(-310).year - age)}),
    "update_referral": lambda w: st.fixed_dictionaries(
        {"received": st.dates(date(2000, 1, 1), T(0)), "referrer": codes_of(codes.REFERRERS),
         "target_group": codes_of(codes.TARGET_GROUPS), "from_sel85": st.booleans(),
         "age_note": st.none() | text(500)}),
    "update_course": course_values,
    "start_group_courses": lambda w: st.fixed_dictionaries(
        {"start": days(-250, 0), "contact_person_id": st.sampled_from([None, w.staff_id, w.staff2_id])}),
    "record_group_session": lambda w: st.fixed_dictionaries(  # not on the day of the world's own ORS
        {"day": days(-250, 0).filter(lambda day: day != T(-200)),
         "scores": items(codes.ORS_ITEMS).map(lambda i: {w.course_a: i})}),
    "update_staff": lambda w: st.fixed_dictionaries(
        {"name": text(120), "initials": initials(w), "active": st.booleans(),
         "max_active_courses": st.integers(0, 200)}),
    "update_group": lambda w: group_values(w, T(-250)),
    "update_ors": lambda w: st.fixed_dictionaries(
        {"day": days(-250, 0), "items": items(codes.ORS_ITEMS), "session_no": st.none() | st.integers(1, 500)}),
    "update_srs": lambda w: st.fixed_dictionaries(
        {"day": days(-250, 0), "items": items(codes.SRS_ITEMS), "session_no": st.none() | st.integers(1, 500),
         "group_session": st.none() | st.booleans()}),
    "update_network_meeting": lambda w: st.fixed_dictionaries(
        {"day": days(-250, 0), "participants": st.integers(1, 100)}),
}
# The functions that take only ids and a version (deletes, reopens, merge, move) have no values to
# vary: `test_valid_without_values` calls each once with the world's rows and reads the effect.


def check_stored(name: str, w: World, given: dict[str, Any], result: Any) -> None:
    """Every given value reads back equal from a fresh session, as the user would see it again."""
    spec = SPECS[name]
    for param, value in given.items():
        kind = spec.params.get(param, "")
        if kind in ("items", "srs_items"):
            model = OrsScore if kind == "items" else SrsScore
            with db.read_session() as s:
                row = s.get(model, result.id)
                assert row is not None
                assert {k: getattr(row, k) for k in value} == value
        elif param in spec.readback and not (value is None and param in ("session_no", "group_session", "ref")):
            stored = read_back(name, param, result)
            assert same(kind, stored, value), (name, param, value, stored)
    if name == "add_group_session":
        with db.read_session() as s:
            present = s.exec(select(Attendance.course_id).where(Attendance.session_id == result.id,
                                                                Attendance.present)).all()
            assert sorted(present) == sorted(given["present_course_ids"])
    if name == "record_group_session":
        with db.read_session() as s:
            scores = s.exec(select(OrsScore).where(OrsScore.course_id == w.course_a,
                                                   OrsScore.date == given["day"])).all()
            assert [{k: getattr(o, k) for k in codes.ORS_ITEMS} for o in scores] == [given["scores"][w.course_a]]


@pytest.mark.slow  # about 1-10 s per function and database
@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_values_are_stored(db_url: str, unit_id: int, name: str) -> None:
    @HYPOTHESIS_VALID
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        w = build(unit_id)
        given_values = data.draw(VALID[name](w), label="values")
        outcome = attempt(name, w, given_values)
        assert outcome.refused is None, f"{name}({given_values!r}) refused: {outcome.refused}"
        FIGURES["valid"] += 1
        check_stored(name, w, given_values, outcome.result)

    run()



# ---------------------------------------------------------------------------------------
# Random text, hostile or not, in every text parameter

TEXT_PARAMS = sorted((name, param) for name, spec in SPECS.items() for param, kind in spec.params.items()
                     if kind in ("text", "free", "initials"))
ANY_TEXT = st.one_of(
    st.text(max_size=60),  # any code point: controls, surrogates, separators, private use
    st.sampled_from([*SQL, *HTML, *CONTROL, *CPR, HUGE]),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=10), st.sampled_from([*SQL, *HTML, *CONTROL, *CPR]),
              st.text(max_size=10)),
)


def plainly_bad(value: str, kind: str) -> bool:
    """Text every text field must refuse: blank, too long for any field, invisible or control characters, CPR."""
    cleaned = value.strip()
    if kind != "free" and not cleaned:
        return True
    return len(cleaned) > 500 or looks_like_cpr(cleaned) or any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in cleaned)


def test_hostile_text_random(db_url: str, unit_id: int) -> None:
    worlds: dict[str, World] = {}

    @HYPOTHESIS
    @given(target=st.sampled_from(TEXT_PARAMS), value=ANY_TEXT)
    def run(target: tuple[str, str], value: str) -> None:
        name, param = target
        kind = SPECS[name].params[param]
        w = worlds.get(name) or build(unit_id)
        before = counts()
        outcome = attempt(name, w, {param: value})
        FIGURES["hostile"] += 1
        if outcome.refused is not None:
            FIGURES["refused"] += 1
            assert_refusal_message(outcome.refused)
            assert counts() == before
        else:
            assert not plainly_bad(value, kind), f"{name}({param}={value!r}) was stored"
            FIGURES["stored_free_text"] += 1
            assert same(kind, read_back(name, param, outcome.result), value)
        worlds[name] = build(unit_id) if outcome.refused is None and name in USES_UP else w

    run()


# ---------------------------------------------------------------------------------------
# The workbook import (fokus.exchange) with hostile cells

# Columns whose text is the user's own: a hostile-looking value there may be stored (and read back equal).
FREE_CELLS: dict[tuple[str, str], tuple[type, str, Callable[[str], str]]] = {
    # (sheet, column): (model, attribute, how the stored text reads)
    ("henvisninger", "borger"): (Citizen, "ref", str),
    ("henvisninger", "aldersnote"): (Referral, "age_note", str),
    ("forloeb", "forloeb"): (Course, "ref", str),
    ("forloeb", "hold"): (Group, "name", str),
    ("forloeb", "kontaktperson"): (Staff, "initials", str.upper),
    ("medarbejdere", "initialer"): (Staff, "initials", str.upper),
    ("medarbejdere", "navn"): (Staff, "name", str),
}
NUMBERS_AND_DATES = ["9" * 5000, "9" * 400, "-1", "-0", "1e400", "nan", "NaN", "inf", "-inf", "1,5", "10,05", "٣",
                     "0001-01-01", "9999-12-31", "01.01.0001", "31.12.9999", "29.02.2023", "00.00.2020",
                     "2024-13-01", "0", "2147483648", "99999999999999999999"]
HOSTILE_CELL = st.one_of(
    st.sampled_from([HUGE, "", *SQL, *HTML, *CONTROL, *CPR, *NUMBERS_AND_DATES]),
    st.text(max_size=40),
    st.integers(-10**30, 10**30).map(str),
)


def _cells() -> list[tuple[str, int, str]]:
    from tests.test_exchange import good_sheets

    return [(sheet, index, column) for sheet, rows in good_sheets().items() for index, row in enumerate(rows)
            for column in row]


def _csv_files(sheets: dict[str, list[dict[str, str]]]) -> dict[str, bytes]:
    files = {}
    for name, rows in sheets.items():
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(exchange.SHEETS[name])
        for row in rows:
            writer.writerow([row[column] for column in exchange.SHEETS[name]])
        files[f"{name}.csv"] = out.getvalue().encode("utf-8", "surrogatepass")  # a lone surrogate is not UTF-8
    return files


def import_one(cell: tuple[str, int, str], value: str) -> None:
    """A good file with one hostile cell: refused with a Danish reason per bad cell and nothing stored;
    or, in a column of the user's own text, imported with the text read back equal."""
    from tests.test_exchange import good_sheets

    sheet, index, column = cell
    with db.write_session() as s:
        unit_id = services.create_unit(s, SYSTEM, name=f"Importenhed {next(_serial)}", municipality="Kommune").id
    sheets = good_sheets()
    sheets[sheet][index][column] = value
    before = counts()
    FIGURES["import"] += 1
    try:
        with db.write_session() as s:
            workbook = exchange.read_workbook(_csv_files(sheets))
            exchange.import_workbook(s, SYSTEM, workbook, unit_id)
    except exchange.ImportRefused as refused:
        assert_refusal_message(refused)
        assert refused.problems
        for problem in refused.problems:
            assert DANISH.search(problem.reason) and len(problem.reason) <= 400, problem
        assert counts() == before
        return
    except FokusError as error:  # the file as a whole (not UTF-8, say)
        assert_refusal_message(error)
        assert counts() == before
        return
    cleaned = value.strip()
    # Imported: a column of the user's own text, an empty optional cell, or another valid entry of the
    # column (a number such as "-0" for an ORS item is 0): never a value every column must refuse.
    assert value not in (HUGE, *SQL, *HTML, *CONTROL, *CPR, "9" * 5000, "9" * 400) or (sheet, column) in FREE_CELLS, (
        f"{sheet}.{column}={value!r} was imported")
    assert (sheet, column) in FREE_CELLS or re.fullmatch(r"[\d.,+\-]*|[a-zæøå_\d]+", cleaned.lower()), (
        f"{sheet}.{column}={value!r} was imported")
    if (sheet, column) in FREE_CELLS and cleaned:
        model, attribute, reads = FREE_CELLS[(sheet, column)]
        with db.read_session() as s:
            stored = s.exec(select(getattr(model, attribute))
                            .where(model.unit_id == unit_id)).all()  # type: ignore[attr-defined]
        assert reads(cleaned) in stored, (sheet, column, value, stored)


def test_import_hostile_cells(db_url: str) -> None:
    """Random hostile cells anywhere in a good file (hypothesis)."""
    cells = _cells()

    @HYPOTHESIS
    @given(cell=st.sampled_from(cells), value=HOSTILE_CELL)
    def run(cell: tuple[str, int, str], value: str) -> None:
        import_one(cell, value)

    run()


@pytest.mark.parametrize(("cell", "value"), [
    (("henvisninger", 0, "foedselsaar"), "9" * 5000),  # int() refuses more than 4300 digits (ValueError)
    (("netvaerksmoeder", 0, "deltagere"), "9" * 5000),
    (("ors", 0, "individuelt"), "9" * 400),  # an infinite float (OverflowError when made tenths)
    (("ors", 0, "generelt"), "1" + "0" * 308),  # 1e308, finite, but × 10 overflowed (an Excel number cell)
    (("henvisninger", 0, "henviser"), HUGE),  # the 100,000 characters were quoted whole in the reason
    (("henvisninger", 0, "henvist_dato"), HUGE),
    (("henvisninger", 0, "borger"), "a\ud800b"),
    (("henvisninger", 0, "borger"), "a\x00b"),
    (("henvisninger", 1, "aldersnote"), "<script>alert(1)</script>"),
    (("medarbejdere", 0, "navn"), "'; DROP TABLE course; --"),
    (("henvisninger", 0, "henvist_dato"), "0001-01-01"),
    (("forloeb", 0, "slut_dato"), "31.12.9999"),
])
def test_import_hostile_cells_named(db_url: str, cell: tuple[str, int, str], value: str) -> None:
    import_one(cell, value)


# ---------------------------------------------------------------------------------------
# Never HTML or Markdown rendered from input

CITIZEN_REF = "<b>x</b><script>alert(1)</script>"
COURSE_REF = "**F**[x](javascript:alert(1))"
GROUP_NAME = "![x](http://evil.example/a.png) :red[rød]"
STAFF_INITIALS = "<I>_$X$"  # stored in capitals
AGE_NOTE = "<img src=x onerror=alert(1)> # `kode` &lt;b&gt;"
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def unescape(markdown: str) -> str:
    """What CommonMark shows for text in which only backslash escapes are special."""
    return _ESCAPED.sub(r"\1", markdown)


@settings(max_examples=50, deadline=None)
@given(value=st.text(max_size=60))
def test_literal_reads_back_as_typed(value: str) -> None:
    shown = fmt.literal(value)
    assert unescape(shown) == " ".join(value.splitlines())
    # Nothing Markdown or HTML acts on within a line is left unescaped, nor a list or heading start.
    bare = _ESCAPED.sub("", shown)
    assert not re.search(r"[\\`*_{}\[\]()#+!|<>~$:&^]", bare), shown
    assert not re.match(r"\s*(?:[-=]|[0-9]+[.)])", shown), shown


@settings(max_examples=100, deadline=None)
@given(value=st.text(max_size=60) | st.text(alphabet="*_[]()<>`$:~|&!#+-=\\ 1.a", max_size=20))
def test_plain_messages_read_back_as_written(value: str) -> None:
    """fmt.plain (a whole message for st.error/st.success): read back exactly, nothing left to act on."""
    shown = fmt.plain(value)
    assert unescape(shown) == " ".join(value.splitlines())
    bare = _ESCAPED.sub("", shown)
    assert not re.search(r"[\\`*\[\]|<>~$&]|:(?=[^\s\d]|\d+:)|(?<![^\W_])_|_(?![^\W_])", bare), shown
    assert not re.match(r"\s*(?:[-=#+]|[0-9]+[.)])", shown), shown


def test_plain_keeps_ordinary_messages_as_they_are() -> None:
    for message in ("Socialt må højst have én decimal (fx 7,5).", "Borger B-1: 10:30 er for sent!",
                    "Udfyld afgjort_dato, tak."):
        assert fmt.plain(message) == message


def test_pages_show_names_as_text(sqlite_url: str) -> None:
    """A course whose every name is Markdown or HTML: the Forløb and ORS pages show the literal characters."""
    from tests.apptest_helpers import app_as

    with db.write_session() as s:
        unit_id = services.create_unit(s, SYSTEM, name="Enhed HTML", municipality="Kommune").id
        staff = services.add_staff(s, SYSTEM, unit_id=unit_id, name="Navn", initials=STAFF_INITIALS)
        group = services.create_group(s, SYSTEM, unit_id=unit_id, name=GROUP_NAME, start=T(-100))
        referral = services.register_referral(
            s, SYSTEM, unit_id=unit_id, citizen_ref=CITIZEN_REF, birth_year=1990, received=T(-60),
            referrer="other", target_group="social", age_note=AGE_NOTE)
        course_id = services.start_course(s, SYSTEM, referral_id=referral.id, start=T(-50), form="group",
                                          group_id=group.id, contact_person_id=staff.id, ref=COURSE_REF).id
    at = app_as("html-admin", "admin", "pages/forloeb.py")
    at.selectbox(key="forl-valgt").set_value(course_id).run()
    assert not at.exception, at.exception
    bodies = [element.value for kind in ("markdown", "caption", "warning", "info", "error", "success")
              for element in getattr(at, kind)]
    shown = [unescape(body) for body in bodies]
    for name in (CITIZEN_REF, COURSE_REF, GROUP_NAME, STAFF_INITIALS, AGE_NOTE):
        # The literal characters are shown …
        assert any(name in text for text in shown), (name, bodies)
        # … and never handed to Markdown as they are (where `**`, `[…](…)`, `<b>` or `$…$` would be interpreted).
        assert not any(name in body for body in bodies), (name, [b for b in bodies if name in b])


NAME = "**fed** <b>x</b> [a](http://x) `c`"  # Markdown, HTML, a link and code: none of it may act
INITIALS = "<I>*X*[Y]"
UNIT_NAME = "Enhed _kursiv_ ~~streg~~ :red[rød]"


def assert_shown_as_text(at, name: str, *, kinds: tuple[str, ...], must_show: bool = True) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's messages of these kinds: `name` never handed to Markdown as it is, and (with
    `must_show`) shown literally in at least one of them. Returns the messages as read."""
    assert not at.exception, at.exception
    bodies = [str(element.value) for kind in kinds for element in getattr(at, kind)]
    assert not any(name in body for body in bodies), ("rendered as Markdown", [b for b in bodies if name in b])
    shown = [unescape(body) for body in bodies]
    if must_show:
        assert any(name in text for text in shown), (name, bodies)
    return shown


def test_entry_messages_show_names_as_text(sqlite_url: str) -> None:
    """Every entry page's confirmation (st.success) and refusal (st.error) that names what was typed shows
    it literally: a group, a staff member, a citizen, a course, a unit and a login named in Markdown/HTML."""
    from tests.apptest_helpers import app_as, click

    with db.write_session() as s:
        unit_id = services.create_unit(s, SYSTEM, name=UNIT_NAME, municipality="Kommune").id
        first = services.register_referral(s, SYSTEM, unit_id=unit_id, citizen_ref="B-1", birth_year=1990,
                                           received=T(-60), referrer="other", target_group="social")
        course_id = services.start_course(s, SYSTEM, referral_id=first.id, start=T(-50), form="individual").id
        second = services.register_referral(s, SYSTEM, unit_id=unit_id, citizen_ref="B-2", birth_year=1990,
                                            received=T(-60), referrer="other", target_group="social")
        other_id = services.start_course(s, SYSTEM, referral_id=second.id, start=T(-50), form="individual").id
    at = app_as("besked-admin", "admin", "pages/hold.py")
    success, error = ("success",), ("error",)

    # Hold: a new group (confirmation), and the same name again (refusal).
    for expected in (success, error):
        at.text_input(key="hold-ny-navn").input(NAME)
        click(at, "Opret hold")
        assert_shown_as_text(at, NAME, kinds=expected)

    # Medarbejdere: a new staff member (confirmation names name and initials), the initials again (refusal).
    at.switch_page("pages/medarbejdere.py").run()
    for expected, name in ((success, NAME), (error, "Anden")):
        at.text_input(key="medarbejdere-ny-navn").input(name)
        at.text_input(key="medarbejdere-ny-initialer").input(INITIALS)
        click(at, "Opret medarbejder")
        assert_shown_as_text(at, INITIALS, kinds=expected)
        if expected == success:
            assert_shown_as_text(at, NAME, kinds=expected)

    # Henvisninger: a referral for a citizen so named (confirmation).
    at.switch_page("pages/henvisninger.py").run()
    at.text_input(key="henv-ny-ref").input(NAME)
    at.number_input(key="henv-ny-aar").set_value(1980)
    at.selectbox(key="henv-ny-henviser").set_value("jobcenter")
    at.selectbox(key="henv-ny-maalgruppe").set_value("social")
    click(at, "Gem henvisning")
    assert_shown_as_text(at, NAME, kinds=success)

    # Forløb: a course renamed (confirmation), and another course given the same name (refusal).
    at.switch_page("pages/forloeb.py").run()
    for expected, chosen in ((success, course_id), (error, other_id)):
        at.selectbox(key="forl-valgt").set_value(chosen).run()
        at.text_input(key=f"forl-{chosen}-ret-ref").input(NAME)
        click(at, "Gem rettelser")
        assert_shown_as_text(at, NAME, kinds=expected)
    with db.read_session() as s:
        assert s.get(Course, course_id).ref == NAME and s.get(Course, other_id).ref != NAME  # type: ignore[union-attr]

    # Mål: the unit's name in the confirmation.
    at.switch_page("pages/maal.py").run()
    click(at, "Gem mål")
    assert_shown_as_text(at, UNIT_NAME, kinds=success)

    # Brugere: a login so named (confirmation), and the same login again (refusal).
    at.switch_page("pages/brugere.py").run()
    for expected in (success, error):
        at.text_input(key="new_login").input(NAME)
        at.selectbox(key="new_role").set_value("staff")
        at.multiselect(key="new_units").set_value([unit_id])
        at.text_input(key="new_password").input("en-lang-adgangskode-42")
        click(at, "Opret bruger")
        assert_shown_as_text(at, NAME, kinds=expected)

    # And no page hands any of these names to Markdown as they are (in text, captions or messages).
    from fokus import access
    from fokus.actor import Actor

    kinds = ("markdown", "caption", "success", "error", "warning", "info", "text", "title", "header", "subheader")
    for page in access.PAGES:
        if access.may_open(Actor("x", "admin", None), page.key) and page.key not in ("moedeskaerm",):
            at.switch_page(page.path).run()
            for name in (NAME, INITIALS, UNIT_NAME):
                assert_shown_as_text(at, name, kinds=kinds, must_show=False)
