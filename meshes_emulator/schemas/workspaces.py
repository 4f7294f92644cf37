"""Workspace bodies and responses (reference §6, §12.1, §12.2)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import StringConstraints

from meshes_emulator.rows import Row
from meshes_emulator.schemas.common import RequestModel

NAME_PATTERN = r"^[a-zA-Z0-9 _-]+$"
WorkspaceName = Annotated[str, StringConstraints(min_length=3, max_length=50, pattern=NAME_PATTERN)]
# update: the lengths are documented (MCP), the pattern only inferred (name_problems)
UpdatedName = Annotated[str, StringConstraints(min_length=3, max_length=50)]
Description = Annotated[str, StringConstraints(max_length=1024)]


class WorkspaceCreate(RequestModel):
    name: WorkspaceName
    description: Description | None = None


class WorkspaceUpdate(RequestModel):
    name: UpdatedName
    description: Description | None = None


def name_problems(name: str) -> list[dict[str, str]]:
    """The create pattern, which the reference only infers for update (leniency.py)."""
    if re.match(NAME_PATTERN, name):
        return []
    return [{"param": "name", "msg": f"String should match pattern '{NAME_PATTERN}'"}]


def workspace(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


def workspace_detail(row: Row, key: Row | None) -> dict[str, Any]:
    body = workspace(row)
    if key is not None:
        body["publishable_key"] = {"name": key["name"], "public_key": key["public_key"]}
    return body


def catalog_entry(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "key": row["key"], "label": row["label"],
            "description": row["description"], "active": bool(row["active"]),
            "created_by": row["created_by"], "created_at": row["created_at"],
            "updated_at": row["updated_at"]}
