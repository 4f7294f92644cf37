"""Workspaces: create, read, update, their publishable key and their catalogs."""

from __future__ import annotations

from typing import Any

from meshes_emulator import defaults, ids
from meshes_emulator.clock import isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.errors import Conflict, not_found
from meshes_emulator.paging import PageRequest
from meshes_emulator.store import workspaces as store
from meshes_emulator.store.db import Row

DEFAULT_EVENT_TYPE = "contact.created"
"""Every new workspace's event-type catalog holds it (quickstart: "the default event type")."""


def insert(emulator: Emulator, org_id: str, name: str, description: str | None, *,
           workspace_id: str | None = None, public_key: str | None = None) -> Row:
    """Insert a workspace and its publishable key (call inside a transaction)."""
    now = isoformat(emulator.clock.now())
    row: Row = {"id": workspace_id or emulator.ids.uuid(), "org_id": org_id, "name": name,
           "description": description, "created_at": now, "updated_at": now}
    store.insert_workspace(emulator.store, row)
    store.insert_publishable_key(emulator.store, {
        "public_key": public_key or emulator.ids.publishable_key(),
        "workspace_id": row["id"], "org_id": org_id,
        "name": defaults.DEFAULT_PUBLISHABLE_KEY_NAME, "created_at": now,
    })
    register_catalog_entry(emulator, row["id"], "resource", "global", created_by=None)
    register_catalog_entry(emulator, row["id"], "event_type", DEFAULT_EVENT_TYPE, created_by=None,
                           entry_id=ids.default_event_type_id(row["id"]))
    return row


def create(emulator: Emulator, org_id: str, name: str, description: str | None) -> Row:
    with emulator.store.transaction():
        if store.find_by_name(emulator.store, org_id, name) is not None:
            raise Conflict("Workspace already exists",
                           detail=f"A workspace named '{name}' already exists")
        return insert(emulator, org_id, name, description)


def get(emulator: Emulator, org_id: str, workspace_id: str) -> Row:
    """The workspace of this organization, or 404 (another org's id is not found too)."""
    row = store.get_workspace(emulator.store, org_id, workspace_id)
    if row is None:
        raise not_found("Workspace")
    return row


def list_page(emulator: Emulator, org_id: str, req: PageRequest) -> list[Row]:
    return store.list_page(emulator.store, org_id, req)


def list_all(emulator: Emulator, org_id: str) -> list[Row]:
    return store.list_all(emulator.store, org_id)


def update(emulator: Emulator, org_id: str, workspace_id: str, name: str,
           description: str | None, description_given: bool) -> Row:
    with emulator.store.transaction():
        current = get(emulator, org_id, workspace_id)
        other = store.find_by_name(emulator.store, org_id, name)
        if other is not None and other["id"] != workspace_id:
            raise Conflict("Workspace already exists",
                           detail=f"A workspace named '{name}' already exists")
        changes: dict[str, Any] = {"name": name, "updated_at": isoformat(emulator.clock.now())}
        if description_given:
            changes["description"] = description
        store.update_workspace(emulator.store, workspace_id, changes)
        return {**current, **changes}


def publishable_key(emulator: Emulator, workspace_id: str) -> Row | None:
    return store.get_publishable_key(emulator.store, workspace_id)


def with_key(emulator: Emulator, workspace: Row) -> dict[str, Any]:
    """A compact view for banners and the admin API: id, name, publishable key."""
    key = publishable_key(emulator, workspace["id"])
    return {"id": workspace["id"], "name": workspace["name"],
            "publishable_key": key["public_key"] if key else None}


def register_catalog_entry(emulator: Emulator, workspace_id: str, kind: str, key: str, *,
                           created_by: str | None, label: str | None = None,
                           description: str | None = None, entry_id: str | None = None) -> bool:
    """Add an event type or resource to the workspace's catalog unless it is known."""
    now = isoformat(emulator.clock.now())
    return store.insert_catalog_entry_if_absent(emulator.store, {
        "id": entry_id or emulator.ids.uuid(), "workspace_id": workspace_id, "kind": kind,
        "key": key,
        "label": label or key, "description": description, "active": 1,
        "created_by": created_by, "created_at": now, "updated_at": now,
    })


def catalog(emulator: Emulator, org_id: str, workspace_id: str, kind: str) -> list[Row]:
    get(emulator, org_id, workspace_id)
    return store.catalog_entries(emulator.store, workspace_id, kind)
