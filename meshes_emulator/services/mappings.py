"""Default mappings of a connection (reference §7.8-7.9, §12.6-12.7; behavior §4.4).

* GET: the stored mapping (`status: stored`) or one generated from the field catalog
  (`status: generated`, version 1, nothing stored).
* PUT: the schema is validated (422 with `{param, msg}` per problem) and stored normalized;
  `expected_version` must equal the current version (409 otherwise). The generated mapping is
  version 1, so the first PUT stores version 2 and each later one adds one: two writers holding
  the same version never both succeed (one conditional INSERT/UPDATE checks and writes).
  A seed file's mapping is stored as version 1 (nobody read a generated one before it).
* `mapping_id` is the connection's one logical mapping id, stable for its life (derived from the
  connection id); `id` names the stored version and changes on each PUT.
"""

from __future__ import annotations

from typing import Any

from meshes_emulator import ids
from meshes_emulator.catalog.fields import catalog_version_of
from meshes_emulator.catalog.mapping import (
    default_mapping_schema,
    normalize_mapping_schema,
    validate_mapping_schema,
)
from meshes_emulator.clock import isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.errors import Conflict, UnprocessableEntity, not_found
from meshes_emulator.leniency import Check
from meshes_emulator.schemas.connections import MappingUpdate
from meshes_emulator.services import connections
from meshes_emulator.store import connections as store
from meshes_emulator.store.db import Row

DEFAULT_NAME = "Default Mapping"
GENERATED_VERSION = 1
"""The version the generated (never stored) mapping reports; a PUT over it stores version 2."""


def generated(conn: Row) -> Row:
    """The mapping a connection has before any PUT (not stored)."""
    return {
        "id": ids.generated_mapping_id(conn["id"]),
        "mapping_id": ids.mapping_id(conn["id"]),
        "version": GENERATED_VERSION,
        "workspace_id": conn["workspace_id"],
        "connection_id": conn["id"],
        "integration_type": conn["type"],
        "name": DEFAULT_NAME,
        "schema": default_mapping_schema(conn["type"]),
        "catalog_version": catalog_version_of(connections.fields_of(conn)),
        "created_at": conn["created_at"],
        "updated_at": conn["created_at"],
    }


def get_default(emulator: Emulator, org_id: str, connection_id: str) -> tuple[str, Row]:
    """("stored" | "generated", mapping row)."""
    conn = connections.get(emulator, org_id, connection_id)
    stored = store.get_mapping(emulator.store, connection_id)
    if stored is not None:
        return "stored", stored
    return "generated", generated(conn)


def _checked_schema(schema: Any) -> dict[str, Any]:
    problems = validate_mapping_schema(schema)
    if problems:
        first = f"{problems[0]['param']}: {problems[0]['msg']}"
        raise UnprocessableEntity("Invalid mapping schema", detail=first, data=problems)
    return normalize_mapping_schema(schema)


def _version_conflict(expected: int | None, current: int | str) -> Conflict:
    return Conflict("Mapping version conflict",
                    detail=f"expected_version {expected} does not match the current version "
                    f"{current}")


def store_schema(
    emulator: Emulator,
    conn: Row,
    schema: Any,
    name: str | None,
    created_by: str,
    *,
    expected_version: int | None = None,
    seeded: bool = False,
) -> Row:
    """Validate and store a new version of the connection's default mapping (409 when
    `expected_version` is not the current one, or another write got in first)."""
    normalized = _checked_schema(schema)
    with emulator.store.transaction():
        current = store.get_mapping(emulator.store, conn["id"])
        current_version = current["version"] if current else GENERATED_VERSION
        if expected_version is not None and expected_version != current_version:
            raise _version_conflict(expected_version, current_version)
        now = isoformat(emulator.clock.now())
        row: Row = {
            "connection_id": conn["id"],
            "id": emulator.ids.uuid(),
            "mapping_id": ids.mapping_id(conn["id"]),
            "version": GENERATED_VERSION if seeded and not current else current_version + 1,
            "workspace_id": conn["workspace_id"],
            "integration_type": conn["type"],
            "name": name or (current["name"] if current else DEFAULT_NAME),
            "schema": normalized,
            "catalog_version": catalog_version_of(connections.fields_of(conn)),
            "created_by": created_by,
            "created_at": current["created_at"] if current else now,
            "updated_at": now,
        }
        if not store.write_mapping(emulator.store, row, current["version"] if current else None):
            raise _version_conflict(expected_version, "(changed by another write)")
        return row


def _unprocessable(data: list[dict[str, str]]) -> UnprocessableEntity:
    detail = f"{data[0]['param']}: {data[0]['msg']}"
    return UnprocessableEntity("Unprocessable Entity", detail=detail, data=data)


def put_default(
    emulator: Emulator, org_id: str, created_by: str, connection_id: str, body: MappingUpdate
) -> Row:
    with emulator.store.transaction():
        conn = connections.get(emulator, org_id, connection_id)
        if body.workspace_id is not None and body.workspace_id != conn["workspace_id"]:
            problem = {"param": "workspace_id", "msg": "must be the connection's workspace"}
            emulator.leniency.check(Check.MAPPING_WORKSPACE, [problem], refuse=_unprocessable)
        if body.mapping_id is not None and body.mapping_id != ids.mapping_id(connection_id):
            raise not_found("Mapping")
        return store_schema(
            emulator, conn, body.mapping_schema, body.name, created_by,
            expected_version=body.expected_version,
        )
