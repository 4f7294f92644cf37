"""Organizations, machine keys and the bootstrap state of a fresh database."""

from __future__ import annotations

import re
from typing import Any

import jwt

from meshes_emulator import defaults
from meshes_emulator.clock import isoformat, wall_clock
from meshes_emulator.context import Emulator
from meshes_emulator.errors import NotFound, ValidationFailed
from meshes_emulator.services import workspaces
from meshes_emulator.store import orgs as org_store

ORG_ID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
ACCESS_KEY_PATTERN = re.compile(r"^mk_[A-Za-z0-9_-]{22,}$")
SECRET_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43,}$")


def check_credential_shapes(org_id: str, access_key: str, secret_key: str) -> None:
    """Refuse credentials the official Node client would refuse (reference §2.2)."""
    problems = []
    if not ORG_ID_PATTERN.match(org_id):
        problems.append({"param": "org_id", "msg": "must be a version 1-5 UUID"})
    if not ACCESS_KEY_PATTERN.match(access_key):
        problems.append({"param": "access_key", "msg": "must match ^mk_[A-Za-z0-9_-]{22,}$"})
    if not SECRET_KEY_PATTERN.match(secret_key):
        problems.append({"param": "secret_key", "msg": "must match ^[A-Za-z0-9_-]{43,}$"})
    if problems:
        raise ValidationFailed(problems)


def bootstrap(emulator: Emulator) -> None:
    """Make sure the default organization, key and workspace exist (idempotent)."""
    settings = emulator.settings
    org_id = settings.org_id or defaults.DEFAULT_ORG_ID
    access_key = settings.access_key or defaults.DEFAULT_ACCESS_KEY
    secret_key = settings.secret_key or defaults.DEFAULT_SECRET_KEY
    check_credential_shapes(org_id, access_key, secret_key)
    store = emulator.store
    now = isoformat(emulator.clock.now())
    with store.transaction():
        if org_store.get_org(store, org_id) is None:
            org_store.insert_org(store, org_id, defaults.DEFAULT_ORG_NAME, now)
        existing = org_store.get_machine_key(store, access_key)
        if existing is None:
            org_store.insert_machine_key(store, access_key, secret_key, org_id, "default", now)
        elif existing["secret_key"] != secret_key or existing["org_id"] != org_id:
            store.execute("UPDATE machine_keys SET secret_key = ?, org_id = ? WHERE access_key = ?",
                          [secret_key, org_id, access_key])
        if org_store.get_meta(store, "bootstrapped") is None:
            if not workspaces.list_all(emulator, org_id):
                workspaces.insert(
                    emulator, org_id, defaults.DEFAULT_WORKSPACE_NAME, None,
                    workspace_id=defaults.DEFAULT_WORKSPACE_ID,
                    public_key=defaults.DEFAULT_PUBLISHABLE_KEY,
                )
            org_store.set_meta(store, "bootstrapped", now)
        org_store.set_meta(store, "default_org_id", org_id)


def mint_org(emulator: Emulator, name: str | None = None,
             workspace_name: str | None = "Default Workspace") -> dict[str, Any]:
    """A new organization with a machine key (and, by default, one workspace)."""
    store = emulator.store
    org_id = emulator.ids.uuid()
    access_key = emulator.ids.access_key()
    secret_key = emulator.ids.secret_key()
    now = isoformat(emulator.clock.now())
    with store.transaction():
        org_store.insert_org(store, org_id, name or f"Organization {org_id[:8]}", now)
        org_store.insert_machine_key(store, access_key, secret_key, org_id, "default", now)
        created = []
        if workspace_name:
            created.append(workspaces.insert(emulator, org_id, workspace_name, None))
    return {"org_id": org_id, "access_key": access_key, "secret_key": secret_key,
            "workspaces": [workspaces.with_key(emulator, ws) for ws in created]}


def default_org_id(emulator: Emulator) -> str:
    return org_store.get_meta(emulator.store, "default_org_id") or defaults.DEFAULT_ORG_ID


def credentials(emulator: Emulator) -> list[dict[str, Any]]:
    """Every organization with its machine keys and workspaces (for banners and the admin API)."""
    result: dict[str, dict[str, Any]] = {}
    for row in org_store.list_orgs_with_keys(emulator.store):
        entry = result.setdefault(row["org_id"], {"org_id": row["org_id"], "name": row["name"],
                                                  "machine_keys": [], "workspaces": []})
        if row["access_key"]:
            entry["machine_keys"].append({"access_key": row["access_key"],
                                          "secret_key": row["secret_key"]})
    for org_id, entry in result.items():
        entry["workspaces"] = [workspaces.with_key(emulator, ws)
                               for ws in workspaces.list_all(emulator, org_id)]
    return list(result.values())


def mint_token(emulator: Emulator, org_id: str | None = None, lifetime: int = 30) -> str:
    """A machine JWT for an organization's first key, minted as the official clients do."""
    org_id = org_id or default_org_id(emulator)
    key = emulator.store.one(
        "SELECT access_key, secret_key FROM machine_keys WHERE org_id = ? ORDER BY rowid LIMIT 1",
        [org_id])
    if key is None:
        raise NotFound("Organization not found")
    now = int(wall_clock())
    claims = {"iss": f"urn:meshes:m2m:{key['access_key']}", "aud": "meshes-api", "org": org_id,
              "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key["secret_key"], algorithm="HS256",
                      headers={"kid": key["access_key"]})
