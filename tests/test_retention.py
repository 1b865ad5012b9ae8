"""Retention (DESIGN §8), on SQLite and PostgreSQL: who is due, and deleting them for real.

The data lies years back and `today` is passed in, so that the rules are tested at fixed days
whatever the real date. Retention is the default 5 years: on TODAY a citizen is due when their
last activity was on or before CUTOFF.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from fokus import audit, db, retention, settings
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.errors import PermissionDenied, ValidationError
from fokus.models import AuditEvent, Citizen, DeletionRecord

TODAY = date(2024, 6, 1)
CUTOFF = date(2019, 6, 1)
BIRTH_YEAR = 1975
ORS = {"individual": 50, "interpersonal": 60, "social": 40, "overall": 55}
SRS = {"relation": 90, "goals": 85, "approach": 90, "overall": 95}
ADMIN = Actor(login="admin", role="admin", unit_ids=None)

# ref → (what the last activity was, its day) for those due on TODAY
DUE = {
    "SAG-FORLOEB": ("course_ended", date(2017, 1, 10)),
    "SAG-AFVIST": ("rejected", date(2015, 4, 1)),
    "SAG-TRUKKET": ("withdrawn", date(2018, 2, 1)),
    "SAG-GRAENSE": ("course_ended", CUTOFF),
    "SAG-TO-FORLOEB": ("course_ended", date(2015, 12, 1)),
    "UNGE-AFVIST": ("rejected", date(2016, 9, 1)),
}
KEPT = ("SAG-DAGEN-EFTER", "SAG-VENTER", "SAG-AABEN", "SAG-NYLIG", "SAG-KOM-IGEN", "SAG-MOEDE-SENERE")


def referral(session: Session, unit_id: int, ref: str, received: date) -> int:
    return svc.register_referral(
        session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=BIRTH_YEAR, received=received,
        referrer="socialcenter", target_group="psychic",
    ).id


def course(session: Session, unit_id: int, ref: str, received: date, start: date, end: date | None,
           *, number: int = 1) -> int:
    referral_id = referral(session, unit_id, ref, received)
    course_id = svc.start_course(session, SYSTEM, referral_id=referral_id, start=start, form="individual",
                                 ref=f"K{number}-{ref}").id
    svc.add_ors(session, SYSTEM, course_id=course_id, day=start, items=ORS)
    if end is not None:
        svc.add_ors(session, SYSTEM, course_id=course_id, day=end, items=ORS)
        svc.end_course(session, SYSTEM, course_id=course_id, end=end, end_reason="completed", next_step="job")
    return course_id


def refused(session: Session, unit_id: int, ref: str, received: date, decided: date, status: str) -> int:
    referral_id = referral(session, unit_id, ref, received)
    svc.decide_referral(session, SYSTEM, referral_id=referral_id, status=status, decided=decided, reason="declined")
    return referral_id


@dataclass(frozen=True)
class World:
    unit_id: int
    other_unit_id: int
    ids: dict[str, int]  # citizen ref → id


@pytest.fixture
def world(unit_id: int) -> World:
    with db.write_session() as s:
        other = svc.create_unit(s, SYSTEM, name="FOKUS Unge", municipality="Testkommune").id
        group = svc.create_group(s, SYSTEM, unit_id=unit_id, name="Forår 2016", start=date(2016, 2, 1))
        first = svc.start_course(
            s, SYSTEM, referral_id=referral(s, unit_id, "SAG-FORLOEB", date(2016, 1, 4)), start=date(2016, 2, 1),
            form="group", group_id=group.id, ref="K1-SAG-FORLOEB",
        ).id
        svc.add_ors(s, SYSTEM, course_id=first, day=date(2016, 2, 1), items=ORS)
        svc.add_srs(s, SYSTEM, course_id=first, day=date(2016, 2, 1), items=SRS, group_session=True)
        svc.add_group_session(s, SYSTEM, group_id=group.id, day=date(2016, 2, 8), present_course_ids=[first])
        svc.add_network_meeting(s, SYSTEM, course_id=first, day=date(2016, 3, 1), participants=4)
        svc.end_course(s, SYSTEM, course_id=first, end=date(2017, 1, 10), end_reason="completed")
        refused(s, unit_id, "SAG-AFVIST", date(2015, 3, 1), date(2015, 4, 1), "rejected")
        refused(s, unit_id, "SAG-TRUKKET", date(2018, 1, 1), date(2018, 2, 1), "withdrawn")
        course(s, unit_id, "SAG-GRAENSE", date(2019, 1, 2), date(2019, 1, 7), CUTOFF)
        course(s, unit_id, "SAG-TO-FORLOEB", date(2013, 1, 2), date(2013, 1, 7), date(2013, 6, 1))
        course(s, unit_id, "SAG-TO-FORLOEB", date(2015, 6, 1), date(2015, 7, 1), date(2015, 12, 1), number=2)
        refused(s, other, "UNGE-AFVIST", date(2016, 8, 1), date(2016, 9, 1), "rejected")
        # Not due: one day short, waiting, open, recent, referred again later, met after the course.
        course(s, unit_id, "SAG-DAGEN-EFTER", date(2019, 1, 2), date(2019, 1, 7), date(2019, 6, 2))
        referral(s, unit_id, "SAG-VENTER", date(2012, 1, 2))
        course(s, unit_id, "SAG-AABEN", date(2012, 2, 1), date(2012, 3, 1), None)
        course(s, unit_id, "SAG-NYLIG", date(2021, 1, 4), date(2021, 2, 1), date(2022, 5, 2))
        course(s, unit_id, "SAG-KOM-IGEN", date(2013, 1, 2), date(2013, 2, 1), date(2014, 1, 6))
        refused(s, unit_id, "SAG-KOM-IGEN", date(2021, 2, 1), date(2021, 3, 1), "rejected")
        met = course(s, unit_id, "SAG-MOEDE-SENERE", date(2015, 1, 5), date(2015, 2, 2), date(2016, 6, 1))
        svc.add_network_meeting(s, SYSTEM, course_id=met, day=date(2020, 1, 10), participants=3)
        ids = {citizen.ref: citizen.id for citizen in s.exec(select(Citizen)).all()}
    return World(unit_id=unit_id, other_unit_id=other, ids=ids)


def preview(actor: Actor = ADMIN, today: date = TODAY) -> list[retention.DueCitizen]:
    with db.write_session() as session:
        return retention.due_citizens(session, actor, today)


def delete(refs: list[str], world: World, actor: Actor = ADMIN, today: date = TODAY) -> int:
    with db.write_session() as session:
        return retention.delete_due(session, actor, today, [world.ids[ref] for ref in refs])


def every_row(url: str | None = None) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of every table, by primary key."""
    with db.engine_for(url).connect() as connection:
        return {
            table.name: {
                tuple(row._mapping[c.name] for c in table.primary_key.columns): dict(row._mapping)
                for row in connection.execute(sa.select(table))
            }
            for table in SQLModel.metadata.sorted_tables
        }


def traces(rows: dict[str, dict[Any, dict[str, Any]]], citizen_ids: set[int], refs: set[str],
           before: dict[str, dict[Any, dict[str, Any]]]) -> list[str]:
    """Every place in the database where the citizens still show: their ids, their rows, their words.

    A row is theirs when it is a citizen row of theirs or refers, through a foreign key, to a row
    of theirs in `before` (so a table added later is searched too); an audit entry when it names
    their id, one of their rows, or (anywhere in its text) one of their references.
    """
    theirs: dict[str, set[Any]] = {"citizen": {(i,) for i in citizen_ids}}
    for table in SQLModel.metadata.sorted_tables:
        for key, row in before[table.name].items():
            for fk in table.foreign_keys:
                if (row[fk.parent.name],) in theirs.get(fk.column.table.name, set()):
                    theirs.setdefault(table.name, set()).add(key)
    found = []
    for table, table_rows in rows.items():
        for key, row in table_rows.items():
            if key in theirs.get(table, set()):
                found.append(f"{table} {key}")
            for column, value in row.items():
                if column == "citizen_id" and value in citizen_ids:
                    found.append(f"{table} {key}: citizen_id {value}")
                if isinstance(value, str) and any(ref in value for ref in refs):
                    found.append(f"{table} {key}: {column} = {value!r}")
            if table == "auditevent" and (row["row_id"],) in theirs.get(row["table_name"], set()):
                found.append(f"auditevent {key}: row {row['table_name']} {row['row_id']}")
    return found


def their_words(world: World, refs: list[str]) -> set[str]:
    """The citizens' references and their course references (K1-REF, K2-REF)."""
    return set(refs) | {f"K{n}-{ref}" for ref in refs for n in (1, 2)}


# ---------------------------------------------------------------------------------------
# Who is due

def test_the_preview_lists_exactly_the_citizens_due_with_what_their_last_activity_was(world: World) -> None:
    due = preview()
    assert {citizen.ref: (citizen.last_activity_kind, citizen.last_activity) for citizen in due} == DUE
    assert not set(KEPT) & {citizen.ref for citizen in due}


def test_the_preview_counts_each_citizens_rows_and_says_from_when_they_are_due(world: World) -> None:
    by_ref = {citizen.ref: citizen for citizen in preview()}
    first = by_ref["SAG-FORLOEB"]
    assert (first.unit_name, first.referrals, first.courses, first.scores, first.network_meetings) == (
        "FOKUS Test", 1, 1, 2, 1)
    assert first.due_since == date(2022, 1, 10)
    twice = by_ref["SAG-TO-FORLOEB"]
    assert (twice.referrals, twice.courses, twice.scores) == (2, 2, 4)
    assert by_ref["UNGE-AFVIST"].unit_name == "FOKUS Unge"
    frame = retention.preview_frame(list(by_ref.values()))
    assert list(frame["Borger"]) == list(by_ref)
    assert frame[frame["Borger"] == "SAG-FORLOEB"].iloc[0].to_dict() == {
        "Enhed": "FOKUS Test", "Borger": "SAG-FORLOEB", "Sidste aktivitet": "10.01.2017", "Hvad": "Forløb afsluttet",
        "Skal slettes fra": "10.01.2022", "Henvisninger": 1, "Forløb": 1, "Målinger": 2, "Netværksmøder": 1}


def test_a_citizen_is_due_on_the_day_the_retention_years_have_passed_not_the_day_before(world: World) -> None:
    assert "SAG-GRAENSE" not in {c.ref for c in preview(today=date(2024, 5, 31))}
    assert "SAG-GRAENSE" in {c.ref for c in preview(today=date(2024, 6, 1))}
    assert "SAG-DAGEN-EFTER" in {c.ref for c in preview(today=date(2024, 6, 2))}


def test_the_retention_time_is_the_setting_in_force(world: World) -> None:
    with db.write_session() as session:
        settings.put(session, ADMIN, "citizen_retention_years", 10)
    assert {c.ref for c in preview()} == set()
    assert {c.ref for c in preview(today=date(2025, 4, 1))} == {"SAG-AFVIST"}
    with db.write_session() as session:
        settings.put(session, ADMIN, "citizen_retention_years", 2)
    assert {c.ref for c in preview()} == set(DUE) | set(KEPT) - {"SAG-VENTER", "SAG-AABEN"}


def test_nobody_with_a_waiting_referral_or_an_open_course_is_ever_due(world: World) -> None:
    far_ahead = date(2100, 1, 1)
    refs = {c.ref for c in preview(today=far_ahead)}
    assert "SAG-VENTER" not in refs and "SAG-AABEN" not in refs
    assert set(KEPT) - {"SAG-VENTER", "SAG-AABEN"} <= refs


def test_an_administrator_of_one_unit_sees_and_deletes_only_that_units_citizens(world: World) -> None:
    local = Actor(login="lokal-admin", role="admin", unit_ids=frozenset({world.unit_id}))
    assert {c.ref for c in preview(local)} == set(DUE) - {"UNGE-AFVIST"}
    assert delete(["UNGE-AFVIST"], world, local) == 0
    assert "UNGE-AFVIST" in {c.ref for c in preview()}


# ---------------------------------------------------------------------------------------
# Deleting

def test_deleting_leaves_no_row_of_the_citizens_in_any_table_and_every_other_row_as_it_was(world: World) -> None:
    with db.write_session() as session:  # a search that named one of them without finding them
        audit.record(session, ADMIN, "searched", "auditevent").citizen_ref = "SAG-AFVIST"
    refs = sorted(DUE)
    before = every_row()
    assert delete(refs, world) == len(DUE)
    after = every_row()
    victims = {world.ids[ref] for ref in refs}
    assert traces(after, victims, their_words(world, refs), before) == []
    assert traces(before, victims, their_words(world, refs), before), "the test searches for the wrong things"
    # Everyone else's rows, and every other log entry, are exactly as they were; a group session
    # keeps its row, and its attendance counts are those of the attendance left.
    gone = {table: {key for key in rows if key not in after[table]} for table, rows in before.items()}
    counts = ("present_count", "registered_count")
    for table, rows in before.items():
        for key, row in rows.items():
            if key in gone[table] or (table == "auditevent" and row["citizen_ref"] in set(refs)):
                continue
            if table == "groupsession":
                left = [a for a in after["attendance"].values() if a["session_id"] == row["id"]]
                assert [after[table][key][c] for c in counts] == [sum(bool(a["present"]) for a in left), len(left)]
                row = {**row, **{c: after[table][key][c] for c in counts}}
            assert after[table][key] == row, (table, key)
    assert not gone["unit"] and not gone["group"] and not gone["groupsession"] and not gone["auditevent"]
    assert {c.ref for c in preview()} == set()


def test_the_log_keeps_the_citizens_entries_with_a_neutral_token_and_records_the_deletion(world: World) -> None:
    victim = world.ids["SAG-FORLOEB"]
    with db.read_session() as session:
        theirs = session.exec(select(AuditEvent.id).where(AuditEvent.citizen_id == victim)).all()
    delete(["SAG-FORLOEB", "UNGE-AFVIST"], world)
    with db.read_session() as session:
        kept = session.exec(select(AuditEvent).where(AuditEvent.id.in_(theirs))).all()
        deletions = session.exec(select(AuditEvent).where(AuditEvent.action == "deleted")).all()
    assert len(kept) == len(theirs) > 5
    assert {(e.citizen_id, e.citizen_ref, e.row_id) for e in kept} == {(None, "slettet", None)}
    assert "slettet" in {e.detail for e in kept}  # the course's reference, cut out of "created course"
    assert sorted((e.unit_id, e.detail, e.citizen_id, e.citizen_ref) for e in deletions) == sorted([
        (world.unit_id, "1 borgere slettet: 5 år efter sidste aktivitet", None, None),
        (world.other_unit_id, "1 borgere slettet: 5 år efter sidste aktivitet", None, None),
    ])


def test_only_citizens_still_due_are_deleted_whatever_ids_are_asked_for(world: World) -> None:
    assert delete(["SAG-AFVIST", "SAG-AABEN", "SAG-VENTER", "SAG-NYLIG", "SAG-DAGEN-EFTER"], world) == 1
    with db.read_session() as session:
        left = set(session.exec(select(Citizen.ref)).all())
    assert set(KEPT) <= left and "SAG-AFVIST" not in left
    with db.write_session() as session:  # and nothing at all for ids that are gone or never were
        assert retention.delete_due(session, ADMIN, TODAY, [world.ids["SAG-AFVIST"], 10**9]) == 0


def test_a_citizen_referred_again_since_the_preview_is_not_deleted(world: World) -> None:
    shown = [c.citizen_id for c in preview()]
    with db.write_session() as session:
        referral(session, world.unit_id, "SAG-AFVIST", date(2024, 5, 1))
    with db.write_session() as session:
        assert retention.delete_due(session, ADMIN, TODAY, shown) == len(DUE) - 1
    with db.read_session() as session:
        assert session.exec(select(Citizen.ref).where(Citizen.ref == "SAG-AFVIST")).one()


def test_each_deleted_citizen_gets_a_register_entry_of_their_hashed_reference_only(world: World) -> None:
    delete(sorted(DUE), world, ADMIN)
    with db.read_session() as session:
        register = retention.register_hashes(session)
    units = {ref: "FOKUS Unge" if ref.startswith("UNGE") else "FOKUS Test" for ref in DUE}
    assert set(register) == {retention.ref_hash(units[ref], ref) for ref in DUE}
    assert all(len(key) == 64 and not set(key) - set("0123456789abcdef") for key in register)
    assert retention.ref_hash("FOKUS Test", "SAG-AFVIST") == retention.ref_hash("FOKUS Test", "SAG-AFVIST")
    assert retention.ref_hash("FOKUS Test", "SAG-AFVIST") != retention.ref_hash("FOKUS Unge", "SAG-AFVIST")


def test_only_an_administrator_may_see_or_delete_and_a_refusal_is_logged(world: World) -> None:
    leader = Actor(login="leder", role="leader", unit_ids=frozenset({world.unit_id}))
    with pytest.raises(PermissionDenied):
        preview(leader)
    with pytest.raises(PermissionDenied):
        delete(sorted(DUE), world, leader)
    with pytest.raises(PermissionDenied), db.write_session() as session:
        retention.apply_register(session, leader, [])
    with db.read_session() as session:
        denied = session.exec(select(AuditEvent).where(AuditEvent.action == "denied")).all()
        left = session.exec(select(Citizen.id)).all()
    assert [(e.user_login, e.detail) for e in denied] == [
        ("leder", "oversigten over borgere, der skal slettes"),
        ("leder", "sletning af borgerdata"),
        ("leder", "anvendelse af sletteregistret"),
    ]
    assert len(left) == len(world.ids)


def test_only_whole_references_are_cut_out_of_the_logs_text() -> None:
    assert retention._without("B-12 og B-1, (B-1) og AB-1", ["B-1"]) == "B-12 og slettet, (slettet) og AB-1"


# ---------------------------------------------------------------------------------------
# The deletion register, applied to a restored backup

@pytest.fixture
def backup(world: World, db_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the database as it was before the deletion: its URL."""
    db.dispose_all()
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1].replace(".db", "-backup.db")
        with sqlite3.connect(db_url.split("///", 1)[1]) as source, sqlite3.connect(path) as target:
            source.backup(target)
        yield f"sqlite:///{path}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = f"b_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE {db_url.rsplit('/', 1)[1]}")
    yield cluster.url(name)
    db.engine_for(cluster.url(name)).dispose()
    cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_applying_the_register_to_an_older_backup_deletes_the_citizens_again(world: World, backup: str) -> None:
    refs = sorted(DUE)
    delete(refs, world)
    with db.read_session() as session:
        register = retention.register_hashes(session)
    before = every_row(backup)
    with db.write_session(db.engine_for(backup)) as session:
        assert retention.apply_register(session, ADMIN, register) == len(DUE)
    after = every_row(backup)
    victims = {world.ids[ref] for ref in refs}
    assert traces(after, victims, their_words(world, refs), before) == []
    with db.read_session(db.engine_for(backup)) as session:
        assert set(session.exec(select(Citizen.ref)).all()) == set(KEPT)
        assert retention.register_hashes(session) == register
        assert session.exec(select(AuditEvent.detail).where(AuditEvent.action == "deleted")).all() == [
            "5 borgere slettet: efter sletteregistret", "1 borgere slettet: efter sletteregistret"]
    with db.write_session(db.engine_for(backup)) as session:  # applying it twice changes nothing
        assert retention.apply_register(session, ADMIN, register) == 0


def test_a_citizen_referred_anew_after_the_deletion_is_kept_when_the_register_is_applied(world: World) -> None:
    delete(["SAG-AFVIST"], world)
    with db.write_session() as session:
        referral(session, world.unit_id, "SAG-AFVIST", date(2024, 5, 1))
    with db.read_session() as session:
        register = retention.register_hashes(session)
    with db.write_session() as session:
        assert retention.apply_register(session, ADMIN, register) == 0
    with db.write_session() as session:  # a bare hash has no time: it deletes whatever the dates
        assert retention.apply_register(session, ADMIN, list(register)) == 1


def test_a_register_file_round_trips_and_a_bad_one_is_refused(world: World, tmp_path: Any) -> None:
    delete(["SAG-AFVIST", "SAG-TRUKKET"], world)
    with db.read_session() as session:
        register = retention.register_hashes(session)
    path = tmp_path / "register.tsv"
    path.write_text("# sletteregister\n" + "\n".join(retention.register_lines(register)) + "\n")
    assert retention.load_register(str(path)) == register
    with pytest.raises(ValidationError), db.write_session() as session:
        retention.apply_register(session, ADMIN, ["not-a-hash"])
    with db.write_session() as session:
        key = next(iter(register))
        later = datetime(2030, 1, 1, tzinfo=UTC)
        assert retention.apply_register(session, ADMIN, {key: later}) == 0
        assert retention.register_hashes(session)[key] == later
        assert len(session.exec(select(DeletionRecord)).all()) == 2


def test_the_command_line_previews_and_deletes(world: World, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from fokus import cli, clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    assert cli.main(["retention"]) == 0
    printed = capsys.readouterr().out
    assert all(ref in printed for ref in DUE) and not any(ref in printed for ref in KEPT)
    assert "--delete" in printed
    assert cli.main(["retention", "--delete"]) == 0
    assert f"{len(DUE)} borgere er slettet permanent" in capsys.readouterr().out
    assert cli.main(["retention", "--print-register"]) == 0
    assert len(capsys.readouterr().out.split()) == 2 * len(DUE)



# ---------------------------------------------------------------------------------------
# The page

def test_the_page_shows_the_administrator_the_preview_and_deletes_after_confirmation(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fokus import clock
    from tests.apptest_helpers import app_as

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    at = app_as("admin-sletning", "admin", "pages/sletning.py")
    assert not at.exception and not at.error
    assert set(at.dataframe[0].value["Borger"]) == set(DUE)
    assert "5 år" in at.caption[0].value
    button = at.button(key="sletning_delete")
    assert button.label == f"Slet {len(DUE)} borgere permanent" and button.disabled
    at.checkbox(key="sletning_confirm").check().run()
    at.button(key="sletning_delete").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [f"{len(DUE)} borgere er slettet permanent."]
    assert [i.value for i in at.info] == ["Ingen borgere skal slettes i dag."]
    with db.read_session() as session:
        assert set(session.exec(select(Citizen.ref)).all()) == set(KEPT)


def test_the_page_is_not_in_a_staff_members_menu_and_refuses_them_if_reached(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from fokus import ui
    from tests.apptest_helpers import ROOT, app_as

    at = app_as("medarbejder-sletning", "staff", unit_names=["FOKUS Test"])
    with pytest.raises(ValueError, match="sletning"):
        at.switch_page("pages/sletning.py")
    page = AppTest.from_file(str(ROOT / "pages" / "sletning.py"), default_timeout=30)
    page.session_state[ui.ACTOR_KEY] = Actor(login="medarbejder", role="staff", unit_ids=frozenset({world.unit_id}))
    page.run()
    assert [e.value for e in page.error] == ["Din rolle giver ikke adgang til denne side."]
    assert not page.dataframe and not page.button
    with db.read_session() as session:
        denied = session.exec(select(AuditEvent).where(AuditEvent.action == "denied")).all()
    assert [(e.user_login, e.detail) for e in denied] == [("medarbejder", "side sletning")]
