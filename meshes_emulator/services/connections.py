"""Connections: create, read, update, delete; live action data; field catalogs.

Rules of the area (docs/behaviour.md):
* metadata is checked against the integration's credential fields (catalog.credentials) and
  stored in full; every response masks the secrets (schemas.connections.connection);
* names are unique per workspace, case-insensitively (409 "connection already exists");
* delete answers 409 while rules use the connection, unless `force_delete` (the rules go too);
* live action data is generated from the connection id and the emulator seed, unless a test
  replaced it (seed file or admin API); an inactive connection cannot reach its provider (422).
"""

from __future__ import annotations

from typing import Any

from meshes_emulator import catalog
from meshes_emulator.catalog.action_data import generate_action_data
from meshes_emulator.catalog.credentials import merge_masked, validate_metadata
from meshes_emulator.catalog.fields import catalog_version_of, field_catalog
from meshes_emulator.clock import isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.errors import (
    Conflict,
    UnprocessableEntity,
    ValidationFailed,
    not_found,
)
from meshes_emulator.leniency import Check
from meshes_emulator.paging import PageRequest
from meshes_emulator.schemas.connections import (
    INACTIVE_REASONS,
    ConnectionCreate,
    ConnectionUpdate,
)
from meshes_emulator.services import workspaces
from meshes_emulator.store import connections as store
from meshes_emulator.store.db import Row

DUPLICATE_MESSAGE = "connection already exists"


def check_type(integration_type: str) -> None:
    if integration_type not in catalog.INTEGRATION_TYPES:
        raise ValidationFailed(
            [{"param": "type", "msg": "must be one of: " + ", ".join(catalog.INTEGRATION_TYPES)}]
        )


def checked_metadata(
    emulator: Emulator, integration_type: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Normalized metadata, or 400 naming every malformed credential field.

    A missing credential field is an inferred check (leniency.py): a warning, or a 400 in
    strict mode; a delivery that needs the field then fails naming it.
    """
    inferred: list[dict[str, str]] = []
    normalized, problems = validate_metadata(
        integration_type, metadata, inferred=inferred,
        extra_http_hosts=emulator.settings.allow_http_webhooks)  # --allow-http-webhooks
    if problems:
        raise ValidationFailed(problems + (inferred if emulator.leniency.strict else []))
    emulator.leniency.check(Check.CONNECTION_METADATA, inferred)
    return normalized


def _ensure_unique_name(emulator: Emulator, workspace_id: str, name: str, own_id: str) -> None:
    other = store.find_by_name(emulator.store, workspace_id, name)
    if other is not None and other["id"] != own_id:
        raise Conflict(
            DUPLICATE_MESSAGE, detail=f"A connection named '{name}' already exists in the workspace"
        )


def insert(
    emulator: Emulator,
    workspace: Row,
    integration_type: str,
    name: str,
    metadata: dict[str, Any],
    *,
    created_by: str,
    hidden: bool = False,
    connection_id: str | None = None,
    active: bool = True,
    inactive_reason: str | None = None,
    action_data: dict[str, Any] | None = None,
) -> Row:
    """Insert a checked connection (call inside a transaction)."""
    now = isoformat(emulator.clock.now())
    row: Row = {
        "id": connection_id or emulator.ids.uuid(),
        "org_id": workspace["org_id"],
        "workspace_id": workspace["id"],
        "type": integration_type,
        "name": name,
        "metadata": metadata,
        "action_data": action_data,
        "active": 1 if active else 0,
        "inactive_reason": None if active else (inactive_reason or "manually_inactivated"),
        "hidden": 1 if hidden else 0,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }
    store.insert_connection(emulator.store, row)
    return row


def create(emulator: Emulator, org_id: str, created_by: str, body: ConnectionCreate) -> Row:
    check_type(body.type)
    metadata = checked_metadata(emulator, body.type, body.metadata)
    with emulator.store.transaction():
        workspace = workspaces.get(emulator, org_id, body.workspace)
        _ensure_unique_name(emulator, workspace["id"], body.name, own_id="")
        return insert(
            emulator, workspace, body.type, body.name, metadata,
            created_by=created_by, hidden=body.hidden,
        )


def get(emulator: Emulator, org_id: str, connection_id: str) -> Row:
    """The connection of this organization, or 404 (another org's id is not found too)."""
    row = store.get_connection(emulator.store, org_id, connection_id)
    if row is None:
        raise not_found("Connection")
    return row


def list_page(
    emulator: Emulator, org_id: str, req: PageRequest, workspace_id: str | None = None
) -> list[Row]:
    if workspace_id is not None:
        workspaces.get(emulator, org_id, workspace_id)
    return store.list_page(emulator.store, org_id, req, workspace_id)


def update(emulator: Emulator, org_id: str, connection_id: str, body: ConnectionUpdate) -> Row:
    """Replace name and metadata (masked secrets sent back keep their value); hidden if given."""
    with emulator.store.transaction():
        current = get(emulator, org_id, connection_id)
        merged = merge_masked(current["type"], body.metadata, current["metadata"] or {})
        metadata = checked_metadata(emulator, current["type"], merged)
        _ensure_unique_name(emulator, current["workspace_id"], body.name, own_id=connection_id)
        changes: dict[str, Any] = {
            "name": body.name,
            "metadata": metadata,
            "updated_at": isoformat(emulator.clock.now()),
        }
        if body.hidden is not None:
            changes["hidden"] = 1 if body.hidden else 0
        store.update_connection(emulator.store, connection_id, changes)
        return {**current, **changes}


def delete(emulator: Emulator, org_id: str, connection_id: str, force: bool) -> Row:
    """Delete with its rules; 409 while active rules use it, unless `force`."""
    with emulator.store.transaction():
        current = get(emulator, org_id, connection_id)
        active = store.count_rules(emulator.store, connection_id, active_only=True)
        if active and not force:
            raise Conflict(
                "Connection has active rules",
                detail=f"{active} active rule(s) use this connection; "
                "send {\"force_delete\": true} to delete them with it",
            )
        store.delete_rules(emulator.store, connection_id)
        store.delete_connection(emulator.store, connection_id)
        return current


def _require_active(row: Row) -> None:
    if not row["active"]:
        reason = row["inactive_reason"] or "manually_inactivated"
        raise UnprocessableEntity(
            "Connection is inactive",
            detail=f"The connection is inactive ({reason}); its provider cannot be reached",
        )


def live_action_data(emulator: Emulator, row: Row) -> dict[str, Any]:
    """The stored replacement, or the data generated from the connection id and the seed."""
    if row["action_data"] is not None:
        data: dict[str, Any] = row["action_data"]
        return data
    return dict(generate_action_data(row["type"], f"{row['id']}:{emulator.ids.seed}"))


def actions(emulator: Emulator, org_id: str, connection_id: str) -> dict[str, Any]:
    """GET /connections/{id}/actions: the type's catalog actions, each with its live data."""
    row = get(emulator, org_id, connection_id)
    _require_active(row)
    return catalog.connection_actions(row["type"], live_action_data(emulator, row))


def fields_of(row: Row) -> list[dict[str, Any]]:
    return field_catalog(row["type"])


def field_catalog_of(
    emulator: Emulator, org_id: str, created_by: str, connection_id: str, refresh: bool
) -> tuple[Row, Row, list[dict[str, Any]]]:
    """(catalog row, connection, fields); the row is made on first read, renewed on refresh."""
    with emulator.store.transaction():
        conn = get(emulator, org_id, connection_id)
        fields = fields_of(conn)
        version = catalog_version_of(fields)
        existing = store.get_field_catalog(emulator.store, connection_id)
        now = isoformat(emulator.clock.now())
        if refresh:
            _require_active(conn)
        if existing is None:
            existing = {
                "connection_id": connection_id, "id": emulator.ids.uuid(),
                "catalog_version": version, "refreshed_at": now, "created_by": created_by,
                "created_at": now, "updated_at": now,
            }
            store.insert_field_catalog(emulator.store, existing)
        elif refresh:
            changes = {"catalog_version": version, "refreshed_at": now, "updated_at": now}
            store.update_field_catalog(emulator.store, connection_id, changes)
            existing = {**existing, **changes}
        return existing, conn, fields


# -- emulator controls ------------------------------------------------------------------------


def get_any_org(emulator: Emulator, connection_id: str) -> Row:
    row = store.get_connection_any_org(emulator.store, connection_id)
    if row is None:
        raise not_found("Connection")
    return row


def set_action_data(emulator: Emulator, connection_id: str, data: dict[str, Any] | None) -> Row:
    """Replace the live action data (None: back to generated data)."""
    with emulator.store.transaction():
        row = get_any_org(emulator, connection_id)
        store.update_connection(emulator.store, connection_id, {"action_data": data})
        return {**row, "action_data": data}


def set_active(
    emulator: Emulator, connection_id: str, active: bool, reason: str | None = None
) -> Row:
    """Mark a connection active again, or inactive with a reference reason."""
    if not active and reason is not None and reason not in INACTIVE_REASONS:
        raise ValidationFailed(
            [{"param": "reason", "msg": "must be one of: " + ", ".join(INACTIVE_REASONS)}]
        )
    with emulator.store.transaction():
        row = get_any_org(emulator, connection_id)
        changes: dict[str, Any] = {
            "active": 1 if active else 0,
            "inactive_reason": None if active else (reason or "manually_inactivated"),
            "updated_at": isoformat(emulator.clock.now()),
        }
        store.update_connection(emulator.store, connection_id, changes)
        return {**row, **changes}
