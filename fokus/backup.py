"""Backup and restore of the whole database (administrators and the command line).

SQLite: the online backup API copies the live file in one step, which is one read transaction:
the copy is the database as it was when the backup began, and in WAL mode the app's writers go
on meanwhile. The copy is switched to an ordinary rollback journal (one self-contained file),
checked with PRAGMA integrity_check, and only then given its name, readable by its owner alone.

SQLite restore never lets the running app see a half-restored database. The backup is copied
to a work file beside the live one and checked (integrity, a fokus database, a revision this
version knows); the work file is migrated to head, the *current* database's deletion register
is applied to it, the data version is raised above the current one (dashboards cache on it) and
the restore is logged in it; then the backup API writes the finished work file into the live
database in one write transaction. The backup API rather than a rename: a process with the old
file open (the Streamlit server) would go on writing into a file that no longer has a name;
the backup API changes the content under every open connection instead.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --single-transaction`,
from the client tools of the server's major version (`FOKUS_PG_BIN`, else
/usr/lib/postgresql/<major>/bin, else the PATH). Before anything is changed, the archive's
alembic_version is read from it (which also proves it is a pg_dump archive). Tables the current
database has and the backup lacks (made by a newer migration) are dropped first, so that the
migration to head can make them again. Then the same register, data version and log entry, in
one transaction after the restore.

Why the register is read *before* restoring: it is the current database's list of citizens
deleted for retention. The backup may be older than some of those deletions; applying the
current register to the restored data deletes them again (`retention.apply_register` keeps a
citizen referred anew after their deletion), and adds the entries to the restored register,
so later restores keep them deleted too.

The audit log comes back as it was in the backup; the restore itself is its newest entry.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

from fokus import audit, clock, config, db, retention
from fokus.actor import Actor
from fokus.errors import FokusError, PermissionDenied, ValidationError
from fokus.models import DataChange

PG_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size_bytes: int
    revision: str | None
    seconds: float


@dataclass(frozen=True)
class RestoreInfo:
    path: Path
    backup_revision: str  # the revision the backup was made at
    revision: str  # the revision after the migration to head
    deleted_again: int  # citizens the register deleted again
    seconds: float


def _require_admin(actor: Actor, what: str) -> None:
    actor.require_role("admin", what=what)
    if actor.unit_ids is not None:  # a backup holds every unit: not for an administrator of some only
        raise PermissionDenied(f"Kun en administrator af alle enheder har adgang til {what}.", actor=actor,
                               what=what)


def backup(actor: Actor, path: str | Path, *, url: str | None = None) -> BackupInfo:
    """Copy the whole database into the file `path` (administrators of every unit); logged."""
    _require_admin(actor, "sikkerhedskopiering")
    url = url or config.database_url()
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        raise ValidationError(f"{target} er en mappe: angiv et filnavn.", "path")
    if not target.parent.is_dir():
        raise ValidationError(f"Mappen {target.parent} findes ikke.", "path")
    started = time.perf_counter()
    with _private_file(target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.delvis")) as partial:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_run(url, "pg_dump", "--format=custom", f"--file={partial}")
        os.replace(partial, target)
    revision = db.current_revision(url)
    size = target.stat().st_size
    with db.write_session(db.engine_for(url)) as session:
        audit.record(session, actor, "exported", "database",
                     detail=f"sikkerhedskopi af hele databasen: {target.name} ({size} bytes, revision {revision})")
    return BackupInfo(target, size, revision, time.perf_counter() - started)


def file_name(url: str | None = None) -> str:
    """What a backup taken now is called: fokus-2026-11-25-1430.db (SQLite) or .dump (pg_dump)."""
    suffix = "db" if _is_sqlite(url or config.database_url()) else "dump"
    return f"fokus-{clock.now_utc().astimezone(clock.COPENHAGEN):%Y-%m-%d-%H%M}.{suffix}"


def download(actor: Actor, *, url: str | None = None) -> bytes:
    """A backup's bytes, for the page's download button; logged."""
    _require_admin(actor, "sikkerhedskopiering")
    with tempfile.TemporaryDirectory(prefix="fokus-backup-") as folder:
        return backup(actor, Path(folder) / file_name(url), url=url).path.read_bytes()


def restore(actor: Actor, path: str | Path, *, url: str | None = None) -> RestoreInfo:
    """Replace the whole database with the backup in `path`, migrate it to head and apply the
    current deletion register to it (administrators of every unit); logged in the restored one."""
    _require_admin(actor, "gendannelse af en sikkerhedskopi")
    url = url or config.database_url()
    source = Path(path).expanduser().resolve()
    if not source.is_file():
        raise ValidationError(f"Sikkerhedskopien {source} findes ikke.", "path")
    started = time.perf_counter()
    register, version = _current_register_and_version(url)
    if _is_sqlite(url):
        backup_revision, deleted = _sqlite_restore(actor, source, _sqlite_path(url), register, version)
    else:
        backup_revision, deleted = _pg_restore(actor, source, url, register, version)
    return RestoreInfo(source, backup_revision, db.head_revision(), deleted, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------
# Both databases

def _current_register_and_version(url: str) -> tuple[dict[str, datetime], int]:
    """The deletion register and data version of the database about to be replaced (a new,
    empty database has neither)."""
    engine = db.engine_for(url)
    tables = set(sa.inspect(engine).get_table_names())
    register: dict[str, datetime] = {}
    if "deletionrecord" in tables:
        with db.read_session(engine) as session:
            register = retention.register_hashes(session)
    return register, db.data_version(engine) if "datachange" in tables else 0


def _finish(session: Session, actor: Actor, register: dict[str, datetime], version: int, name: str,
            backup_revision: str) -> int:
    """In the restored database: the register applied, the data version raised, the restore logged."""
    deleted = retention.apply_register(session, actor, register)
    newest = session.execute(sa.select(sa.func.coalesce(sa.func.max(DataChange.id), 0))).scalar_one()
    if newest <= version:  # older than what dashboards have cached: jump past it
        session.add(DataChange(id=version + 1))
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SELECT setval(pg_get_serial_sequence('datachange', 'id'), :id)"),
                            {"id": version + 1})
    audit.record(session, actor, "changed", "database",
                 detail=f"gendannet fra sikkerhedskopien {name} (revision {backup_revision} → {db.head_revision()}); "
                        f"sletteregistret anvendt igen: {deleted} borgere slettet")
    return deleted


def _known_revision(revision: str | None) -> str:
    from alembic.script import ScriptDirectory

    if not revision:
        raise ValidationError("Filen er ikke en sikkerhedskopi af en fokus-database (ingen versionsoplysning).",
                              "path")
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    if revision not in {rev.revision for rev in script.walk_revisions()}:
        raise ValidationError(f"Sikkerhedskopien er fra en nyere udgave af fokus (revision {revision}): "
                              "opdatér fokus først, og gendan så.", "path")
    return revision


@contextmanager
def _private_file(path: Path) -> Iterator[Path]:
    """An empty file only its owner may read (backups hold health data); removed unless renamed."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        yield path
    finally:
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                         path.with_name(path.name + "-journal")):
            leftover.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------
# SQLite

def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValidationError("Databasen er ikke en fil: der er intet at tage en sikkerhedskopi af.", "url")
    return Path(database).resolve()


def _sqlite_backup(live: Path, copy_path: Path) -> None:
    if not live.is_file():
        raise ValidationError(f"Databasen {live} findes ikke.", "url")
    with closing(sqlite3.connect(live, timeout=db.BUSY_TIMEOUT_MS / 1000)) as source, \
            closing(sqlite3.connect(copy_path)) as copy:
        source.backup(copy)  # all pages in one step: one read transaction, one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _check_integrity(copy, "Sikkerhedskopien")


def _check_integrity(connection: sqlite3.Connection, what: str) -> None:
    try:
        problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        raise ValidationError(f"{what} er ikke en SQLite-database, eller den er beskadiget ({error}).",
                              "path") from error
    if problems != ["ok"]:
        raise ValidationError(f"{what} er beskadiget: {'; '.join(problems[:3])}.", "path")


def _sqlite_revision(connection: sqlite3.Connection) -> str:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise ValidationError("Filen er ikke en sikkerhedskopi af en fokus-database.", "path") from error
    return _known_revision(row[0] if row else None)


def _sqlite_restore(actor: Actor, source: Path, live: Path, register: dict[str, datetime],
                    version: int) -> tuple[str, int]:
    live.parent.mkdir(parents=True, exist_ok=True)
    with _private_file(live.with_name(f".{live.name}.gendan-{uuid.uuid4().hex[:8]}")) as work:
        shutil.copyfile(source, work)
        with closing(sqlite3.connect(work)) as check:
            _check_integrity(check, "Sikkerhedskopien")
            backup_revision = _sqlite_revision(check)
        work_url = f"sqlite:///{work}"
        engine = db.engine_for(work_url)
        try:
            db.upgrade_to_head(work_url)
            with db.write_session(engine) as session:
                deleted = _finish(session, actor, register, version, source.name, backup_revision)
        finally:
            engine.dispose()
        with closing(sqlite3.connect(work)) as finished, \
                closing(sqlite3.connect(live, timeout=db.BUSY_TIMEOUT_MS / 1000)) as target:
            finished.backup(target)  # one write transaction: the app sees the old or the new, never a mix
            _check_integrity(target, "Den gendannede database")
    return backup_revision, deleted


# ---------------------------------------------------------------------------------------
# PostgreSQL

def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The database as a libpq URI without the password, and the environment that carries it."""
    parsed: URL = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _server_major(url: str) -> int:
    with db.engine_for(url).connect() as connection:
        return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


def _tool(url: str, name: str) -> str:
    """pg_dump or pg_restore of the server's major version (or newer)."""
    major = _server_major(url)
    candidates = [Path(os.environ["FOKUS_PG_BIN"]) / name] if os.environ.get("FOKUS_PG_BIN") else []
    candidates += [Path(f"/usr/lib/postgresql/{major}/bin") / name]
    on_path = shutil.which(name)
    candidates += [Path(on_path)] if on_path else []
    for candidate in candidates:
        if candidate.is_file():
            version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True).stdout
            found = re.search(r"\)\s*(\d+)", version)  # "pg_dump (PostgreSQL) 15.18 (Debian …)"
            if found and int(found.group(1)) >= major:
                return str(candidate)
    raise FokusError(f"{name} til PostgreSQL {major} mangler: installér PostgreSQL's klientværktøjer i samme "
                     f"version som serveren (Debian: postgresql-client-{major}), eller sæt FOKUS_PG_BIN.")


def _pg_run(url: str, name: str, *arguments: str, database: bool = True) -> str:
    uri, env = _libpq(url)
    command = [_tool(url, name), *arguments, *([f"--dbname={uri}"] if database else [])]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=PG_TIMEOUT_SECONDS)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"kode {done.returncode}"
        raise FokusError(f"{name} fejlede: {detail}")
    return done.stdout


def _archive_revision(url: str, source: Path) -> str:
    try:
        text = _pg_run(url, "pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(source),
                       database=False)
    except FokusError as error:
        raise ValidationError(f"Filen er ikke en sikkerhedskopi fra pg_dump ({error.message}).", "path") from error
    rows = text.split("FROM stdin;\n", 1)[1].split("\n\\.", 1)[0].split() if "FROM stdin;" in text else []
    return _known_revision(rows[0] if rows else None)


def _archive_tables(url: str, source: Path) -> set[str]:
    listing = _pg_run(url, "pg_restore", "--list", str(source), database=False)
    return set(re.findall(r" TABLE public (\w+) ", listing))


def _pg_restore(actor: Actor, source: Path, url: str, register: dict[str, datetime],
                version: int) -> tuple[str, int]:
    backup_revision = _archive_revision(url, source)
    engine = db.engine_for(url)
    extra = set(sa.inspect(engine).get_table_names()) - _archive_tables(url, source)
    if extra:
        with engine.begin() as connection:
            for table in sorted(extra):
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    engine.dispose()  # no pooled connection keeps plans of the tables about to be replaced
    _pg_run(url, "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            "--exit-on-error", str(source))
    engine.dispose()
    db.upgrade_to_head(url)
    with db.write_session(engine) as session:
        deleted = _finish(session, actor, register, version, source.name, backup_revision)
    return backup_revision, deleted
