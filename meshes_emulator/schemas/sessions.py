"""Embed-session bodies and responses (reference §11, §12.11, §13.9)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from meshes_emulator.rows import Row, decode_json
from meshes_emulator.schemas.common import JsonInt, NonEmptyStr, RequestModel, Uuid

Role = Literal["member", "admin", "owner"]
SessionType = Literal["workspace", "resource", "dashboard"]
LaunchPage = Literal["dashboard", "connections", "rules", "events"]
Scope = Literal["events.payload:read"]

LAUNCH_PAGES: tuple[str, ...] = ("dashboard", "connections", "rules", "events")
STATUSES: tuple[str, ...] = ("active", "revoked")
PAYLOAD_SCOPE = "events.payload:read"

TTL_MIN, TTL_MAX, TTL_DEFAULT = 300, 3600, 1800
LAUNCH_TTL_MIN, LAUNCH_TTL_MAX, LAUNCH_TTL_DEFAULT = 15, 60, 30

# Pages each session type may launch on (behavior §5.3).
PAGES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "workspace": LAUNCH_PAGES,
    "resource": ("dashboard", "rules", "events"),
    "dashboard": ("dashboard",),
}


class SessionCreate(RequestModel):
    """createSession body; cross-field rules live in services/sessions.py."""

    workspace_id: Uuid
    role: Role = "member"
    session_type: SessionType = "workspace"
    external_user_id: Annotated[str, StringConstraints(max_length=255)] | None = None
    ttl_seconds: Annotated[JsonInt, Field(ge=TTL_MIN, le=TTL_MAX)] = TTL_DEFAULT
    launch_ttl_seconds: Annotated[JsonInt, Field(ge=LAUNCH_TTL_MIN, le=LAUNCH_TTL_MAX)] = (
        LAUNCH_TTL_DEFAULT)
    launch_page: LaunchPage | None = None
    launch_path: str | None = None  # legacy field (before launch_page), see docs/behaviour.md
    resource: NonEmptyStr | None = None
    resource_id: NonEmptyStr | None = None
    allowed_origins: Annotated[list[str], Field(max_length=10)] | None = None
    scopes: Annotated[list[Scope], Field(max_length=20)] | None = None


def _optional(body: dict[str, Any], row: Row, *keys: str) -> None:
    for key in keys:
        if row.get(key) is not None:
            body[key] = row[key]


def refreshed(row: Row, access_token: str, expires_in: int) -> dict[str, Any]:
    """SessionRefreshed (§12.11.2)."""
    body: dict[str, Any] = {
        "session_id": row["session_id"],
        "access_token": access_token,
        "expires_in": expires_in,
        "expires_at": row["expires_at"],
        "workspace_id": row["workspace_id"],
        "role": row["role"],
        "session_type": row["session_type"],
    }
    _optional(body, row, "resource", "resource_id")
    return body


def created(row: Row, access_token: str, expires_in: int, launch_url: str) -> dict[str, Any]:
    """SessionCreated (§12.11.1): SessionRefreshed plus the launch fields."""
    body = refreshed(row, access_token, expires_in)
    body["launch_token"] = row["launch_token"]
    body["launch_expires_at"] = row["launch_expires_at"]
    body["launch_url"] = launch_url
    return body


def record(row: Row, now: str) -> dict[str, Any]:
    """SessionRecord (§12.11.3); `now` is the emulator time used for `is_expired`."""
    body: dict[str, Any] = {
        "session_id": row["session_id"],
        "workspace_id": row["workspace_id"],
        "role": row["role"],
        "session_type": row["session_type"],
        "status": row["status"],
        "is_expired": row["expires_at"] <= now,
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
    }
    _optional(body, row, "external_user_id", "resource", "resource_id")
    return body


def scopes_of(row: Row) -> list[str]:
    value = decode_json(row.get("scopes"))
    return list(value) if isinstance(value, list) else []


def origins_of(row: Row) -> list[str]:
    value = decode_json(row.get("allowed_origins"))
    return list(value) if isinstance(value, list) else []
