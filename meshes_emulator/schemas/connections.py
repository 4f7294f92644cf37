"""Connection and default-mapping bodies and responses (reference §7, §12.3, §12.4, §12.7)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from meshes_emulator.catalog.credentials import mask_metadata
from meshes_emulator.rows import Row
from meshes_emulator.schemas.common import JsonInt, RequestModel, Uuid

ConnectionName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9 _-]+$")
]
MappingName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
INACTIVE_REASONS = (
    "authentication_invalid",
    "oauth_authorization_revoked",
    "oauth_reauthorization_required",
    "manually_inactivated",
)


class ConnectionCreate(RequestModel):
    workspace: Uuid
    type: str
    name: ConnectionName
    metadata: dict[str, Any]
    hidden: bool = False


class ConnectionUpdate(RequestModel):
    name: ConnectionName
    metadata: dict[str, Any]
    hidden: bool | None = None


class ConnectionDelete(RequestModel):
    force_delete: bool = False


class MappingUpdate(RequestModel):
    """PUT …/mappings/default; `schema` itself is checked by catalog.mapping (422)."""

    mapping_schema: Any = Field(alias="schema")
    name: MappingName | None = None
    mapping_id: Uuid | None = None
    expected_version: Annotated[JsonInt, Field(ge=1)] | None = None
    workspace_id: Uuid | None = None


def connection(row: Row) -> dict[str, Any]:
    """Connection (§12.3): secrets masked; `inactive_reason` only while inactive."""
    body: dict[str, Any] = {
        "id": row["id"],
        "workspace": row["workspace_id"],
        "type": row["type"],
        "name": row["name"],
        "metadata": mask_metadata(row["type"], row["metadata"] or {}),
        "active": bool(row["active"]),
        "hidden": bool(row["hidden"]),
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if not row["active"] and row["inactive_reason"]:
        body["inactive_reason"] = row["inactive_reason"]
    return body


def delete_result(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "type": row["type"]}


def field_catalog(catalog_row: Row, conn: Row, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """ConnectionFieldCatalog (§12.4)."""
    return {
        "id": catalog_row["id"],
        "workspace_id": conn["workspace_id"],
        "connection_id": conn["id"],
        "integration_type": conn["type"],
        "catalog_version": catalog_row["catalog_version"],
        "refreshed_at": catalog_row["refreshed_at"],
        "created_by": catalog_row["created_by"],
        "created_at": catalog_row["created_at"],
        "updated_at": catalog_row["updated_at"],
        "fields": fields,
    }


def mapping(row: Row) -> dict[str, Any]:
    """ConnectionDefaultMapping (§12.7); optional keys only when set."""
    body: dict[str, Any] = {
        "id": row["id"],
        "mapping_id": row["mapping_id"],
        "version": row["version"],
        "workspace_id": row["workspace_id"],
        "connection_id": row["connection_id"],
        "integration_type": row["integration_type"],
        "name": row["name"],
        "schema": row["schema"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    for key in ("catalog_version", "created_by"):
        if row.get(key) is not None:
            body[key] = row[key]
    return body
