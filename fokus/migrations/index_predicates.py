"""An autogenerate plugin: compare the WHERE clause of partial indexes, which Alembic ignores.

The partial unique index "one open course per citizen" is the database's own defence of a core
rule (DESIGN §2). Alembic compares an index's columns and uniqueness but not its predicate, so
a migration that lost the WHERE clause (refusing every second course of a citizen) or a model
that gained one would pass `alembic check` unnoticed. With this plugin it reports the index
as changed. Predicates are compared as text with case, spaces, quotes and parentheses removed,
because each database gives them back in its own spelling (`("end" IS NULL)` on PostgreSQL).
"""

from __future__ import annotations

import sys

from alembic.operations import ops
from alembic.runtime.plugins import Plugin
from alembic.util import PriorityDispatchResult

PLUGIN_NAME = "fokus.index_predicates"
_IGNORED = set(" \t\r\n()\"'`")


def _normalised(predicate: object) -> str:
    if predicate is None:
        return ""
    return "".join(ch for ch in str(predicate).lower() if ch not in _IGNORED)


def _compare_index_predicates(  # type: ignore[no-untyped-def]
    autogen_context, modify_table_ops, schema, tname, conn_table, metadata_table
) -> PriorityDispatchResult:
    if conn_table is None or metadata_table is None:
        return PriorityDispatchResult.CONTINUE
    option = f"{autogen_context.dialect.name}_where"
    reflected = {
        index["name"]: (index.get("dialect_options") or {}).get(option)
        for index in autogen_context.inspector.get_indexes(tname, schema=schema)
    }
    conn_indexes = {index.name: index for index in conn_table.indexes}
    for index in sorted(metadata_table.indexes, key=lambda ix: str(ix.name)):
        # A missing index is Alembic's own business; only compare those on both sides.
        if index.name not in reflected or index.name not in conn_indexes:
            continue
        if _normalised(index.dialect_kwargs.get(option)) != _normalised(reflected[index.name]):
            modify_table_ops.ops.append(ops.DropIndexOp.from_index(conn_indexes[index.name]))
            modify_table_ops.ops.append(ops.CreateIndexOp.from_index(index))
    return PriorityDispatchResult.CONTINUE


def setup(plugin: Plugin) -> None:
    plugin.add_autogenerate_comparator(_compare_index_predicates, "table", "index_predicates")


# Registered once per process, when env.py first imports this module.
Plugin.setup_plugin_from_module(sys.modules[__name__], PLUGIN_NAME)
