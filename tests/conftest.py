"""Shared fixtures: a migrated database per test, on SQLite and on a throwaway PostgreSQL.

The `db_url` fixture is parametrised over both databases. PostgreSQL comes from a cluster the
tests start themselves (see PLATFORM.md); when its binaries are missing the PostgreSQL cases are
skipped locally with the reason, but fail under CI (CI=true), where they must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fokus import db


def _newest_pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = Path(os.environ["FOKUS_PG_BIN"]) if os.environ.get("FOKUS_PG_BIN") else _newest_pg_bin()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class PostgresCluster:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fokus-pg-")
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            _as_postgres(str(PG_BIN / "initdb"), "-D", self.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                         "--locale=C.UTF-8"),
            check=True, capture_output=True,
        )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", self.dir, "-w", "-l", f"{self.dir}/log", "-o", options, "start"),
            check=True, capture_output=True,
        )
        self.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, statement: str) -> None:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
        engine.dispose()

    def stop(self) -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", self.dir, "-m", "immediate", "stop"),
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    if not (PG_BIN / "initdb").exists():
        message = f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    cluster = PostgresCluster()
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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A freshly migrated, empty database; DATABASE_URL points at it for the test."""
    if request.param == "sqlite":
        path = tmp_path / "fokus.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        template = request.getfixturevalue("pg_template")
        name = f"t_{uuid.uuid4().hex[:12]}"
        cluster.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        url = cluster.url(name)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    db.dispose_all()
    if request.param == "postgresql":
        cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


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
