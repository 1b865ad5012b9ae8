"""A throwaway PostgreSQL cluster on a free port (see PLATFORM.md), for the tests and the benchmark.

No pytest here: `bench.run` imports it too. `initdb` and `postgres` refuse to run as root, so as
root they run as the `postgres` user in a directory it owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa


def _newest_pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = Path(os.environ["FOKUS_PG_BIN"]) if os.environ.get("FOKUS_PG_BIN") else _newest_pg_bin()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class PostgresCluster:
    def __init__(self, *settings: str, directory: Path | None = None, in_memory: bool = False) -> None:
        """initdb and start; `settings` are extra `-c name=value` server settings.

        `directory`: keep the cluster there (the benchmark's generated data, reused by later runs):
        started again if it holds one, and left in place by `stop`. Default: a throwaway one, in
        memory (/dev/shm) when `in_memory` and the machine has it: the tests create and drop a
        database per test, and on disk each costs about twice as long (test_rules' PostgreSQL cases:
        121 s on disk, 60 s in memory). The benchmark measures a cluster on disk.
        """
        self.kept = directory is not None
        memory = "/dev/shm" if in_memory and os.access("/dev/shm", os.W_OK) else None
        self.dir = (str(directory.resolve()) if directory is not None
                    else tempfile.mkdtemp(prefix="fokus-pg-", dir=memory))
        self.port = _free_port()
        Path(self.dir).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        if not (Path(self.dir) / "PG_VERSION").exists():
            subprocess.run(
                _as_postgres(str(PG_BIN / "initdb"), "-D", self.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                             "--locale=C.UTF-8"),
                check=True, capture_output=True,
            )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        options += "".join(f" -c {setting}" for setting in settings)
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

    def databases(self) -> set[str]:
        engine = sa.create_engine(self.admin_url)
        with engine.connect() as connection:
            found = set(connection.exec_driver_sql("SELECT datname FROM pg_database").scalars())
        engine.dispose()
        return found

    def stop(self) -> None:
        """Stop the server: at once for a throwaway cluster (then deleted), cleanly for a kept one."""
        mode = "fast" if self.kept else "immediate"
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", self.dir, "-m", mode, "-w", "stop"),
                       capture_output=True)
        if not self.kept:
            shutil.rmtree(self.dir, ignore_errors=True)
