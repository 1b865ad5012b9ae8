"""Faults (issue 9): a process killed in the middle of a save or an import, and the database gone.

- SIGKILL in the middle of a save and of an import (`python -m fokus import`), on SQLite and
  PostgreSQL: afterwards the database passes its integrity check, every constraint holds, and each
  change is all or none (a save's referral, course, ORS scores and audit rows together or not at
  all; an import brings every row or none). The database then takes new saves as usual.
- PostgreSQL stopped while the app runs: every page shows a short Danish message instead of a
  trace, and once PostgreSQL is back the same pages work again, without restarting the app.

The figures (faults injected / survived) are printed and carried in the assertion messages.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from fokus import access, clock, db, exchange
from fokus import services as svc
from fokus.actor import SYSTEM, Actor
from fokus.models import AuditEvent, Citizen, Course, NetworkMeeting, OrsScore, Referral, Unit
from tests.apptest_helpers import app_as
from tests.conftest import IN_CI
from tests.pgcluster import PG_BIN, PostgresCluster, _as_postgres

ROOT = Path(__file__).resolve().parents[1]
ORS = {"individual": 50, "interpersonal": 60, "social": 40, "overall": 55}
SCORES_PER_SAVE = 3

# A child that saves in a loop: each save one new citizen's referral, its course and three ORS
# scores, in one transaction; it prints the save's number after each commit. With a stop number
# it halts inside that save's transaction (everything flushed, nothing committed) and says "mid".
SAVER = textwrap.dedent("""
    import sys, time
    from datetime import timedelta
    from fokus import clock, db, services as svc
    from fokus.actor import Actor
    unit_id, prefix, stop_at = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    actor = Actor("ab", "staff", frozenset({unit_id}))
    day = clock.today()
    print("ready", flush=True)
    for n in range(100_000):
        with db.write_session() as s:
            r = svc.register_referral(s, actor, unit_id=unit_id, citizen_ref=f"{prefix}-{n:05d}", birth_year=1980,
                                      received=day - timedelta(days=40), referrer="socialcenter",
                                      target_group="psychic")
            c = svc.start_course(s, actor, referral_id=r.id, start=day - timedelta(days=30), form="individual")
            for k in range(SCORES_PER_SAVE):
                svc.add_ors(s, actor, course_id=c.id, day=day - timedelta(days=20 - k),
                            items={"individual": 50, "interpersonal": 60, "social": 40, "overall": 10 * k})
            if n == stop_at:
                s.flush()
                print("mid", flush=True)
                time.sleep(120)
        print(n, flush=True)
""").replace("SCORES_PER_SAVE", str(SCORES_PER_SAVE))

# `python -m fokus import FILE --unit … --kommune …`, halting inside the import's one transaction
# when the given ORS score of the file is being written (it says "mid" first).
IMPORTER = textwrap.dedent("""
    import sys, time
    from fokus import cli, services
    path, stop_at = sys.argv[1], int(sys.argv[2])
    real, calls = services.add_ors, [0]
    def add_ors(*args, **kwargs):
        calls[0] += 1
        if calls[0] == stop_at:
            args[0].flush()
            print("mid", flush=True)
            time.sleep(120)
        return real(*args, **kwargs)
    services.add_ors = add_ors
    sys.exit(cli.main(["import", path, "--unit", "Importeret", "--kommune", "Faxe"]))
""")


class Faults:
    injected = 0
    survived = 0

    @classmethod
    def figures(cls) -> str:
        return f"faults injected {cls.injected}, survived {cls.survived}"


def days_ago(days: int) -> str:
    return str(clock.today() - timedelta(days=days))


def child(script: str, *args: object, url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_until(process: subprocess.Popen[str], wanted: str, timeout: float = 60) -> list[str]:
    """Lines the child printed, up to and including `wanted`."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"the child ended before {wanted!r}: {lines} {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
        lines.append(line.strip())
        if line.strip() == wanted:
            return lines
    raise AssertionError(f"no {wanted!r} from the child in {timeout} s: {lines}")


def kill(process: subprocess.Popen[str]) -> list[str]:
    """SIGKILL; the lines the child had printed but not yet been read."""
    Faults.injected += 1
    process.send_signal(signal.SIGKILL)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return out.split()


def database_is_sound(url: str) -> None:
    """The file passes SQLite's own checks; PostgreSQL takes connections and its constraints are valid."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1])
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()
    else:
        with sa.create_engine(url).connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE NOT convalidated").scalar() == 0
            assert connection.exec_driver_sql("SELECT count(*) FROM pg_index WHERE NOT indisvalid").scalar() == 0


def whole_saves(prefix: str) -> int:
    """How many of the child's saves are stored; each one whole (or the test fails)."""
    with db.read_session() as session:
        citizens = session.exec(select(Citizen).where(Citizen.ref.startswith(f"{prefix}-"))).all()  # type: ignore[attr-defined]
        for citizen in citizens:
            referrals = session.exec(select(Referral).where(Referral.citizen_id == citizen.id)).all()
            courses = session.exec(select(Course).where(Course.citizen_id == citizen.id)).all()
            assert len(referrals) == 1 and referrals[0].status == "started", citizen.ref
            assert len(courses) == 1 and courses[0].referral_id == referrals[0].id, citizen.ref
            scores = session.exec(select(OrsScore.id).where(OrsScore.course_id == courses[0].id)).all()
            assert len(scores) == courses[0].ors_count == SCORES_PER_SAVE, citizen.ref
            audited = session.exec(select(AuditEvent.table_name, AuditEvent.row_id).where(
                AuditEvent.citizen_id == citizen.id, AuditEvent.action == "created")).all()
            assert sorted(audited, key=repr) == sorted(
                [("citizen", citizen.id), ("referral", referrals[0].id), ("course", courses[0].id),
                 *(("orsscore", i) for i in scores)], key=repr), citizen.ref
        return len(citizens)


def still_takes_saves(unit_id: int, ref: str) -> None:
    with db.write_session() as session:
        referral = svc.register_referral(session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1985,
                                         received=clock.today(), referrer="jobcenter", target_group="social")
    with db.read_session() as session:
        assert session.get(Referral, referral.id) is not None


# ---------------------------------------------------------------------------------------
# SIGKILL in the middle of a save

@pytest.mark.slow
def test_a_save_killed_midway_leaves_whole_saves_only(db_url: str, unit_id: int) -> None:
    survived_before = Faults.survived
    # 1. Killed inside the transaction of save 5, everything of it flushed and nothing committed.
    saver = child(SAVER, unit_id, "MIDT", 5, url=db_url)
    printed = read_until(saver, "mid")
    kill(saver)
    database_is_sound(db_url)
    assert printed[-2] == "4" and whole_saves("MIDT") == 5, Faults.figures()
    Faults.survived += 1
    # 2.-4. Killed at random moments of a run of saves: before, inside or just after a commit.
    rng = random.Random(9)
    for round_ in range(3):
        prefix = f"TILF{round_}"
        saver = child(SAVER, unit_id, prefix, -1, url=db_url)
        read_until(saver, "ready")
        read_until(saver, "3")
        time.sleep(rng.uniform(0, 0.05))
        lines = kill(saver)
        printed_numbers = [int(line) for line in lines if line.isdigit()]
        done = max(printed_numbers, default=3) + 1
        database_is_sound(db_url)
        stored = whole_saves(prefix)
        assert done <= stored <= done + 1, f"{Faults.figures()}: {done} saves reported, {stored} stored"
        Faults.survived += 1
    still_takes_saves(unit_id, "EFTER-DRAB")
    print(f"saves killed on {db.engine_for().dialect.name}: {Faults.survived - survived_before} faults survived; "
          f"{Faults.figures()}")


# ---------------------------------------------------------------------------------------
# SIGKILL in the middle of an import

@pytest.fixture(scope="module")
def workbook_file(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Path, dict[str, int]]:
    """An exchange workbook of 40 citizens (referrals, courses, ORS, meetings) and its row counts."""
    folder = tmp_path_factory.mktemp("kilde")
    source = folder / "kilde.db"
    source.write_bytes(sqlite_template.read_bytes())
    engine = db.engine_for(f"sqlite:///{source}")
    today = clock.today()
    with db.write_session(engine) as s:
        unit_id = svc.create_unit(s, SYSTEM, name="Kilde", municipality="Slagelse").id
        for n in range(40):
            r = svc.register_referral(s, SYSTEM, unit_id=unit_id, citizen_ref=f"IMP-{n:03d}", birth_year=1970 + n % 30,
                                      received=today - timedelta(days=200 - n), referrer="socialcenter",
                                      target_group="psychic")
            c = svc.start_course(s, SYSTEM, referral_id=r.id, start=today - timedelta(days=150 - n), form="group")
            for k in range(4):
                svc.add_ors(s, SYSTEM, course_id=c.id, day=today - timedelta(days=140 - n - 10 * k),
                            items={**ORS, "overall": 10 * k + n % 10})
            svc.add_network_meeting(s, SYSTEM, course_id=c.id, day=today - timedelta(days=100 - n), participants=4)
            if n % 2:
                svc.end_course(s, SYSTEM, course_id=c.id, end=today - timedelta(days=50 - n), end_reason="completed",
                               next_step="job")
        sheets = exchange.export_sheets(s, SYSTEM, unit_id)
    engine.dispose()
    path = folder / "udveksling.xlsx"
    path.write_bytes(exchange.to_xlsx(sheets))
    return path, {"referral": 40, "course": 40, "orsscore": 160, "networkmeeting": 40}


def wait_until_writing(url: str, process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Until another connection is inside a write transaction that has written (PostgreSQL: a
    transaction id assigned) or holds the write lock for a while (SQLite: BEGIN IMMEDIATE refused
    three times running, longer than a migration check holds it)."""
    deadline, held = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the import ended before it was killed: {process.communicate()}"
        if url.startswith("sqlite"):
            connection = sqlite3.connect(url.split("///", 1)[1], timeout=0, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                held = 0
            except sqlite3.OperationalError:
                held += 1
            finally:
                connection.close()
            if held >= 3:
                return
        else:
            engine = sa.create_engine(url)
            with engine.connect() as connection:
                writing = connection.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL").scalar()
            engine.dispose()
            if writing:
                return
        time.sleep(0.05)
    raise AssertionError("the import never started writing")


def unit_rows() -> dict[str, int]:
    with db.read_session() as session:
        return {model.__tablename__: session.exec(select(func.count()).select_from(model)).one()  # type: ignore[attr-defined]
                for model in (Referral, Course, OrsScore, NetworkMeeting)}


@pytest.mark.slow
def test_an_import_killed_midway_brings_all_or_nothing(db_url: str, workbook_file: tuple[Path, dict[str, int]]) -> None:
    path, counts = workbook_file
    nothing = dict.fromkeys(counts, 0)
    importer = child(IMPORTER, path, counts["orsscore"] // 2, url=db_url)
    read_until(importer, "mid", timeout=120)
    kill(importer)
    database_is_sound(db_url)
    assert unit_rows() == nothing, f"{Faults.figures()}: half an import is stored"
    with db.read_session() as session:
        assert session.exec(select(Unit).where(Unit.name == "Importeret")).first() is None
    Faults.survived += 1
    # Killed at a random moment of a plain `python -m fokus import`: all of it or nothing.
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "fokus", "import", str(path), "--unit", "Importeret", "--kommune", "Faxe"]
    plain = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_writing(db_url, plain)
    time.sleep(random.Random(9).uniform(0, 0.3))
    kill(plain)
    database_is_sound(db_url)
    assert unit_rows() in (nothing, counts), f"{Faults.figures()}: half an import is stored: {unit_rows()}"
    Faults.survived += 1
    outcome = "nothing" if unit_rows() == nothing else "all"
    if unit_rows() == nothing:  # the same file then imports whole
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert unit_rows() == counts, Faults.figures()
    database_is_sound(db_url)
    print(f"imports killed on {db.engine_for().dialect.name} (the plain kill left {outcome}): {Faults.figures()}")


# ---------------------------------------------------------------------------------------
# PostgreSQL stopped while the app runs

def _pg_ctl(cluster: PostgresCluster, *args: str) -> None:
    subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", cluster.dir, *args), check=True, capture_output=True,
                   timeout=60)


def _start(cluster: PostgresCluster) -> None:
    options = f"-p {cluster.port} -k {cluster.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    _pg_ctl(cluster, "-w", "-l", f"{cluster.dir}/log", "-o", options, "start")


@pytest.fixture
def own_pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PostgresCluster, str]]:
    """A PostgreSQL cluster of this test alone (it is stopped and started again)."""
    if not (PG_BIN / "initdb").exists():
        message = f"PostgreSQL server binaries not found in {PG_BIN}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    cluster = PostgresCluster(in_memory=True)
    url = cluster.url("postgres")
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        db.upgrade_to_head(url)
        with db.write_session() as session:
            svc.create_unit(session, SYSTEM, name="FOKUS Nedbrud", municipality="Testkommune")
        yield cluster, url
    finally:
        db.dispose_all()
        cluster.stop()


TRACE_WORDS = ("traceback", "psycopg", "operationalerror", "sqlalchemy", "connection refused", "errno", 'file "')


def _texts(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(node.value) for kind in ("error", "warning", "info", "markdown", "caption", "text", "exception")
            for node in at.get(kind)]


@pytest.fixture
def through_app_py(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every AppTest run goes through app.py, as every run of the real server does.

    AppTest (1.67) resets Streamlit's flag for the old `pages/` folder before each run, so a run
    after `switch_page` executes the page file alone, without app.py around it, and app.py's last
    line of defence is not there. The server sets the flag once, when app.py calls st.navigation.
    """
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.pages_manager import PagesManager

    class NavigationPages(PagesManager):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test, "PagesManager", NavigationPages)


def test_postgresql_stopped_while_the_app_runs_every_page_says_so_and_recovers(
    own_pg: tuple[PostgresCluster, str], through_app_py: None,
) -> None:
    cluster, _url = own_pg
    at = app_as("nedbrud-admin", "admin")
    pages = [page.path for page in access.PAGES if access.may_open(Actor("x", "admin", None), page.key)]
    for path in pages:  # all well before
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
    _pg_ctl(cluster, "-m", "fast", "-w", "stop")
    Faults.injected += 1
    try:
        for path in pages:
            at.switch_page(path).run()
            assert not at.exception, (path, at.exception)
            errors = [str(node.value) for node in at.error]
            assert errors, f"{path}: nothing tells the user that the database is gone: {_texts(at)}"
            for message in errors:
                assert len(message) < 300 and "databasen" in message, (path, message)
            for text in _texts(at):
                assert not any(word in text.lower() for word in TRACE_WORDS), (path, text)
    finally:
        _start(cluster)
    for path in pages:  # the same app session, no restart
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
        assert not at.error, (path, [node.value for node in at.error])
    Faults.survived += 1
    # A referral typed, and saved just as the database stops: the message, then what was typed is
    # still there when it is back, nothing was saved, and saving again works.
    at.switch_page("pages/henvisninger.py").run()
    at.text_input(key="henv-ny-ref").input("SAG-77")
    at.number_input(key="henv-ny-aar").set_value(1980)
    at.selectbox(key="henv-ny-henviser").set_value("jobcenter")
    at.selectbox(key="henv-ny-maalgruppe").set_value("social")
    _pg_ctl(cluster, "-m", "fast", "-w", "stop")
    Faults.injected += 1
    try:
        save = next(button for button in at.button if button.label == "Gem henvisning")
        save.click().run()
        assert not at.exception, at.exception
        assert [node.value for node in at.error if "databasen" in str(node.value)], _texts(at)
    finally:
        _start(cluster)
    at.run()
    assert (at.text_input(key="henv-ny-ref").value, at.number_input(key="henv-ny-aar").value,
            at.selectbox(key="henv-ny-henviser").value) == ("SAG-77", 1980, "jobcenter")
    with db.read_session() as session:
        assert session.exec(select(func.count()).select_from(Referral)).one() == 0
    next(button for button in at.button if button.label == "Gem henvisning").click().run()
    assert not at.exception and not at.error, (at.exception, _texts(at))
    with db.read_session() as session:
        assert session.exec(select(Citizen.ref)).all() == ["SAG-77"]
    Faults.survived += 1
    print(f"PostgreSQL stopped under {len(pages)} pages: {Faults.figures()}")
