"""The audit log of DESIGN §8 as the leader uses it: search, a citizen's extract, purge, settings.

On SQLite and PostgreSQL. Entries are written with fixed times so that the period filters and the
purge's boundary are tested to the microsecond; Copenhagen days are what a user types.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from fokus import audit, auditlog, clock, codes, db, settings
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.cli import main as cli
from fokus.errors import NotFoundError, PermissionDenied, ValidationError
from fokus.models import AuditEvent, Citizen, User, UserUnit
from fokus.ui import ACTOR_KEY

ROOT = Path(__file__).resolve().parents[1]
ADMIN = Actor("admin", "admin", None)


def add_unit(name: str) -> int:
    with db.write_session() as session:
        unit = svc.create_unit(session, SYSTEM, name=name, municipality="Testkommune")
        assert unit.id is not None
        return unit.id


def add_citizen(unit_id: int, ref: str) -> int:
    """A citizen, made the ordinary way: a referral (which logs "created" for the citizen)."""
    with db.write_session() as session:
        svc.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1990,
                              received=clock.today() - timedelta(days=10), referrer="socialcenter",
                              target_group="psychic")
        citizen = session.exec(select(Citizen).where(Citizen.unit_id == unit_id, Citizen.ref == ref)).one()
        assert citizen.id is not None
        return citizen.id


def add_event(detail: str, *, at: datetime | None = None, login: str = "anna", action: str = "viewed",
              unit_id: int | None = None, ref: str | None = None) -> None:
    with db.write_session() as session:
        session.add(AuditEvent(at=at or clock.now_utc(), user_login=login, action=action, unit_id=unit_id,
                               citizen_ref=ref, table_name="course" if ref else "", detail=detail))


def add_user(login: str, role: str, unit_ids: list[int]) -> None:
    with db.write_session() as session:
        user = User(login=login, role=role)
        session.add(user)
        session.flush()
        assert user.id is not None
        for unit_id in unit_ids:
            session.add(UserUnit(user_id=user.id, unit_id=unit_id))


def events(action: str | None = None) -> list[AuditEvent]:
    with db.read_session() as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.exec(query).all())


def search(actor: Actor, **filters: object) -> list[str]:
    with db.write_session() as session:
        return [row.detail for row in auditlog.search(session, actor, **filters)]  # type: ignore[arg-type]


# --- search ---------------------------------------------------------------------------------

@pytest.fixture
def three_entries(unit_id: int) -> int:
    # 23:30 UTC on 2 March is 00:30 on 3 March in Copenhagen: the period filters use Copenhagen days.
    add_event("e1", at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC), login="anna", action="viewed",
              unit_id=unit_id, ref="K-1")
    add_event("e2", at=datetime(2025, 3, 2, 23, 30, tzinfo=UTC), login="bo", action="changed",
              unit_id=unit_id, ref="K-2")
    add_event("e3", at=datetime(2025, 3, 5, 8, 0, tzinfo=UTC), login="Anna.B", action="exported",
              unit_id=unit_id, ref="K-1")
    return unit_id


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["e3", "e2", "e1"]),
        ({"user_login": "ANNA"}, ["e3", "e1"]),
        ({"user_login": "%"}, []),
        ({"citizen_ref": "K-1"}, ["e3", "e1"]),
        ({"citizen_ref": "K-"}, []),
        ({"action": "changed"}, ["e2"]),
        ({"start": date(2025, 3, 3), "end": date(2025, 3, 3)}, ["e2"]),
        ({"start": date(2025, 3, 2), "end": date(2025, 3, 2)}, []),
        ({"start": date(2025, 3, 3)}, ["e3", "e2"]),
        ({"end": date(2025, 3, 1)}, ["e1"]),
        ({"user_login": "anna", "citizen_ref": "K-1", "action": "viewed"}, ["e1"]),
        ({"end": date(2025, 3, 31), "limit": 2}, ["e3", "e2"]),
    ],
)
def test_search_filters_each_work_newest_first(three_entries: int, filters: dict[str, object],
                                               expected: list[str]) -> None:
    found = search(ADMIN, **filters)
    assert [detail for detail in found if detail.startswith("e")] == expected


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"action": "looked"}, "action"),
        ({"start": date(2025, 3, 4), "end": date(2025, 3, 3)}, "start"),
        ({"limit": 0}, "limit"),
    ],
)
def test_search_refuses_bad_filters_with_a_danish_message(unit_id: int, filters: dict[str, object],
                                                          field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        search(ADMIN, **filters)
    assert refused.value.field == field


def test_a_leader_sees_their_units_their_own_and_their_staffs_logins_and_nothing_of_another_unit(
    unit_id: int,
) -> None:
    unit_b = add_unit("FOKUS B")
    add_user("leder.a", "leader", [unit_id])
    add_user("kollega.a", "staff", [unit_id])
    add_user("kollega.b", "staff", [unit_b])
    add_event("unit A use", unit_id=unit_id, ref="K-1")
    add_event("unit B use", unit_id=unit_b, ref="K-9")
    add_event("own login", login="leder.a", action="login")
    add_event("colleague A login", login="kollega.a", action="login_failed")
    add_event("colleague A refused", login="kollega.a", action="denied")
    add_event("colleague A search without a unit", login="kollega.a", action="searched", ref="K-9")
    add_event("colleague B login", login="kollega.b", action="login")
    add_event("unknown login", login="nobody", action="login_failed")
    add_event("admin changed a setting", login="admin", action="changed")
    add_event("purge", login="system", action="purged")
    leader = Actor("leder.a", "leader", frozenset({unit_id}))

    assert set(search(leader)) == {
        "FOKUS Test",  # the unit's creation
        "unit A use", "own login", "colleague A login", "colleague A refused", "purge",
    }
    assert search(leader, citizen_ref="K-9") == []
    assert "unit B use" in search(ADMIN, citizen_ref="K-9")
    everything = search(ADMIN)
    assert len(everything) == 10 + 2 + 2  # and the units' creation, and the two searches for K-9


@pytest.mark.parametrize("role", ["staff", "screen"])
@pytest.mark.parametrize(
    "use",
    [
        lambda session, actor, unit_id: auditlog.search(session, actor),
        lambda session, actor, unit_id: auditlog.citizen_extract(session, actor, unit_id, "K-1"),
        lambda session, actor, unit_id: auditlog.purge(session, actor, clock.now_utc()),
    ],
    ids=["search", "extract", "purge"],
)
def test_staff_and_the_meeting_screen_are_refused_and_the_refusal_is_logged(unit_id: int, role: str, use) -> None:  # type: ignore[no-untyped-def]
    add_citizen(unit_id, "K-1")
    before = len(events())
    actor = Actor(f"{role}.user", role, frozenset({unit_id}))
    with pytest.raises(PermissionDenied), db.write_session() as session:
        use(session, actor, unit_id)
    after = events()
    assert len(after) == before + 1
    assert (after[-1].action, after[-1].user_login) == ("denied", f"{role}.user")


# --- logging the search ---------------------------------------------------------------------

def test_a_repeated_search_with_the_same_set_is_logged_once_and_a_new_search_again(unit_id: int) -> None:
    k1 = add_citizen(unit_id, "K-1")
    add_citizen(unit_id, "K-2")
    leader = Actor("leder", "leader", frozenset({unit_id}))
    browser_session: set[tuple[str, str]] = set()

    for _ in range(3):  # Streamlit reruns the page on every click
        search(leader, citizen_ref="K-1", already_logged=browser_session)
    search(leader, citizen_ref="K-1", action="created", already_logged=browser_session)
    assert len(events("searched")) == 1
    first = events("searched")[0]
    assert (first.user_login, first.citizen_id, first.citizen_ref, first.unit_id) == ("leder", k1, "K-1", unit_id)
    assert "K-1" not in first.detail  # deletion replaces citizen_ref; a copy in detail would survive it

    search(leader, citizen_ref="K-2", already_logged=browser_session)
    assert [e.citizen_ref for e in events("searched")] == ["K-1", "K-2"]
    search(leader, citizen_ref="K-1", already_logged=set())  # a new browser session
    search(leader, user_login="leder", already_logged=browser_session)  # not a search for a citizen
    assert [e.citizen_ref for e in events("searched")] == ["K-1", "K-2", "K-1"]


def test_a_search_for_a_reference_no_citizen_has_is_logged_with_the_reference(unit_id: int) -> None:
    search(ADMIN, citizen_ref="X-404")
    logged = events("searched")
    assert [(e.citizen_ref, e.citizen_id, e.unit_id) for e in logged] == [("X-404", None, None)]


@pytest.mark.parametrize("text", ["010190-1234", "0101901234", "010190 1234", "sag 311299–4321"])
def test_a_cpr_number_as_search_text_is_refused_and_never_logged(unit_id: int, text: str) -> None:
    add_citizen(unit_id, "K-1")
    before = events()
    for field in ("citizen_ref", "user_login"):
        with pytest.raises(ValidationError) as refused:
            search(ADMIN, **{field: text})
        assert refused.value.field == field
        assert "CPR" in refused.value.message
    with pytest.raises(ValidationError), db.write_session() as session:
        auditlog.citizen_extract(session, ADMIN, unit_id, text)
    assert events() == before


# --- the citizen's extract ------------------------------------------------------------------

def test_the_citizens_extract_holds_exactly_their_entries_and_is_logged_as_exported(unit_id: int) -> None:
    unit_b = add_unit("FOKUS B")
    k1 = add_citizen(unit_id, "K-1")
    add_citizen(unit_id, "K-2")
    add_citizen(unit_b, "K-1")  # the same reference in another unit is another citizen
    with db.write_session() as session:
        citizen = session.get(Citizen, k1)
        audit.record(session, SYSTEM, "viewed", "citizen", k1, citizen=citizen, detail="kort")
    theirs = [e for e in events() if e.citizen_id == k1]
    leader = Actor("leder", "leader", frozenset({unit_id}))

    with db.write_session() as session:
        extract = auditlog.citizen_extract(session, leader, unit_id, " K-1 ")

    assert list(extract.columns) == ["Tidspunkt", "Bruger", "Handling", "Tabel", "Detaljer"]
    assert len(extract) == len(theirs) == 3  # citizen and referral created, then viewed
    assert list(extract["Handling"]) == ["Oprettet", "Oprettet", "Set"]
    assert list(extract["Tabel"]) == ["Borger", "Henvisning", "Borger"]
    assert list(extract["Detaljer"])[-1] == "kort"
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", moment) for moment in extract["Tidspunkt"])
    exported = events("exported")
    assert [(e.user_login, e.citizen_id, e.unit_id) for e in exported] == [("leder", k1, unit_id)]


def test_the_extract_shows_copenhagen_time() -> None:
    row = auditlog.AuditRow(id=1, at=datetime(2025, 7, 1, 22, 5, tzinfo=UTC), user_login="a", action="viewed",
                            table_name="course", row_id=None, unit_id=None, unit_name=None, citizen_ref="K-1",
                            detail="")
    assert auditlog.frame([row]).iloc[0]["Tidspunkt"] == "02.07.2025 00:05"


def test_an_extract_for_another_unit_or_an_unknown_citizen_is_refused(unit_id: int) -> None:
    unit_b = add_unit("FOKUS B")
    add_citizen(unit_b, "K-1")
    leader = Actor("leder", "leader", frozenset({unit_id}))
    with pytest.raises(PermissionDenied), db.write_session() as session:
        auditlog.citizen_extract(session, leader, unit_b, "K-1")
    with pytest.raises(NotFoundError), db.write_session() as session:
        auditlog.citizen_extract(session, leader, unit_id, "K-1")
    assert events("exported") == []


# --- purge ----------------------------------------------------------------------------------

NOW = datetime(2025, 9, 15, 10, 0, tzinfo=UTC)
# Six months before 15 September is 15 March; the cut is that day's start in Copenhagen (CET).
CUTOFF = datetime(2025, 3, 14, 23, 0, tzinfo=UTC)


def test_purge_removes_exactly_the_entries_older_than_the_retention(unit_id: int) -> None:
    add_event("long ago", at=datetime(2020, 1, 1, tzinfo=UTC))
    add_event("just before", at=CUTOFF - timedelta(microseconds=1))
    add_event("at the cut", at=CUTOFF)
    add_event("after", at=CUTOFF + timedelta(hours=1))
    kept_before = {e.detail for e in events() if e.detail not in ("long ago", "just before")}
    with db.read_session() as session:
        policy = auditlog.retention(session, ADMIN, NOW)
    assert (policy.months, policy.cutoff, policy.due) == (6, CUTOFF, 2)

    with db.write_session() as session:
        assert auditlog.purge(session, Actor("leder", "leader", frozenset({unit_id})), NOW) == 2

    remaining = events()
    assert {e.detail for e in remaining if e.action != "purged"} == kept_before
    purged = events("purged")
    assert len(purged) == 1 and purged[0].user_login == "leder" and purged[0].detail.startswith("2 poster")


def test_purge_follows_the_retention_setting(unit_id: int) -> None:
    add_event("ten months old", at=NOW - timedelta(days=300))
    with db.write_session() as session:
        settings.put(session, ADMIN, "audit_retention_months", 12)
    with db.write_session() as session:
        assert auditlog.purge(session, ADMIN, NOW) == 0
    with db.write_session() as session:
        settings.put(session, ADMIN, "audit_retention_months", 6)
    with db.write_session() as session:
        assert auditlog.purge(session, ADMIN, NOW) == 1


@pytest.mark.parametrize(
    ("now", "months", "first_kept"),
    [
        (datetime(2025, 8, 31, 12, 0, tzinfo=UTC), 6, datetime(2025, 2, 28, tzinfo=clock.COPENHAGEN)),
        (datetime(2024, 8, 31, 12, 0, tzinfo=UTC), 6, datetime(2024, 2, 29, tzinfo=clock.COPENHAGEN)),
        (datetime(2025, 1, 10, 23, 30, tzinfo=UTC), 6, datetime(2024, 7, 11, tzinfo=clock.COPENHAGEN)),
        (datetime(2025, 10, 1, 0, 0, tzinfo=UTC), 120, datetime(2015, 10, 1, tzinfo=clock.COPENHAGEN)),
    ],
)
def test_the_retention_counts_calendar_months_back_from_the_copenhagen_day(now: datetime, months: int,
                                                                           first_kept: datetime) -> None:
    assert auditlog.retention_cutoff(months, now) == first_kept


def test_purge_audit_on_the_command_line_prints_the_count(unit_id: int, capsys: pytest.CaptureFixture[str]) -> None:
    add_event("long ago", at=datetime(2020, 1, 1, tzinfo=UTC))
    add_event("today")
    assert cli(["purge-audit"]) == 0
    assert capsys.readouterr().out.startswith("1 poster")
    assert [e.detail for e in events() if e.action != "purged"][-1] == "today"
    assert events("purged")[0].user_login == "system"


# --- settings -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [5, 121, 6.0 - 1e-9, True, "7", None])
def test_a_setting_outside_its_limits_or_not_a_number_is_refused(unit_id: int, value: object) -> None:
    with pytest.raises(ValidationError) as refused, db.write_session() as session:
        settings.put(session, ADMIN, "audit_retention_months", value)  # type: ignore[arg-type]
    assert "6 til 120 måneder" in refused.value.message
    with db.read_session() as session:
        assert settings.get(session, "audit_retention_months") == 6


def test_settings_are_changed_by_an_administrator_only_and_the_change_is_logged(unit_id: int) -> None:
    leader = Actor("leder", "leader", frozenset({unit_id}))
    with pytest.raises(PermissionDenied), db.write_session() as session:
        settings.put(session, leader, "audit_retention_months", 12)
    assert [(e.action, e.user_login) for e in events()][-1] == ("denied", "leder")
    with pytest.raises(ValidationError), db.write_session() as session:
        settings.put(session, ADMIN, "no_such_setting", 1)

    with db.write_session() as session:
        settings.put(session, ADMIN, "audit_retention_months", 12)
    with db.read_session() as session:
        assert settings.get(session, "audit_retention_months") == 12
    assert events()[-1].action == "changed" and events()[-1].detail == "audit_retention_months=12"


def test_every_setting_is_documented_in_the_readme_with_its_default_and_limits() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key, spec in settings.SPECS.items():
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{key}` |")), None)
        assert row is not None, f"README lacks the setting {key}"
        assert row.endswith(f"| {spec.default:g} | {spec.low:g}–{spec.high:g} |"), row


def test_every_kind_of_audit_entry_has_a_danish_label() -> None:
    assert set(codes.AUDIT_ACTIONS) == set(audit.ACTIONS)


# --- the pages ------------------------------------------------------------------------------

def _page_alone(path: str, actor: Actor) -> AppTest:
    """The page file itself, as `app.py` hands it the signed-in actor: its own gate is tested."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    at.session_state[ACTOR_KEY] = actor
    return at.run()


@pytest.mark.parametrize("role", ["staff", "screen"])
def test_the_log_page_refuses_staff_and_logs_it_once(sqlite_url: str, role: str) -> None:
    unit = add_unit("FOKUS Side")
    at = _page_alone("pages/revisionslog.py", Actor("m", role, frozenset({unit})))
    assert [e.value for e in at.error] == ["Din rolle giver ikke adgang til denne side."]
    assert not at.dataframe
    at.run()
    assert [(e.action, e.user_login) for e in events("denied")] == [("denied", "m")]


def test_the_leader_sees_the_log_and_a_rerun_adds_no_second_search_entry(sqlite_url: str) -> None:
    from tests.apptest_helpers import app_as

    unit = add_unit("FOKUS Side")
    add_citizen(unit, "K-1")
    at = app_as("leder.side", "leader", "pages/revisionslog.py")
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert "leder.side" in set(at.dataframe[0].value["Bruger"])  # the leader's own login

    at.text_input(key="revisionslog-ref").input("K-1")
    next(b for b in at.button if b.label == "Søg").click().run()
    assert set(at.dataframe[0].value["Borger"]) == {"K-1"}
    at.run()
    next(b for b in at.button if b.label == "Søg").click().run()
    assert [(e.user_login, e.citizen_ref) for e in events("searched")] == [("leder.side", "K-1")]

    at.text_input(key="revisionslog-extract-ref").input("K-1")
    next(b for b in at.button if b.label == "Lav udtræk").click().run()
    assert not at.error, [e.value for e in at.error]
    assert len(events("exported")) == 1
    at.run()
    assert len(events("exported")) == 1


def test_the_settings_page_saves_a_valid_value_and_shows_why_a_bad_one_is_refused(sqlite_url: str) -> None:
    at = _page_alone("pages/indstillinger.py", ADMIN)
    assert len(at.number_input) == len(settings.SPECS)
    at.number_input(key="indstilling-audit_retention_months").set_value(12)
    next(b for b in at.button if b.label == "Gem").click().run()
    assert [s.value for s in at.success] == ["Indstillingerne er gemt."]
    with db.read_session() as session:
        assert settings.get(session, "audit_retention_months") == 12

    at.number_input(key="indstilling-audit_retention_months").set_value(3)
    next(b for b in at.button if b.label == "Gem").click().run()
    assert [e.value for e in at.error] == ["Revisionslog gemmes i skal ligge fra 6 til 120 måneder."]
    with db.read_session() as session:
        assert settings.get(session, "audit_retention_months") == 12


def test_the_settings_page_is_for_administrators_only(sqlite_url: str) -> None:
    unit = add_unit("FOKUS Side")
    at = _page_alone("pages/indstillinger.py", Actor("leder", "leader", frozenset({unit})))
    assert [e.value for e in at.error] == ["Din rolle giver ikke adgang til denne side."]
    assert not at.number_input
