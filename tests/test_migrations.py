"""Migrations: every revision applies to a database with rows in it and keeps them.

The walk is generic over the revision list, so a new revision is covered the day it is added:
it is applied on top of rows written at the revision before it, stepped down and up again
when it has a downgrade, and must leave every earlier row as it was. Rows valid at a revision
come from `SEEDS`: the seed of the newest revision at or before it. A revision that changes
what a valid row looks like adds its own seed; one that deliberately rewrites stored values
names them in `DELIBERATE_CHANGES`.

Beside the walk: `alembic check` finds no difference between the models and the migrations
(on SQLite and PostgreSQL, including CHECK constraints and the partial index), and
`python -m fokus init` creates a database at head and may be run again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import Script, ScriptDirectory
from sqlmodel import SQLModel

from fokus import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]
Seed = Callable[[int], list[tuple[str, dict[str, Any]]]]


def seed_0001(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """One realistic row in every table of the initial schema (ids and names unique per batch)."""
    n = batch * 100
    at = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    return [
        ("unit", {"id": n + 1, "name": f"FOKUS Faxe {batch}", "municipality": "Faxe", "version": 1}),
        ("citizen", {"id": n + 1, "unit_id": n + 1, "ref": f"SAG-{batch}-1001", "birth_year": 1988, "created": at,
                     "version": 1}),
        ("staff", {"id": n + 1, "unit_id": n + 1, "name": "Anne Berg", "initials": "AB", "active": True,
                   "max_active_courses": 15, "version": 1}),
        ("user", {"id": n + 1, "login": f"anne{batch}@faxe.dk", "role": "staff", "password_hash": "$argon2id$x",
                  "active": True, "staff_id": n + 1, "failed_logins": 0, "locked_until": None, "version": 1}),
        ("userunit", {"user_id": n + 1, "unit_id": n + 1}),
        ("group", {"id": n + 1, "unit_id": n + 1, "name": "Forårsholdet", "theme": "Angst og stress",
                   "start": date(2025, 3, 3), "end": date(2025, 6, 16), "capacity": 10, "version": 1}),
        ("target", {"id": n + 1, "unit_id": n + 1, "valid_from": date(2025, 1, 1), "intake_min": 150,
                    "intake_max": 200, "group_share": 0.7, "weeks_min": 12, "weeks_max": 16, "max_months": 6,
                    "ors_cutoff": 25.0, "rci": 5.0, "jobcenter_quota": 120, "version": 1}),
        ("groupsession", {"id": n + 1, "group_id": n + 1, "date": date(2025, 3, 10), "version": 1}),
        ("referral", {"id": n + 1, "unit_id": n + 1, "citizen_id": n + 1, "received": date(2025, 2, 17),
                      "referrer": "jobcenter", "target_group": "psychic", "from_sel85": True, "status": "started",
                      "decided": date(2025, 3, 3), "reason": None, "age_note": None, "version": 2}),
        ("course", {"id": n + 1, "unit_id": n + 1, "ref": f"F2025-{batch:04d}", "citizen_id": n + 1,
                    "referral_id": n + 1, "start": date(2025, 3, 3), "form": "group", "group_id": n + 1,
                    "contact_person_id": n + 1, "end": date(2025, 6, 16), "end_reason": "completed",
                    "next_step": "job", "version": 2}),
        ("attendance", {"id": n + 1, "session_id": n + 1, "course_id": n + 1, "present": True}),
        ("networkmeeting", {"id": n + 1, "course_id": n + 1, "date": date(2025, 4, 2), "participants": 5,
                            "version": 1}),
        ("orsscore", {"id": n + 1, "course_id": n + 1, "date": date(2025, 3, 3), "session_no": 1, "individual": 42,
                      "interpersonal": 55, "social": 38, "overall": 47, "entered_by": n + 1, "entered_at": at,
                      "version": 1}),
        ("srsscore", {"id": n + 1, "course_id": n + 1, "date": date(2025, 3, 3), "session_no": 1, "relation": 92,
                      "goals": 88, "approach": 90, "overall": 95, "group_session": True, "entered_by": n + 1,
                      "entered_at": at, "version": 1}),
        ("auditevent", {"id": n + 1, "at": at, "user_login": f"anne{batch}@faxe.dk", "action": "created",
                        "table_name": "course", "row_id": n + 1, "unit_id": n + 1, "citizen_id": n + 1,
                        "citizen_ref": f"SAG-{batch}-1001", "detail": f"F2025-{batch:04d}"}),
    ]


def seed_0002(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0002 adds login sessions, the deletion register and settings."""
    n = batch * 100
    at = datetime(2025, 3, 3, 9, 45, tzinfo=UTC)
    return [
        *seed_0001(batch),
        ("loginsession", {"id": n + 1, "token_hash": f"{batch:064d}", "user_id": n + 1, "method": "password",
                          "created": at, "last_seen": at}),
        ("deletionrecord", {"id": n + 1, "ref_hash": f"{batch + 1:064x}", "deleted_at": at}),
        ("setting", {"key": f"audit_retention_months_{batch}", "value": "6", "version": 1}),
    ]


def seed_0003(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0003 adds the staff PIN and tablet self-report sessions."""
    n = batch * 100
    at = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    return [
        *[(table, {**row, "pin_hash": "$argon2id$pin"} if table == "user" else row)
          for table, row in seed_0002(batch)],
        ("selfreportsession", {"id": n + 1, "code_hash": f"{batch + 2:064x}", "course_id": n + 1,
                               "created_by": n + 1, "login_token_hash": f"{batch:064d}", "created": at,
                               "expires": datetime(2025, 3, 3, 10, 15, tzinfo=UTC), "used": at, "closed": at,
                               "failed_pins": 1, "version": 2}),
    ]


def seed_0004(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0004 adds the data version's change rows."""
    return [*seed_0003(batch),
            ("datachange", {"id": batch * 100 + 1, "at": datetime(2025, 3, 3, 10, 5, tzinfo=UTC)})]


def seed_0005(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0005 adds the course summaries: those of seed 0001's course (one ORS of 18.2, one meeting)."""
    summary = {"wait_days": 14, "duration_days": 105, "network_meetings": 1, "ors_count": 1, "ors_first": 182,
               "ors_last": 182, "ors_last_date": date(2025, 3, 3), "ors_1": 182,
               **{f"ors_{n}": None for n in range(2, 21)}}
    return [(table, {**row, **summary} if table == "course" else row) for table, row in seed_0004(batch)]


def seed_0007(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0007 adds the earliest day a change can move a figure of."""
    return [(table, {**row, "since": date(2025, 3, 3)} if table == "datachange" else row)
            for table, row in seed_0005(batch)]


def seed_0008(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0008 adds each group session's attendance counts: seed 0001's session has one present."""
    return [(table, {**row, "present_count": 1, "registered_count": 1} if table == "groupsession" else row)
            for table, row in seed_0007(batch)]


def seed_0009(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0009 marks a change that wrote only ORS scores."""
    return [(table, {**row, "scores_only": True} if table == "datachange" else row)
            for table, row in seed_0008(batch)]


def seed_0010(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0010 marks a change that moved a course's contact person and nothing else read."""
    return [(table, {**row, "scores_only": False, "contact_only": True} if table == "datachange" else row)
            for table, row in seed_0009(batch)]


def seed_0011(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0011 names the one course whose rows a change wrote: seed 0001's course."""
    return [(table, {**row, "course_id": batch * 100 + 1} if table == "datachange" else row)
            for table, row in seed_0010(batch)]


def seed_0012(batch: int) -> list[tuple[str, dict[str, Any]]]:
    """0012 keeps the meeting screen's settings per unit: seed 0001's unit holds its own slide time."""
    return [*seed_0011(batch),
            ("unitsetting", {"unit_id": batch * 100 + 1, "key": "screen_slide_seconds", "value": "20", "version": 2})]


# Revision → the rows that are valid from that revision on.
SEEDS: dict[str, Seed] = {"0001": seed_0001, "0002": seed_0002, "0003": seed_0003, "0004": seed_0004,
                          "0005": seed_0005, "0007": seed_0007, "0008": seed_0008, "0009": seed_0009,
                          "0010": seed_0010, "0011": seed_0011, "0012": seed_0012}

# Revision → "table" or "table.column" whose stored values that revision rewrites on purpose.
DELIBERATE_CHANGES: dict[str, set[str]] = {}


def revisions() -> list[Script]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, "the migrations have more than one head: merge them"
    return list(reversed(list(script.walk_revisions())))


def _seed_at(position: int, walk: list[Script]) -> Seed:
    for script in reversed(walk[: position + 1]):
        if script.revision in SEEDS:
            return SEEDS[script.revision]
    raise AssertionError(f"no seed for revision {walk[position].revision} or any before it: add one to SEEDS")


def _rows(url: str) -> Rows:
    """Every row of every table but Alembic's own, by primary key."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            rows: Rows = {}
            for table in metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                key = [column.name for column in table.primary_key.columns]
                rows[table.name] = {
                    tuple(row[name] for name in key): dict(row)
                    for row in connection.execute(sa.select(table)).mappings()
                }
            return rows
    finally:
        engine.dispose()


def _insert(url: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            for table_name, row in rows:
                connection.execute(metadata.tables[table_name].insert(), [row])
    finally:
        engine.dispose()


def _assert_kept(before: Rows, after: Rows, revision: str, step: str) -> None:
    allowed = DELIBERATE_CHANGES.get(revision, set())
    for table_name, old_rows in before.items():
        if table_name in allowed:
            continue
        assert table_name in after, f"{step}: table {table_name} and its {len(old_rows)} rows are gone"
        for key, old in old_rows.items():
            new = after[table_name].get(key)
            assert new is not None, f"{step}: row {key} of {table_name} is gone"
            changed = {
                column: (value, new[column])
                for column, value in old.items()
                if column in new and new[column] != value and f"{table_name}.{column}" not in allowed
            }
            assert not changed, f"{step}: row {key} of {table_name} changed: {changed}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fokus.db'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = f"m_{uuid.uuid4().hex[:12]}"
    cluster.execute(f"CREATE DATABASE {name}")
    yield cluster.url(name)
    db.dispose_all()
    cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_every_revision_applies_to_a_database_with_rows_and_keeps_them(empty_url: str) -> None:
    cfg = db.alembic_config(empty_url)
    walk = revisions()
    for position, script in enumerate(walk):
        revision = script.revision
        before = _rows(empty_url)
        command.upgrade(cfg, revision)
        _assert_kept(before, _rows(empty_url), revision, f"upgrade to {revision}")
        if script.down_revision is not None:
            try:
                command.downgrade(cfg, str(script.down_revision))
            except NotImplementedError:
                command.upgrade(cfg, revision)  # a revision without a way back
            else:
                _assert_kept(before, _rows(empty_url), revision, f"downgrade from {revision}")
                command.upgrade(cfg, revision)
                _assert_kept(before, _rows(empty_url), revision, f"upgrade to {revision} again")
        _insert(empty_url, _seed_at(position, walk)(position + 1))
    assert db.current_revision(empty_url) == db.head_revision()
    command.check(cfg)  # all those steps down and up lost no constraint or index on the way

    at_head = _rows(empty_url)
    empty = sorted(name for name in SQLModel.metadata.tables if not at_head.get(name))
    assert not empty, f"no seed writes rows to {empty}: extend SEEDS so every table is migrated with data"


def test_the_initial_schema_can_be_taken_down_with_rows_in_every_table_and_built_again(empty_url: str) -> None:
    cfg = db.alembic_config(empty_url)
    command.upgrade(cfg, "head")
    _insert(empty_url, seed_0001(1))
    command.downgrade(cfg, "base")
    assert _rows(empty_url) == {}
    command.upgrade(cfg, "head")
    assert db.current_revision(empty_url) == db.head_revision()
    _insert(empty_url, seed_0001(1))  # the same ids fit again: nothing was left behind


def test_the_newest_seed_fills_every_column_of_todays_tables() -> None:
    # A revision that adds a column adds a seed that fills it, so the walk migrates real values.
    walk = revisions()
    for table_name, row in _seed_at(len(walk) - 1, walk)(1):
        assert set(row) == set(SQLModel.metadata.tables[table_name].columns.keys()), table_name


# ---------------------------------------------------------------------------------------
# alembic check: models and migrations agree

def _alembic_check(url: str) -> subprocess.CompletedProcess[str]:
    db.dispose_all()
    return subprocess.run(
        [sys.executable, "-m", "alembic", "check"], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, "DATABASE_URL": url}, timeout=120,
    )


def test_alembic_check_finds_no_drift_between_models_and_migrations(db_url: str) -> None:
    result = _alembic_check(db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout


def _drop_index(url: str) -> None:
    with db.engine_for(url).begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_course_unit_start")


def _lose_the_where_clause(url: str) -> None:
    with db.engine_for(url).begin() as connection:
        connection.exec_driver_sql("DROP INDEX uq_course_one_open_per_citizen")
        connection.exec_driver_sql("CREATE UNIQUE INDEX uq_course_one_open_per_citizen ON course (citizen_id)")


def _drop_check_constraint(url: str) -> None:
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    with db.engine_for(url).begin() as connection:
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("orsscore") as batch:
            batch.drop_constraint("ck_orsscore_social_range", type_="check")


@pytest.mark.parametrize(
    ("drift", "named"),
    [
        (_drop_index, "ix_course_unit_start"),
        (_lose_the_where_clause, "uq_course_one_open_per_citizen"),
        (_drop_check_constraint, "ck_orsscore_social_range"),
    ],
    ids=["missing-index", "partial-index-without-where", "missing-check-constraint"],
)
def test_alembic_check_notices_drift(db_url: str, drift: Callable[[str], None], named: str) -> None:
    drift(db_url)
    result = _alembic_check(db_url)
    assert result.returncode != 0
    assert named in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------
# python -m fokus init

def _init(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fokus", "init"], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, "DATABASE_URL": url}, timeout=120,
    )


def test_init_creates_a_new_database_at_head_and_may_be_run_again(empty_url: str, tmp_path: Path) -> None:
    if empty_url.startswith("sqlite"):  # a file in a folder that does not exist yet
        empty_url = f"sqlite:///{tmp_path / 'ny' / 'mappe' / 'fokus.db'}"
    head = db.head_revision()
    first = _init(empty_url)
    assert first.returncode == 0, first.stderr
    assert f"revision {head}" in first.stdout
    assert db.current_revision(empty_url) == head
    _insert(empty_url, seed_0001(1))
    rows = _rows(empty_url)
    db.dispose_all()

    again = _init(empty_url)
    assert again.returncode == 0, again.stderr
    assert f"revision {head}" in again.stdout
    assert db.current_revision(empty_url) == head
    assert _rows(empty_url) == rows


def test_a_database_at_head_is_left_alone_when_the_app_starts(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No migration transaction at all when there is nothing to run: on SQLite that transaction
    ends with a foreign-key check of every row, which read the whole file into the server's memory
    at every start (800 MB at the benchmark's size L)."""
    db.upgrade_to_head(empty_url)
    began: list[object] = []
    real = db.migration_transaction
    monkeypatch.setattr(db, "migration_transaction", lambda connection: began.append(connection) or real(connection))
    db.upgrade_to_head(empty_url)
    assert began == [] and db.current_revision(empty_url) == db.head_revision()


def test_two_inits_at_once_both_succeed(empty_url: str, tmp_path: Path) -> None:
    # The app and a command line may both bring a new database to head at the same moment.
    if empty_url.startswith("sqlite"):
        empty_url = f"sqlite:///{tmp_path / 'fokus.db'}"
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "fokus", "init"], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "DATABASE_URL": empty_url},
        )
        for _ in range(3)
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    assert db.current_revision(empty_url) == db.head_revision()
