"""The fully migrated schema as SQL text (`schema.sql`), and the order tables are emptied in.

A fresh database (in memory, or a new file) starts from `schema.sql`: the SQL dump of an empty
database after every migration of `store/migrations.py`, written by `scripts/write-schema`.
Building it from the text takes ~2 ms and needs neither sqlite-utils nor the migrations, whose
import alone costs ~40 ms on every start (the pytest fixture's first test waits for it).
An existing file is still migrated by `store/migrations.py`; `tests/perf/test_store_and_serving.py`
checks that `schema.sql` is exactly what the migrations build.
"""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' record of applied migrations
MIGRATION_SET = "meshes_emulator"

# Children before parents: the order `reset` empties tables in.
TABLES_IN_DELETE_ORDER = (
    "deliveries",
    "attempts",
    "rule_events",
    "events",
    "rules",
    "mappings",
    "field_catalogs",
    "connections",
    "sessions",
    "catalog_entries",
    "publishable_keys",
    "workspaces",
    "machine_keys",
    "orgs",
    "faults",
    "meta",
)

HEADER = ("-- The empty database after every migration of meshes_emulator/store/migrations.py.\n"
          "-- Written by scripts/write-schema; do not edit (add a migration, then run it).\n")


@functools.cache
def schema_sql() -> str:
    """The text of `schema.sql`."""
    return SCHEMA_FILE.read_text(encoding="utf-8")


def build(conn: sqlite3.Connection) -> None:
    """Create the fully migrated, empty schema in the empty database `conn`. Its migrations are
    recorded as applied with an empty `applied_at`: they came with the schema, at no one time
    (a wall-clock time would make two fresh databases differ)."""
    conn.executescript(schema_sql())


@functools.cache
def known_migrations() -> frozenset[str]:
    """The names of every migration this version knows (recorded in `schema.sql`)."""
    conn = sqlite3.connect(":memory:")
    try:
        build(conn)
        rows = conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?",
                            [MIGRATION_SET])
        return frozenset(name for (name,) in rows)
    finally:
        conn.close()


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations `conn` lacks (sqlite-utils; imported here, only for existing files).
    `conn` must return rows as tuples."""
    import sqlite_utils

    from meshes_emulator.store.migrations import migrations

    migrations.apply(sqlite_utils.Database(conn, execute_plugins=False))


def migrated_dump() -> str:
    """The SQL text `schema.sql` must hold: the dump of a new database after every migration."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn)
        conn.execute(f"UPDATE {MIGRATIONS_TABLE} SET applied_at = ''")  # see `build`
        return HEADER + "\n".join(conn.iterdump()) + "\n"
    finally:
        conn.close()


def write() -> Path:
    """(Re)write `schema.sql` from the migrations."""
    SCHEMA_FILE.write_text(migrated_dump(), encoding="utf-8")
    schema_sql.cache_clear()
    known_migrations.cache_clear()
    return SCHEMA_FILE
