"""Faults (issue 9) in the real server: SIGKILL of the server process in the middle of an import and of a save.

On a private SQLite copy of the demo database, a person signs in in chromium and
- imports a large exchange workbook through Import og eksport; while the import is writing (the
  progress bar says "Importeret …" and another connection cannot get the write lock) the server is
  killed with SIGKILL. The file passes `PRAGMA integrity_check`, and the import is all there or
  not at all (rows and audit rows);
- saves a referral on Henvisninger, and the server is killed at a random moment around the click,
  several times over (a new server each time). Each try leaves the whole save (citizen, referral
  and their two audit rows) or nothing of it.
After each kill a server started again on the same file serves the pages and the user can sign in.
The figures (faults injected / survived) are printed.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from fokus import clock, exchange
from tests.e2e.conftest import DemoDatabase, copy_of, log_in, start_server, wait_for_run
from tests.e2e.helpers import field, open_page, select
from tests.test_faults import Faults  # the fault counts and their report line, as the worker-kill tests keep them

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CITIZENS = 200  # the import: 200 referrals, 200 courses, 800 ORS scores (a few seconds of writing)




def big_workbook(path: Path, prefix: str, citizens: int) -> dict[str, int]:
    """An exchange workbook of `citizens` started referrals with a course and four ORS scores each."""
    today = clock.today()
    refs = [f"{prefix}-{n:05d}" for n in range(citizens)]
    received = [today - timedelta(days=300 - n % 200) for n in range(citizens)]
    sheets = {
        "henvisninger": pd.DataFrame({
            "borger": refs, "foedselsaar": [1970 + n % 30 for n in range(citizens)], "maalgruppe": "psykisk",
            "henviser": "jobcenter", "henvist_dato": received, "revisitering_85": "nej", "status": "startet",
            "afgjort_dato": [day + timedelta(days=5) for day in received], "aldersnote": None}),
        "forloeb": pd.DataFrame({
            "forloeb": [f"F-{ref}" for ref in refs], "borger": refs, "henvist_dato": received,
            "start_dato": [day + timedelta(days=5) for day in received], "form": "individuel", "hold": None,
            "kontaktperson": None, "slut_dato": None, "afslutning": None, "efterfoelgende": None}),
        "ors": pd.DataFrame([{"forloeb": f"F-{ref}", "dato": day + timedelta(days=10 + 7 * k), "individuelt": 5.0,
                              "interpersonelt": 6.0, "socialt": 4.0, "generelt": float(k)}
                             for ref, day in zip(refs, received, strict=True) for k in range(4)]),
    }
    path.write_bytes(exchange.to_xlsx(sheets))
    return {"citizen": citizens, "referral": citizens, "course": citizens, "orsscore": 4 * citizens}


def sqlite_path(url: str) -> str:
    return url.split("///", 1)[1]


def query(url: str, sql: str, *args: object) -> list[tuple]:
    connection = sqlite3.connect(sqlite_path(url))
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def database_is_sound(url: str) -> None:
    assert query(url, "PRAGMA integrity_check") == [("ok",)], Faults.figures()
    assert query(url, "PRAGMA foreign_key_check") == [], Faults.figures()


def rows_of(url: str, prefix: str) -> dict[str, int]:
    """The rows of the citizens whose reference starts with `prefix`, by table."""
    like = f"{prefix}-%"
    joined = "JOIN citizen ON citizen.id = {t}.citizen_id WHERE citizen.ref LIKE ?"
    return {
        "citizen": query(url, "SELECT count(*) FROM citizen WHERE ref LIKE ?", like)[0][0],
        "referral": query(url, "SELECT count(*) FROM referral " + joined.format(t="referral"), like)[0][0],
        "course": query(url, "SELECT count(*) FROM course " + joined.format(t="course"), like)[0][0],
        "orsscore": query(url, "SELECT count(*) FROM orsscore JOIN course ON course.id = orsscore.course_id "
                               + joined.format(t="course"), like)[0][0],
    }


def audited(url: str, prefix: str) -> int:
    return query(url, "SELECT count(*) FROM auditevent WHERE citizen_ref LIKE ? AND action = 'created'",
                 f"{prefix}-%")[0][0]


def descendants(pid: int) -> list[int]:
    """The process ids of `pid`'s children, grandchildren, … (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, its_parent in parents.items() if its_parent == parent]
        found += children
        todo += children
    return found


def kill(server: subprocess.Popen) -> None:
    """SIGKILL to the server and everything it started."""
    Faults.injected += 1
    for pid in [server.pid, *descendants(server.pid)]:
        with contextlib.suppress(ProcessLookupError):  # a child may already be gone
            os.kill(pid, signal.SIGKILL)
    server.wait(timeout=30)
    assert server.returncode == -signal.SIGKILL


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def write_lock_held(url: str) -> bool:
    """Another connection is inside a write transaction (SQLite refuses BEGIN IMMEDIATE at once)."""
    connection = sqlite3.connect(sqlite_path(url), timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()


def wait_until_writing(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    """Until the write lock has been held at three polls running (longer than a page's small writes)."""
    deadline, held = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server ended before it was killed"
        held = held + 1 if write_lock_held(url) else 0
        if held >= 3:
            return
        time.sleep(0.05)
    raise AssertionError("the import never started writing")


@pytest.fixture
def killable(demo_database: DemoDatabase, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A private copy of the demo database, and a folder for the servers' logs and files."""
    url = copy_of(demo_database.url, tmp_path)
    yield url, tmp_path


def restarted_server_serves(browser, url: str, folder: Path, password: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """A new server on the same file: a bookmarked page's address shows the login (not Streamlit's
    list of files), the user signs in and the pages open without an error."""
    server, app_url = start_server(url, folder / f"{name}.log")
    context = browser.new_context(viewport={"width": 1366, "height": 1400})
    try:
        page = context.new_page()
        open_page(page, app_url, "henvisninger")  # the first visitor after the restart, at a page's address
        page.get_by_label("Brugernavn").wait_for(timeout=30_000)
        assert page.get_by_role("link", name="sikkerhedskopi").count() == 0, "the menu lists the files in pages/"
        log_in(page, app_url, "demo-leder", password)
        for path in ("henvisninger", "udveksling", "overblik"):
            open_page(page, app_url, path)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0, path
    finally:
        context.close()
        stop(server)


def test_the_server_killed_in_the_middle_of_an_import_keeps_all_or_nothing(
    browser, killable: tuple[str, Path], demo_database: DemoDatabase
) -> None:
    url, folder = killable
    counts = big_workbook(folder / "stor.xlsx", "KILL", CITIZENS)
    nothing = dict.fromkeys(counts, 0)
    assert rows_of(url, "KILL") == nothing
    server, app_url = start_server(url, folder / "import.log")
    context = browser.new_context(viewport={"width": 1366, "height": 1400})
    try:
        page = context.new_page()
        log_in(page, app_url, "demo-leder", demo_database.password)
        open_page(page, app_url, "udveksling")
        page.locator('input[type="file"]').set_input_files(str(folder / "stor.xlsx"))
        wait_for_run(page)
        page.get_by_role("button", name="Kontrollér filen").click()
        page.get_by_text("Det tilføjes").wait_for(timeout=120_000)
        wait_for_run(page)
        assert not write_lock_held(url)
        page.get_by_role("button", name="Importér").click()
        page.get_by_text("Importeret", exact=False).first.wait_for(timeout=60_000)  # the progress bar
        wait_until_writing(url, server)
        time.sleep(random.Random(9).uniform(0, 0.5))
        assert server.poll() is None and write_lock_held(url), "the import was over before the kill"
        kill(server)
    finally:
        context.close()
        stop(server)
    database_is_sound(url)
    stored = rows_of(url, "KILL")
    assert stored in (nothing, counts), f"{Faults.figures()}: half an import is stored: {stored}"
    # The audit rows go with the rows: one "created" per citizen, referral, course and ORS score.
    assert audited(url, "KILL") == (0 if stored == nothing else sum(counts.values())), Faults.figures()
    restarted_server_serves(browser, url, folder, demo_database.password, "efter-import")
    Faults.survived += 1
    print(f"server killed during an import ({'nothing' if stored == nothing else 'all'} stored): "
          f"{Faults.figures()}")


def test_the_server_killed_around_a_save_leaves_the_whole_save_or_none(
    browser, killable: tuple[str, Path], demo_database: DemoDatabase
) -> None:
    url, folder = killable
    rng = random.Random(82)
    # The kill comes before the save reaches the server, while it writes, or just after it is committed.
    windows = [(0.0, 0.05), (0.05, 0.25), (0.25, 0.6)]
    landed = 0
    # One browser across the servers: the session cookie signs the user in again on the next server.
    context = browser.new_context(viewport={"width": 1366, "height": 1400})
    try:
        for attempt, window in enumerate(windows):
            ref = f"DRAB-{attempt:02d}"
            server, app_url = start_server(url, folder / f"save-{attempt}.log")
            try:
                page = context.new_page()
                open_page(page, app_url, "henvisninger")
                form, login = field(page, "Borgerens reference"), page.get_by_label("Brugernavn")
                form.or_(login).first.wait_for(timeout=30_000)
                if not form.is_visible():
                    log_in(page, app_url, "demo-medarbejder", demo_database.password)
                    open_page(page, app_url, "henvisninger")
                field(page, "Borgerens reference").fill(ref)
                field(page, "Fødselsår").fill("1984")
                select(page, "Henviser", "Jobcenter")
                select(page, "Målgruppe", "Psykisk")
                page.get_by_role("button", name="Gem henvisning").click()
                time.sleep(rng.uniform(*window))
                kill(server)
                page.close()
            finally:
                stop(server)
            database_is_sound(url)
            citizens = query(url, "SELECT count(*) FROM citizen WHERE ref = ?", ref)[0][0]
            referrals = query(url, "SELECT count(*) FROM referral JOIN citizen ON citizen.id = referral.citizen_id "
                                   "WHERE citizen.ref = ?", ref)[0][0]
            audit_rows = sorted(query(url, "SELECT table_name FROM auditevent WHERE citizen_ref = ? AND action = "
                                           "'created'", ref))
            whole = (citizens, referrals, audit_rows) == (1, 1, [("citizen",), ("referral",)])
            none = (citizens, referrals, audit_rows) == (0, 0, [])
            assert whole or none, (f"{Faults.figures()}: try {attempt} left part of a save: "
                                   f"{citizens} citizen, {referrals} referral, audit {audit_rows}")
            landed += whole
            Faults.survived += 1
    finally:
        context.close()
    restarted_server_serves(browser, url, folder, demo_database.password, "efter-gem")
    print(f"server killed around {len(windows)} saves: {landed} landed whole, {len(windows) - landed} left nothing; "
          f"{Faults.figures()}")
