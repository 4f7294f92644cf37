"""A small populated world for the reliability suites, and the route table to attack.

`build(server)` creates, in the default organization: a simulated HubSpot connection, a rule, an
event delivered once (so an attempt exists) and, when sessions are built, an embed session.
`operations()` lists every public operation (method, path, accepted credentials) from routes.py.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import httpx

from meshes_emulator.routes import public_routes, route_auth
from meshes_emulator.store.schema import TABLES_IN_DELETE_ORDER
from pytest_meshes import MeshesServer
from tests.helpers import emulator_of

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
PARAM_RE = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in routes.py, relative to /api/v1
    auth: frozenset[str]

    @property
    def params(self) -> list[str]:
        return PARAM_RE.findall(self.path)

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PUT", "DELETE")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations() -> list[Operation]:
    """Every public operation of the route table (OPTIONS preflights left out)."""
    found = []
    for route in public_routes():
        for method in sorted(getattr(route, "methods", None) or ()):
            if method in ("HEAD", "OPTIONS"):
                continue
            path = route.path  # type: ignore[attr-defined]
            found.append(Operation(method, path, route_auth[(method, path)]))
    return found


def fill(path: str, ids: dict[str, str], **overrides: str) -> str:
    """The path with each {param} replaced by the world's id (or an override)."""
    return PARAM_RE.sub(lambda m: overrides.get(m.group(1), ids.get(m.group(1), UNKNOWN_ID)), path)


def build(server: MeshesServer, api: httpx.Client) -> dict[str, str]:
    """Create the world; returns ids keyed by path parameter name."""
    workspace = server.workspace_id or ""
    ids = {"workspace_id": workspace}
    created = api.post("/connections", json={
        "workspace": workspace, "type": "hubspot", "name": "crm",
        "metadata": {"access_token": "hs-world-token", "portal_id": "1"}})
    if created.status_code == 201:
        ids["connection_id"] = created.json()["connection"]["id"]
        rule = api.post("/rules", json={
            "workspace": workspace, "connection": ids["connection_id"], "event": "world.made",
            "metadata": {"action": "add_to_list", "id": "42"}})
        if rule.status_code == 201:
            ids["rule_id"] = rule.json()["rule"]["id"]
    with server.ingest_client() as ingest:
        event = ingest.post("/events", json={"event": "world.made",
                                             "payload": {"email": "ada@example.com"}})
    if event.status_code == 201:
        ids["event_id"] = event.json()["event"]["id"]
        server.admin("POST", "/settle")
        if "rule_id" in ids:
            attempts = api.get(f"/events/{ids['event_id']}/rules/{ids['rule_id']}/attempts")
            if attempts.status_code == 200 and attempts.json()["records"]:
                ids["attempt_id"] = attempts.json()["records"][0]["id"]
    session = api.post("/sessions", json={"workspace_id": workspace})
    if session.status_code == 200:
        ids["sessionId"] = session.json()["session_id"]
    return ids


def digest(server: MeshesServer) -> str:
    """A fingerprint of every row of every table (the database state, for 'nothing written')."""
    store = emulator_of(server).store
    hasher = hashlib.sha256()
    for table in TABLES_IN_DELETE_ORDER:
        rows = store.all(f"SELECT * FROM {table} ORDER BY rowid")
        hasher.update(repr((table, rows)).encode())
    return hasher.hexdigest()


def table_names(server: MeshesServer) -> set[str]:
    store = emulator_of(server).store
    return {r["name"] for r in store.all("SELECT name FROM sqlite_master WHERE type = 'table'")}


def error_shape_problem(response: httpx.Response) -> str | None:
    """Why a 4xx/5xx response breaks the Meshes error shape (None when it is fine)."""
    if "json" not in response.headers.get("content-type", ""):
        return f"content-type {response.headers.get('content-type')!r}"
    try:
        body: Any = response.json()
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return "no string 'message'"
    error = body.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("name"), str):
        return "no error.name"
    return None
