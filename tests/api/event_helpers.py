"""Helpers for the rules/events/engine tests (issue 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from meshes_emulator.clock import isoformat, parse_instant
from pytest_meshes import MeshesServer
from tests.api.connection_helpers import create as create_connection

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

__all__ = [
    "UNKNOWN_ID",
    "advance",
    "create_connection",
    "create_rule",
    "deliveries",
    "emit",
    "settle",
    "webhook_connection",
]


def create_rule(
    api: httpx.Client,
    workspace: str,
    connection: str,
    event: str = "user.signup",
    action: str = "send_webhook",
    **extra: Any,
) -> dict[str, Any]:
    """Create a rule (asserting 201) and return it."""
    metadata = {"action": action, **extra.pop("metadata", {})}
    body = {"workspace": workspace, "connection": connection, "event": event, "metadata": metadata}
    response = api.post("/rules", json={**body, **extra})
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()["rule"]
    return rule


def webhook_connection(
    api: httpx.Client, workspace: str, url: str, name: str = "hook", **metadata: Any
) -> dict[str, Any]:
    return create_connection(api, workspace, "webhook", name=name, metadata={"url": url, **metadata})


def emit(client: httpx.Client, event: str = "user.signup", **fields: Any) -> dict[str, Any]:
    """POST /events (asserting 201); returns the CreatedEvent."""
    body = {"event": event, "payload": {"email": "ada@example.com", "first_name": "Ada"}, **fields}
    response = client.post("/events", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["event"]
    return created


def settle(server: MeshesServer) -> dict[str, Any]:
    """Run everything due now (waits for in-flight work)."""
    result: dict[str, Any] = server.admin("POST", "/settle")
    return result


def advance(server: MeshesServer, seconds: float) -> dict[str, Any]:
    """Move the manual clock forward and run what fell due (then settle)."""
    now = parse_instant(server.admin("GET", "/clock")["now"])
    server.admin("POST", "/clock", {"now": isoformat(now + timedelta(seconds=seconds))})
    return settle(server)


def deliveries(server: MeshesServer, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    body: dict[str, Any] = server.admin("GET", "/deliveries" + (f"?{query}" if query else ""))
    records: list[dict[str, Any]] = body["records"]
    return records
