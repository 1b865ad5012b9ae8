"""Backup and restore (issue 7): `fokus.backup`, on SQLite and PostgreSQL, and its commands.

What a person relies on: a backup taken while the app saves holds everything saved before it
began and passes its integrity check; a restore gives back every row as it was, migrated to
the newest schema, and citizens deleted since the backup stay deleted; a damaged or foreign file
changes nothing; only an administrator of every unit may do either, and both are logged.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import SQLModel, select

from fokus import backup, db, retention
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.clock import today
from fokus.errors import PermissionDenied, ValidationError
from fokus.models import AuditEvent, Citizen, DeletionRecord
from tests.apptest_helpers import ROOT
from tests.conftest import PostgresCluster

# The bookkeeping a restore itself adds to (its log entry, the data version, the register).
BOOKKEEPING = {"auditevent", "datachange", "deletionrecord"}


def refer(unit_id: int, ref: str, received: date | None = None) -> int:
    with db.write_session() as session:
        return svc.register_referral(
            session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1980, received=received or today(),
            referrer="socialcenter", target_group="psychic",
        ).citizen_id


def refs() -> set[str]:
    with db.read_session() as session:
        return set(session.exec(select(Citizen.ref)).all())


def every_row(url: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the bookkeeping, in key order."""
    engine = db.engine_for(url)
    with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key))]
            for table in SQLModel.metadata.sorted_tables if table.name not in BOOKKEEPING
        }


def last_log_entry() -> AuditEvent:
    with db.read_session() as session:
        entry = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
        assert entry is not None
        return entry


# ---------------------------------------------------------------------------------------
# SQLite: a backup while another connection writes

def _fill_log(url: str, rows: int) -> None:
    """Bulk rows, so that a backup takes long enough for a writer to run beside it."""
    path = backup._sqlite_path(url)
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO auditevent (at, user_login, action, table_name, detail) VALUES (?, ?, ?, ?, ?)",
            (("2026-01-01 00:00:00", "fyld", "viewed", "citizen", "x" * 400) for _ in range(rows)),
        )


def test_a_backup_taken_while_another_connection_writes_holds_every_row_committed_before_it_began(
        sqlite_url: str, tmp_path: Path) -> None:
    with db.write_session() as session:
        unit = svc.create_unit(session, SYSTEM, name="FOKUS Test", municipality="Testkommune").id
    _fill_log(sqlite_url, 150_000)
    committed: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        number = 0
        while not stop.is_set():
            refer(unit, f"W-{number:05d}")
            committed.append(f"W-{number:05d}")
            number += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(committed) < 5:
            time.sleep(0.01)
        before = list(committed)
        made = backup.backup(SYSTEM, tmp_path / "kopi.db")
        during = len(committed) - len(before)
    finally:
        stop.set()
        thread.join()

    assert during > 0, "the writer was blocked while the backup ran"
    assert made.size_bytes > 50_000_000 and made.revision == db.head_revision()
    assert made.path.stat().st_mode & 0o777 == 0o600
    assert not Path(f"{made.path}-wal").exists()
    with sqlite3.connect(made.path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    backup.restore(SYSTEM, made.path)
    with sqlite3.connect(backup._sqlite_path(sqlite_url)) as restored:
        assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = sorted(ref for ref in refs() if ref.startswith("W-"))
    assert set(before) <= set(kept), "a row committed before the backup began is missing"
    assert kept == committed[:len(kept)], "the backup holds rows the writer never committed, or has gaps"
    print(f"backup of {made.size_bytes / 1e6:.0f} MB in {made.seconds:.2f} s; {during} rows committed meanwhile")


# ---------------------------------------------------------------------------------------
# Both databases: what a restore gives back

def test_a_restore_gives_back_every_row_as_it_was_at_the_backup(db_url: str, unit_id: int, tmp_path: Path) -> None:
    for number in range(3):
        refer(unit_id, f"FOER-{number}")
    at_backup = every_row()
    made = backup.backup(SYSTEM, tmp_path / "kopi")
    refer(unit_id, "EFTER")
    with db.write_session() as session:
        svc.add_staff(session, SYSTEM, unit_id=unit_id, name="Ny Efter", initials="NE")
    assert every_row() != at_backup

    done = backup.restore(SYSTEM, made.path)

    assert every_row() == at_backup
    assert (done.backup_revision, done.revision, done.deleted_again) == (db.head_revision(), db.head_revision(), 0)
    assert db.current_revision() == db.head_revision()


def test_a_restore_deletes_again_the_citizens_deleted_since_the_backup(db_url: str, unit_id: int,
                                                                          tmp_path: Path) -> None:
    with db.write_session() as session:  # rejected in 2015: due for deletion (5 years) long since
        old = svc.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref="SAG-GAMMEL", birth_year=1970,
                                    received=date(2015, 3, 1), referrer="jobcenter", target_group="social")
        svc.decide_referral(session, SYSTEM, referral_id=old.id, status="rejected", decided=date(2015, 3, 10),
                            reason="declined")
    refer(unit_id, "SAG-AKTIV")
    made = backup.backup(SYSTEM, tmp_path / "kopi")
    with db.write_session() as session:
        assert retention.delete_due(session, SYSTEM, today(), [old.citizen_id]) == 1
    version_before = db.data_version()

    done = backup.restore(SYSTEM, made.path)

    assert refs() == {"SAG-AKTIV"}
    assert done.deleted_again == 1
    with db.read_session() as session:
        assert retention.ref_hash("FOKUS Test", "SAG-GAMMEL") in retention.register_hashes(session)
        assert len(session.exec(select(DeletionRecord)).all()) == 1
    assert db.data_version() > version_before, "dashboards cached on the old data version would show old figures"
    entry = last_log_entry()
    assert (entry.action, entry.user_login, entry.table_name) == ("changed", "system", "database")
    assert "gendannet fra sikkerhedskopien kopi" in entry.detail and "1 borgere slettet" in entry.detail


def test_backups_are_logged(db_url: str, tmp_path: Path) -> None:
    data = backup.download(SYSTEM)
    entry = last_log_entry()
    assert (entry.action, entry.table_name) == ("exported", "database")
    assert entry.detail.startswith("sikkerhedskopi af hele databasen: fokus-") and len(data) > 1000
    assert backup.file_name().endswith(".db" if db_url.startswith("sqlite") else ".dump")


def test_a_damaged_or_foreign_file_is_refused_and_the_database_is_untouched(db_url: str, unit_id: int,
                                                                             tmp_path: Path) -> None:
    refer(unit_id, "SAG-1")
    rows = every_row()
    garbage = tmp_path / "skrald.db"
    garbage.write_bytes(b"ikke en database " * 1000)
    foreign = tmp_path / "fremmed.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    damaged = tmp_path / "beskadiget"
    good = backup.backup(SYSTEM, tmp_path / "god").path.read_bytes()
    damaged.write_bytes(good[: len(good) // 2])
    for path in (garbage, foreign, damaged):
        with pytest.raises(ValidationError) as refused:
            backup.restore(SYSTEM, path)
        assert "sikkerhedskopi" in refused.value.message.lower() or "beskadiget" in refused.value.message
    with pytest.raises(ValidationError, match="findes ikke"):
        backup.restore(SYSTEM, tmp_path / "mangler")
    assert every_row() == rows


def test_only_an_administrator_of_every_unit_may_back_up_or_restore(db_url: str, unit_id: int,
                                                                    tmp_path: Path) -> None:
    made = backup.backup(SYSTEM, tmp_path / "kopi")
    for actor in (Actor("leder", "leader", frozenset({unit_id})), Actor("admin-a", "admin", frozenset({unit_id}))):
        with pytest.raises(PermissionDenied):
            backup.backup(actor, tmp_path / "ny")
        with pytest.raises(PermissionDenied):
            backup.restore(actor, made.path)
    assert not (tmp_path / "ny").exists()


# ---------------------------------------------------------------------------------------
# A backup of an older version is migrated to the newest

def test_a_sqlite_backup_of_an_older_revision_is_migrated_to_head(sqlite_url: str, tmp_path: Path) -> None:
    old_url = f"sqlite:///{tmp_path / 'gammel.db'}"
    command.upgrade(db.alembic_config(old_url), "0003")
    made = backup.backup(SYSTEM, tmp_path / "kopi", url=old_url)
    assert made.revision == "0003"
    done = backup.restore(SYSTEM, made.path)
    assert (done.backup_revision, db.current_revision()) == ("0003", db.head_revision())


def test_a_postgresql_backup_of_an_older_revision_is_migrated_to_head(pg_cluster: PostgresCluster,
                                                                      tmp_path: Path) -> None:
    pg_cluster.execute("CREATE DATABASE gammel")
    pg_cluster.execute("CREATE DATABASE nu")
    try:
        command.upgrade(db.alembic_config(pg_cluster.url("gammel")), "0003")
        db.upgrade_to_head(pg_cluster.url("nu"))
        made = backup.backup(SYSTEM, tmp_path / "kopi", url=pg_cluster.url("gammel"))
        done = backup.restore(SYSTEM, made.path, url=pg_cluster.url("nu"))  # "nu" has a table 0003 lacks
        assert (done.backup_revision, db.current_revision(pg_cluster.url("nu"))) == ("0003", db.head_revision())
    finally:
        db.dispose_all()
        pg_cluster.execute("DROP DATABASE gammel WITH (FORCE)")
        pg_cluster.execute("DROP DATABASE nu WITH (FORCE)")


def test_a_backup_from_a_newer_fokus_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    made = backup.backup(SYSTEM, tmp_path / "kopi")
    with sqlite3.connect(made.path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(ValidationError, match="nyere udgave af fokus"):
        backup.restore(SYSTEM, made.path)
    assert db.current_revision() == db.head_revision()


# ---------------------------------------------------------------------------------------
# The commands

def _fokus(*arguments: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fokus", *arguments], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "DATABASE_URL": url}, stdin=subprocess.DEVNULL, timeout=120)


def test_the_commands_back_up_and_restore_in_danish(db_url: str, unit_id: int, tmp_path: Path) -> None:
    refer(unit_id, "SAG-1")
    file = tmp_path / "kopi.fokus"
    made = _fokus("backup", str(file), url=db_url)
    assert made.returncode == 0, made.stderr
    assert f"Sikkerhedskopien er gemt i {file}" in made.stdout
    refer(unit_id, "SAG-2")

    asked = _fokus("restore", str(file), url=db_url)
    assert asked.returncode == 2 and "--ja" in asked.stderr
    assert refs() == {"SAG-1", "SAG-2"}

    restored = _fokus("restore", str(file), "--ja", url=db_url)
    assert restored.returncode == 0, restored.stderr
    assert "Databasen er gendannet" in restored.stdout and "0 borgere slettet igen" in restored.stdout
    assert refs() == {"SAG-1"}

    missing = _fokus("restore", str(tmp_path / "findes-ikke"), "--ja", url=db_url)
    assert missing.returncode == 2 and missing.stderr.startswith("fejl: Sikkerhedskopien")


# ---------------------------------------------------------------------------------------
# The page

def test_the_page_offers_the_administrator_a_backup_and_explains_the_restore_command(sqlite_url: str) -> None:
    from tests.apptest_helpers import app_as

    at = app_as("admin-kopi", "admin", "pages/sikkerhedskopi.py")
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Sikkerhedskopi"]
    button = at.get("download_button")[0]
    assert button.proto.label == "Hent sikkerhedskopi"
    assert "helbredsoplysninger" in at.warning[0].value
    assert "python -m fokus restore FIL --ja" in " ".join(m.value for m in at.markdown)


def _staff_names() -> list[str]:
    from fokus.models import Staff

    with db.read_session() as session:
        return sorted(session.exec(select(Staff.name)).all())


def test_the_page_restores_an_uploaded_backup_only_after_gendan_is_typed(sqlite_url: str, tmp_path: Path) -> None:
    from tests.apptest_helpers import app_as

    at = app_as("admin-gendan", "admin", "pages/sikkerhedskopi.py")
    with db.write_session() as session:
        unit = svc.create_unit(session, SYSTEM, name="Enhed G", municipality="Testkommune").id
        svc.add_staff(session, SYSTEM, unit_id=unit, name="Før Kopien", initials="FK")
    copy = backup.backup(SYSTEM, tmp_path / "kopi.db").path
    with db.write_session() as session:
        svc.add_staff(session, SYSTEM, unit_id=unit, name="Efter Kopien", initials="EK")

    at.file_uploader(key="sikkerhedskopi-fil").set_value([("kopi.db", copy.read_bytes(), "application/octet-stream")])
    at.text_input(key="sikkerhedskopi-bekraeft").set_value("ja")
    at.button(key="FormSubmitter:sikkerhedskopi-gendan-Gendan sikkerhedskopien").click().run()
    assert [e.value for e in at.error] == ["Skriv GENDAN i feltet for at bekræfte, at alle data skal erstattes."]
    assert _staff_names() == ["Efter Kopien", "Før Kopien"]  # nothing restored

    at.text_input(key="sikkerhedskopi-bekraeft").set_value("gendan")
    at.button(key="FormSubmitter:sikkerhedskopi-gendan-Gendan sikkerhedskopien").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Sikkerhedskopien er gendannet")
    assert _staff_names() == ["Før Kopien"]  # the state of the backup
