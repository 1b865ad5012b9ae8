"""Alembic environment: the URL comes from fokus's own configuration unless one is passed."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import fokus.models  # noqa: F401  (registers every table on the metadata)
from fokus import config as fokus_config
from fokus import db
from fokus.migrations import index_predicates

alembic_cfg = context.config
target_metadata = SQLModel.metadata

# What `alembic check` and `--autogenerate` compare, beyond Alembic's defaults: CHECK
# constraints by name (the ranges and code lists of DESIGN §2) and the WHERE clause of
# partial indexes (one open course per citizen).
AUTOGENERATE_PLUGINS = [
    "alembic.autogenerate.*",
    "alembic.ext.checkconstraint_byname",
    index_predicates.PLUGIN_NAME,
]


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # One transaction for the whole run (on SQLite too), with its locks and foreign-key check.
    with db.migration_transaction(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            autogenerate_plugins=AUTOGENERATE_PLUGINS,
        )
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_online() -> None:
    connection = alembic_cfg.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = alembic_cfg.get_main_option("sqlalchemy.url") or fokus_config.database_url()
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()  # no pooled connection outlives the command (it would block DROP DATABASE)


if context.is_offline_mode():
    raise SystemExit("fokus runs its migrations online only.")
run_migrations_online()
