"""Helpers for the embed-session tests (issue 6)."""

from __future__ import annotations

import socket
from typing import Any

import httpx

from meshes_emulator.clock import isoformat, parse_instant
from pytest_meshes import MeshesServer
from tests.contract import validating_hooks

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
START = "2026-01-01T00:00:00.000Z"


def mint(api: httpx.Client, workspace_id: str, **fields: Any) -> dict[str, Any]:
    """POST /sessions (asserting 200) and return the SessionCreated body."""
    response = api.post("/sessions", json={"workspace_id": workspace_id, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def session_client(server: MeshesServer, token: str) -> httpx.Client:
    """A contract-checked client on /api/v1 that sends the session token as a bearer."""
    return httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {token}"},
                        event_hooks=validating_hooks(), timeout=30)


def move_clock(server: MeshesServer, seconds: float) -> str:
    """Advance the fixture's manual clock; returns the new time."""
    from datetime import timedelta

    now = parse_instant(server.admin("GET", "/clock")["now"])
    target = isoformat(now + timedelta(seconds=seconds))
    server.admin("POST", "/clock", {"now": target})
    return target


def connection(api: httpx.Client, workspace_id: str, name: str = "crm") -> dict[str, Any]:
    """A simulated (no network) HubSpot connection."""
    body = {"workspace": workspace_id, "type": "hubspot", "name": name,
            "metadata": {"access_token": "hs-token", "portal_id": "1"}}
    response = api.post("/connections", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["connection"]
    return created


def rule(api: httpx.Client, workspace_id: str, connection_id: str, event: str = "user.signup",
         metadata: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A rule; the default metadata suits the HubSpot connection of `connection()`."""
    body = {"workspace": workspace_id, "connection": connection_id, "event": event,
            "metadata": metadata or {"action": "add_to_list", "id": "42"}, **extra}
    response = api.post("/rules", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["rule"]
    return created


def emit(client: httpx.Client, workspace_id: str | None, event: str = "user.signup",
         **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"event": event, "payload": {"email": "ada@example.com"}, **fields}
    if workspace_id is not None:
        body["workspace"] = workspace_id
    response = client.post("/events", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["event"]
    return created


def closed_port() -> int:
    """A local port nobody listens on: webhook deliveries to it fail with network_error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def seed_deliveries(api: httpx.Client, meshes_server: MeshesServer, ws: str) -> dict[str, Any]:
    """Two rules on user.signup: a simulated HubSpot (delivers) and a webhook that cannot connect."""
    crm = connection(api, ws, "CRM")
    rule(api, ws, crm["id"])
    hook = api.post("/connections", json={
        "workspace": ws, "type": "webhook", "name": "Orders hook",
        "metadata": {"url": f"http://127.0.0.1:{closed_port()}/hook"}})
    assert hook.status_code == 201, hook.text
    rule(api, ws, hook.json()["connection"]["id"], metadata={"action": "send_webhook"})
    created = emit(api, ws, payload={"email": "ada@example.com", "first_name": "Ada"})
    meshes_server.admin("POST", "/settle")
    return created
