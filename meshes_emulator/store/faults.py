"""Fault plans (`faults` table): the only SQL for issue 5's faults."""

from __future__ import annotations

from meshes_emulator.store.db import Row, Store, where_equal


def list_faults(store: Store, kind: str | None = None) -> list[Row]:
    """Every fault in decision order (position, then creation)."""
    if kind is None:
        return store.all("SELECT * FROM faults ORDER BY position, rowid")
    return store.all("SELECT * FROM faults WHERE kind = ? ORDER BY position, rowid", [kind])


def get_fault(store: Store, fault_id: str) -> Row | None:
    return store.one("SELECT * FROM faults WHERE id = ?", [fault_id])


def insert_fault(store: Store, row: Row) -> None:
    store.insert("faults", row)


def last_position(store: Store) -> int:
    row = store.one("SELECT COALESCE(MAX(position), 0) AS last FROM faults")
    return int(row["last"]) if row else 0


def shift_positions(store: Store, start: int) -> None:
    """Make room at `start`: every fault at or after it moves one place down."""
    store.execute("UPDATE faults SET position = position + 1 WHERE position >= ?", [start])


def update_counters(store: Store, fault_id: str, hits: int, seen: int) -> None:
    store.execute("UPDATE faults SET hits = ?, seen = ? WHERE id = ?", [hits, seen, fault_id])


def delete_fault(store: Store, fault_id: str) -> int:
    return store.execute("DELETE FROM faults WHERE id = ?", [fault_id])


def delete_faults(store: Store, kind: str | None = None, source: str | None = None) -> int:
    """Delete all faults (of one kind / one source when given); returns how many."""
    conditions = {"kind": kind, "json_extract(spec, '$.source')": source}
    where, params = where_equal({k: v for k, v in conditions.items() if v is not None})
    return store.execute(f"DELETE FROM faults WHERE {where}", params)
