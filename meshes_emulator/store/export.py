"""The SQL of export and import (services/export.py): whole tables, in insertion order."""

from __future__ import annotations

from typing import Any

from meshes_emulator.store.db import Row, Store
from meshes_emulator.store.schema import TABLES_IN_DELETE_ORDER


def meta_rows(store: Store) -> list[Row]:
    """Every `meta` entry (`key`, `value`), by key."""
    return store.all("SELECT key, value FROM meta ORDER BY key")


def table_rows(store: Store, table: str, parent: str | None = None,
               parent_id: Any = None) -> list[Row]:
    """Every row of `table` (only those whose `parent` column is `parent_id`), oldest first."""
    if parent is None:
        return store.all(f"SELECT * FROM {table} ORDER BY rowid")
    return store.all(f"SELECT * FROM {table} WHERE {parent} = ? ORDER BY rowid", [parent_id])


def delete_everything(store: Store) -> None:
    """Empty every table (children first)."""
    for table in TABLES_IN_DELETE_ORDER:
        store.execute(f"DELETE FROM {table}")


def insert_meta(store: Store, key: str, value: str) -> None:
    store.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])


def table_columns(store: Store, table: str) -> set[str]:
    """The column names of `table`."""
    return {str(row["name"]) for row in store.all(f"PRAGMA table_info({table})")}
