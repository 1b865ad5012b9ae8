"""Alembic environment: the URL comes from fokus's own configuration unless one is passed."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import fokus.models  # noqa: F401  (registers every table on the metadata)
from fokus import config as fokus_config
from fokus import db

alembic_cfg = context.config
target_metadata = SQLModel.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = alembic_cfg.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = alembic_cfg.get_main_option("sqlalchemy.url") or fokus_config.database_url()
    with db.make_engine(url).connect() as connection:
        _run(connection)
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("fokus runs its migrations online only.")
run_migrations_online()
