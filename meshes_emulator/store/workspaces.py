"""Workspaces, their publishable keys and their catalogs (event types, resources)."""

from __future__ import annotations

from typing import Any

from meshes_emulator.paging import PageRequest
from meshes_emulator.store.db import Row, Store
from meshes_emulator.store.paging import keyset_clause


def insert_workspace(store: Store, row: Row) -> None:
    store.insert("workspaces", row)


def insert_publishable_key(store: Store, row: Row) -> None:
    store.insert("publishable_keys", row)


def get_workspace(store: Store, org_id: str, workspace_id: str) -> Row | None:
    return store.one("SELECT * FROM workspaces WHERE id = ? AND org_id = ?",
                     [workspace_id, org_id])


def get_workspace_any_org(store: Store, workspace_id: str) -> Row | None:
    return store.one("SELECT * FROM workspaces WHERE id = ?", [workspace_id])


def find_by_name(store: Store, org_id: str, name: str) -> Row | None:
    return store.one("SELECT * FROM workspaces WHERE org_id = ? AND name = ? COLLATE NOCASE",
                     [org_id, name])


def list_page(store: Store, org_id: str, req: PageRequest) -> list[Row]:
    clause, params = keyset_clause(req)
    return store.all(
        f"SELECT rowid AS _rowid, * FROM workspaces WHERE org_id = ?{clause} "
        "ORDER BY rowid DESC LIMIT ?",
        [org_id, *params, req.limit + 1],
    )


def list_all(store: Store, org_id: str | None = None) -> list[Row]:
    if org_id is None:
        return store.all("SELECT * FROM workspaces ORDER BY rowid")
    return store.all("SELECT * FROM workspaces WHERE org_id = ? ORDER BY rowid", [org_id])


def update_workspace(store: Store, workspace_id: str, changes: dict[str, Any]) -> None:
    sets = ", ".join(f"{column} = ?" for column in changes)
    store.execute(f"UPDATE workspaces SET {sets} WHERE id = ?", [*changes.values(), workspace_id])


def get_publishable_key(store: Store, workspace_id: str) -> Row | None:
    return store.one("SELECT * FROM publishable_keys WHERE workspace_id = ?", [workspace_id])


def catalog_entries(store: Store, workspace_id: str, kind: str) -> list[Row]:
    return store.all("SELECT * FROM catalog_entries WHERE workspace_id = ? AND kind = ? "
                     "ORDER BY rowid", [workspace_id, kind])


def insert_catalog_entry_if_absent(store: Store, row: Row) -> bool:
    """Insert unless (workspace, kind, key) exists; True when a row was added."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    changed = store.execute(
        f"INSERT INTO catalog_entries ({columns}) VALUES ({marks}) "
        "ON CONFLICT(workspace_id, kind, key) DO NOTHING", list(row.values()))
    return changed > 0
