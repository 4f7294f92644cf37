"""Rule bodies and responses (reference §9, §12.5)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from meshes_emulator.rows import Row
from meshes_emulator.schemas.common import NonEmptyStr, RequestModel, ResourceId, Uuid


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


EventName = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_not_blank)]
ResourceKey = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_not_blank)]


class RuleMetadataIn(BaseModel):
    """`action` plus any other action inputs (`id`, `value`, `template`, ...)."""

    model_config = ConfigDict(strict=True, extra="allow", defer_build=True)

    action: NonEmptyStr


class RuleCreate(RequestModel):
    workspace: Uuid
    connection: Uuid
    event: EventName
    metadata: RuleMetadataIn
    resource: ResourceKey | None = None
    resource_id: ResourceId | None = None
    active: bool = True
    hidden: bool = False


def rule(row: Row) -> dict[str, Any]:
    """Rule (§12.5); `resource`/`resource_id` only when set."""
    body: dict[str, Any] = {
        "id": row["id"],
        "workspace": row["workspace_id"],
        "connection": row["connection_id"],
        "type": row["type"],
        "event": row["event"],
        "metadata": row["metadata"],
        "active": bool(row["active"]),
        "hidden": bool(row["hidden"]),
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if row.get("resource"):
        body["resource"] = row["resource"]
    if row.get("resource_id"):
        body["resource_id"] = row["resource_id"]
    return body


def deleted_rule(row: Row) -> dict[str, Any]:
    """The summary deleteRule answers with."""
    body: dict[str, Any] = {
        "id": row["id"],
        "connection": row["connection_id"],
        "event": row["event"],
        "type": row["type"],
    }
    if row.get("resource"):
        body["resource"] = row["resource"]
    if row.get("resource_id"):
        body["resource_id"] = row["resource_id"]
    return body
