"""The `connections:` section of a workspace in a seed file (docs/fixtures.md).

Apart from services/connections.py because a seeded connection may carry its mapping
(services/mappings.py, which itself reads connections).
"""

from __future__ import annotations

import re
from typing import Any

from meshes_emulator.context import Emulator
from meshes_emulator.errors import ApiError, BadRequest
from meshes_emulator.schemas.common import UUID_PATTERN, lower_id, validate
from meshes_emulator.schemas.connections import INACTIVE_REASONS, ConnectionCreate
from meshes_emulator.services import connections, mappings
from meshes_emulator.store import connections as store
from meshes_emulator.store.db import Row


def load_seed_connections(
    emulator: Emulator, org_id: str, workspace: Row, items: list[Any], refs: dict[str, str]
) -> None:
    """The `connections:` section of a workspace in a seed file (docs/fixtures.md)."""
    for index, item in enumerate(items):
        where = f"workspace '{workspace['name']}' connections[{index}]"
        try:
            connection_id = _load_seed_item(emulator, workspace, item, where)
        except ApiError as exc:
            if exc.detail and exc.detail.startswith(where):
                raise
            raise BadRequest(detail=f"{where}: {exc.detail or exc.message}") from None
        _remember(refs, item, connection_id)


def _load_seed_item(emulator: Emulator, workspace: Row, item: Any, where: str) -> str:
    if not isinstance(item, dict):
        raise BadRequest(detail=f"{where}: must be a mapping")
    body = validate(ConnectionCreate, {
        "workspace": workspace["id"], "type": item.get("type"), "name": item.get("name"),
        "metadata": item.get("metadata") or {}, "hidden": bool(item.get("hidden", False)),
    })
    existing = store.find_by_name(emulator.store, workspace["id"], body.name)
    if existing is not None:
        return str(existing["id"])
    row = _insert_seed(emulator, workspace, body, item, where)
    if item.get("mapping") is not None:
        spec = item["mapping"]
        if not isinstance(spec, dict) or "schema" not in spec:
            raise BadRequest(detail=f"{where}.mapping: needs a `schema`")
        mappings.store_schema(emulator, row, spec["schema"], spec.get("name"), "fixture",
                              seeded=True)
    return str(row["id"])


def _insert_seed(
    emulator: Emulator, workspace: Row, body: ConnectionCreate, item: dict[str, Any], where: str
) -> Row:
    connections.check_type(body.type)
    metadata = connections.checked_metadata(emulator, body.type, body.metadata)
    data = item.get("action_data")
    if data is not None and not isinstance(data, dict):
        raise BadRequest(detail=f"{where}.action_data: must be a mapping")
    reason = item.get("inactive_reason")
    if reason is not None and reason not in INACTIVE_REASONS:
        raise BadRequest(detail=f"{where}.inactive_reason: unknown reason {reason!r}")
    connection_id = lower_id(item.get("id"))
    if connection_id is not None:
        if not isinstance(connection_id, str) or not re.fullmatch(UUID_PATTERN, connection_id):
            raise BadRequest(detail=f"{where}.id: must be a UUID")
        if store.get_connection_any_org(emulator.store, connection_id) is not None:
            raise BadRequest(detail=f"{where}: connection id {connection_id} is already used")
    return connections.insert(
        emulator, workspace, body.type, body.name, metadata,
        created_by=str(item.get("created_by") or "fixture"), hidden=body.hidden,
        connection_id=connection_id, active=bool(item.get("active", reason is None)),
        inactive_reason=reason, action_data=data,
    )


def _remember(refs: dict[str, str], item: dict[str, Any], connection_id: str) -> None:
    """Later sections (rules) find the connection as refs["connection:<name or ref>"]."""
    refs[f"connection:{item['name']}"] = connection_id
    if item.get("ref"):
        refs[f"connection:{item['ref']}"] = connection_id

