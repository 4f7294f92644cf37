"""Migration m006: attempt and sink ids without a primary-key index. An existing database keeps
every row and rowid, webhook outcomes still land on their attempt, and a state file naming an
attempt or sink id twice is still refused with the same message."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from meshes_emulator import Settings, create_app
from meshes_emulator.services import export
from meshes_emulator.store.db import Store
from meshes_emulator.store.migrations import migrations
from tests.engine.aio import run_async
from tests.helpers import slack_rule_with_events

TABLES = ("events", "rule_events", "attempts", "deliveries")
M006 = "m006_attempt_and_sink_ids_unindexed"


def _old_schema() -> dict[str, str]:
    """The SQL of attempts, deliveries and their index as migrations m001-m005 left them."""
    conn = sqlite3.connect(":memory:")
    try:
        migrations.apply(sqlite_utils.Database(conn), stop_before=M006)
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name IN "
                            "('attempts', 'deliveries') AND sql IS NOT NULL")
        return dict(rows.fetchall())
    finally:
        conn.close()


def _delivered(path: str, events: int) -> Any:
    app = create_app(Settings(db_path=path, clock="manual", background_dispatcher=False))
    run_async(slack_rule_with_events(app, events))
    run_async(app.state.emulator.dispatcher.drain())
    return app.state.emulator


def _dump(conn: sqlite3.Connection) -> dict[str, list[Any]]:
    return {table: conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
            for table in TABLES}


def _downgrade(path: Path) -> None:
    """Make `path` what a database was before m006 (the same rows and rowids)."""
    old = _old_schema()
    conn = sqlite3.connect(path, isolation_level=None)
    for table in ("attempts", "deliveries"):
        conn.execute(f"ALTER TABLE {table} RENAME TO {table}_new")
        conn.execute(old[table])
        conn.execute(f"INSERT INTO {table} SELECT * FROM {table}_new ORDER BY rowid")
        conn.execute(f"DROP TABLE {table}_new")
    conn.execute(old["deliveries_connection"])
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [M006])
    conn.close()


def _indexes(conn: sqlite3.Connection, table: str) -> list[tuple[str, ...]]:
    return sorted(tuple(row[2] for row in conn.execute(f"PRAGMA index_info({name!r})"))
                  for _, name, *_ in conn.execute(f"PRAGMA index_list({table})"))


def test_an_existing_database_keeps_every_row_and_rowid(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _delivered(str(path), 12).store.close()
    _downgrade(path)
    before = sqlite3.connect(path)
    rows = _dump(before)
    assert _indexes(before, "attempts") == [("id",), ("rule_event_id", "attempt_number")]
    before.close()
    assert len(rows["attempts"]) == 12 and len(rows["deliveries"]) == 12
    store = Store(str(path))  # migrates
    store.close()
    after = sqlite3.connect(path)
    assert _dump(after) == rows
    assert _indexes(after, "attempts") == [("rule_event_id", "attempt_number")]
    assert _indexes(after, "deliveries") == [("connection_id",)]
    assert after.execute("PRAGMA foreign_key_check").fetchall() == []
    after.close()


def _records(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    events = data["organizations"][0]["workspaces"][0]["events"]
    if name == "attempts":
        return [attempt for event in events for rule_event in event["rule_events"]
                for attempt in rule_event["attempts"]]
    return [record for event in events for record in event["deliveries"]]


@pytest.mark.parametrize("name", ["attempts", "deliveries"])
def test_a_state_file_naming_an_id_twice_is_refused(tmp_path: Path, name: str) -> None:
    emulator = _delivered(":memory:", 2)
    data = export.dump(emulator.store, with_secrets=True)
    first, second = _records(data, name)[:2]
    assert first["id"] != second["id"]
    duplicated = copy.deepcopy(data)
    _records(duplicated, name)[1]["id"] = first["id"]
    with pytest.raises(export.StateFileError, match=rf"UNIQUE constraint failed: {name}\.id"):
        export.load(emulator, duplicated, "twice.yaml")
    export.load(emulator, data, "once.yaml")  # the same file without the repeat loads
    assert [row["id"] for row in _records(export.dump(emulator.store, with_secrets=True), name)] \
        == [row["id"] for row in _records(data, name)]
