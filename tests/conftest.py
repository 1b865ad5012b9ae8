"""Shared fixtures: a migrated database per test, on SQLite and on a throwaway PostgreSQL.

The `db_url` fixture is parametrised over both databases. PostgreSQL comes from a cluster the
tests start themselves (see PLATFORM.md); when its binaries are missing the PostgreSQL cases are
skipped locally with the reason, but fail under CI (CI=true), where they must run.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest
from sqlmodel import Session

from fokus import db
from tests.pgcluster import PG_BIN, PostgresCluster, _free_port  # noqa: F401 — re-exported for older imports

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# The app's password hashers (argon2id at the library's cost: 64 MiB and 3 passes), kept for test_auth to check.
REAL_HASHERS: dict[str, object] = {}


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes() -> Iterator[None]:
    """In-process tests hash passwords and PINs with argon2id at its smallest cost. At the app's cost each
    hash and each check takes about 80 ms, and most tests sign a user in (a hash and a check): minutes of
    every run. What is stored is an argon2id hash all the same; the browser tests' servers use the app's."""
    from argon2 import PasswordHasher

    from fokus import auth, selfreport

    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    REAL_HASHERS.update(auth=auth._hasher, selfreport=selfreport._hasher)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", quick)
        patch.setattr(selfreport, "_hasher", quick)
        yield


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    if not (PG_BIN / "initdb").exists():
        message = f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    cluster = PostgresCluster(in_memory=True)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PostgresCluster) -> str:
    """A migrated database that each test copies (CREATE DATABASE … TEMPLATE is fast)."""
    pg_cluster.execute("CREATE DATABASE fokus_template")
    url = pg_cluster.url("fokus_template")
    db.upgrade_to_head(url)
    db.engine_for(url).dispose()
    return "fokus_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "fokus.db"
    url = f"sqlite:///{path}"
    db.upgrade_to_head(url)
    db.engine_for(url).dispose()
    return path


@dataclass(frozen=True)
class Demo:
    """The demo unit's data (`demo.fill_demo`, without the logins) in a SQLite file: copy it, never write to it."""
    path: Path
    today: date  # the day it was generated for
    summary: str  # what `demo.fill_demo` said it wrote

    def copy_to(self, folder: Path) -> str:
        """A private copy in `folder`: its URL."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.path, folder / "fokus.db")
        return f"sqlite:///{folder / 'fokus.db'}"


@pytest.fixture(scope="session")
def demo_original(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Demo:
    """The demo, written once for the whole run: it takes 15–20 s, and four test files read it. The
    xdist workers share one (the first to come writes it under a lock, the others wait and read it)."""
    from fokus import clock, demo

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, about = shared / "demo-original", shared / "demo-original" / "demo.json"
    with (shared / "demo-original.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not about.exists():
            folder.mkdir(exist_ok=True)
            path = folder / "fokus.db"
            shutil.copy(sqlite_template, path)
            url, today = f"sqlite:///{path}", clock.today()
            summary = demo.fill_demo(url, today=today)
            db.engine_for(url).dispose()
            about.write_text(json.dumps({"today": today.isoformat(), "summary": summary}))
    found = json.loads(about.read_text())
    return Demo(folder / "fokus.db", date.fromisoformat(found["today"]), found["summary"])


def _new_database(request: pytest.FixtureRequest, kind: str, source: Path | str, folder: Path, name: str) -> str:
    """A copy of `source` (a SQLite file, or a PostgreSQL database used as template): as `folder`/fokus.db,
    or as the PostgreSQL database `name`. Its URL."""
    if kind == "sqlite":
        shutil.copy(source, folder / "fokus.db")
        return f"sqlite:///{folder / 'fokus.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
    return cluster.url(name)


@contextmanager
def database_copy(request: pytest.FixtureRequest, kind: str, source: Path | str) -> Iterator[str]:
    """A new database copied from `source`: DATABASE_URL points at it for the test, and it is dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = _new_database(request, kind, source, request.getfixturevalue("tmp_path"), name)
    request.getfixturevalue("monkeypatch").setenv("DATABASE_URL", url)
    try:
        yield url
    finally:
        db.dispose_all()
        if kind == "postgresql":
            request.getfixturevalue("pg_cluster").execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _empty(request: pytest.FixtureRequest, kind: str) -> Path | str:
    return request.getfixturevalue("sqlite_template" if kind == "sqlite" else "pg_template")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A freshly migrated, empty database; DATABASE_URL points at it for the test."""
    with database_copy(request, request.param, _empty(request, request.param)) as url:
        yield url


Built = TypeVar("Built")
_SEEDS: dict[tuple[str, str], tuple[Path | str, object]] = {}


@contextmanager
def seeded_database(request: pytest.FixtureRequest, name: str, build: Callable[[Session], Built]) -> Iterator[Built]:
    """For a fixture parametrised over "sqlite" and "postgresql": a database holding the rows `build`
    writes, with DATABASE_URL pointing at it; `build`'s result (ids) holds in it. The rows are written
    once per worker and database, then copied for each test (a copy costs a fraction of writing them)."""
    kind = request.param
    if (kind, name) not in _SEEDS:
        folder = request.getfixturevalue("tmp_path_factory").mktemp(f"seed-{name}")
        url = _new_database(request, kind, _empty(request, kind), folder, f"seed_{name}")
        source: Path | str = folder / "fokus.db" if kind == "sqlite" else f"seed_{name}"
        with db.write_session(db.engine_for(url)) as session:
            built = build(session)
        db.engine_for(url).dispose()  # a PostgreSQL template must have no connection
        _SEEDS[kind, name] = source, built
    source, built = _SEEDS[kind, name]
    with database_copy(request, kind, source):
        yield built  # type: ignore[misc]


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Only SQLite: for tests of what is SQLite-specific (or too slow to run twice)."""
    path = tmp_path / "fokus.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    db.dispose_all()


@pytest.fixture
def unit_id(db_url: str) -> int:
    """One unit, created through the service layer, in the test's database."""
    from fokus.actor import SYSTEM
    from fokus.services import create_unit

    with db.write_session() as session:
        return create_unit(session, SYSTEM, name="FOKUS Test", municipality="Testkommune").id


@pytest.fixture(autouse=True)
def every_figure_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app draws its charts without plotly's validation (`fokus.charts._figure`, for speed);
    in every test each figure drawn is validated and must send the browser exactly what the
    validated figure would: a property plotly does not know, or a value it would change, fails."""
    import plotly.graph_objects as go
    import plotly.io as pio

    from fokus import charts

    real = charts._figure

    def validated(data: list[charts.Json], layout: charts.Json) -> go.Figure:
        figure = real(data, layout)
        as_sent = json.loads(pio.to_json(figure, validate=False))
        checked = json.loads(pio.to_json(go.Figure(figure.to_dict()), validate=False))
        assert not (found := _differences(as_sent, checked)), f"plotly's validation would change: {found[:5]}"
        return figure

    monkeypatch.setattr(charts, "_figure", validated)


def _differences(sent: object, checked: object, path: str = "") -> list[str]:
    """Where two JSON values differ, as paths like "layout.yaxis.rangemode"."""
    if isinstance(sent, dict) and isinstance(checked, dict):
        return [found for key in sorted(set(sent) | set(checked))
                for found in (_differences(sent.get(key), checked.get(key), f"{path}.{key}".lstrip("."))
                              if key in sent and key in checked else [f"{path}.{key}: only one has it"])]
    if isinstance(sent, list) and isinstance(checked, list) and len(sent) == len(checked):
        return [found for n, (a, b) in enumerate(zip(sent, checked, strict=True))
                for found in _differences(a, b, f"{path}[{n}]")]
    return [] if sent == checked else [f"{path}: {sent!r:.60} → {checked!r:.60}"]
