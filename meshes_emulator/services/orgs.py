"""Organizations, machine keys and the bootstrap state of a fresh database."""

from __future__ import annotations

import re
from typing import Any

import jwt

from meshes_emulator import defaults
from meshes_emulator.clock import isoformat, wall_clock
from meshes_emulator.context import Emulator
from meshes_emulator.errors import NotFound
from meshes_emulator.services import workspaces
from meshes_emulator.store import orgs as org_store
from meshes_emulator.store import workspaces as workspace_store

ORG_ID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
ACCESS_KEY_PATTERN = re.compile(r"^mk_[A-Za-z0-9_-]{22,}$")
SECRET_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43,}$")


class CredentialsError(ValueError):
    """Configured credentials that cannot apply to this database; `field` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


SHAPE_RULES = {
    "org_id": (ORG_ID_PATTERN, "must be a version 1-5 UUID such as " + defaults.DEFAULT_ORG_ID),
    "access_key": (ACCESS_KEY_PATTERN, "must be 'mk_' and at least 22 more of A-Z a-z 0-9 _ -"),
    "secret_key": (SECRET_KEY_PATTERN, "must be at least 43 characters of A-Z a-z 0-9 _ -"),
}


def credential_problem(field: str, value: str) -> str | None:
    """What is wrong with one credential's shape (the official clients' rule), or None."""
    pattern, rule = SHAPE_RULES[field]
    return None if pattern.match(value) else rule


def check_credential_shapes(org_id: str, access_key: str, secret_key: str) -> None:
    """Refuse credentials the official Node client would refuse (reference §2.2)."""
    values = {"org_id": org_id, "access_key": access_key, "secret_key": secret_key}
    for field, value in values.items():
        problem = credential_problem(field, value)
        if problem is not None:
            raise CredentialsError(field, problem)


def bootstrap(emulator: Emulator) -> None:
    """Make the configured credentials exist and be the ones in effect (one transaction).

    The organization is `settings.org_id` or the default one; it is created when absent (with
    the default workspace for the default organization, a generated one otherwise). The key is
    `settings.access_key`/`secret_key`, added to that organization when new, or else the
    organization's first key (the default key for the default organization, generated when the
    organization has none). Conflicts raise `CredentialsError` before anything is written.
    """
    settings = emulator.settings
    org_id = settings.org_id or defaults.DEFAULT_ORG_ID
    if (settings.access_key is None) != (settings.secret_key is None):
        missing = "secret_key" if settings.secret_key is None else "access_key"
        raise CredentialsError(missing, "is needed too: the access key and the secret key "
                                        "come as a pair")
    check_credential_shapes(org_id, settings.access_key or defaults.DEFAULT_ACCESS_KEY,
                            settings.secret_key or defaults.DEFAULT_SECRET_KEY)
    store = emulator.store
    now = isoformat(emulator.clock.now())
    with store.transaction():
        if org_store.get_org(store, org_id) is None:
            _create_org(emulator, org_id, now)
        access_key = _key_in_effect(emulator, org_id, now)
        if org_store.get_meta(store, "bootstrapped") is None:
            org_store.set_meta(store, "bootstrapped", now)
        org_store.set_meta(store, "default_org_id", org_id)
        org_store.set_meta(store, "default_access_key", access_key)


def _create_org(emulator: Emulator, org_id: str, now: str) -> None:
    """A new organization with one workspace (the documented one when still free)."""
    store = emulator.store
    org_store.insert_org(store, org_id, defaults.DEFAULT_ORG_NAME if org_id ==
                         defaults.DEFAULT_ORG_ID else f"Organization {org_id[:8]}", now)
    free = workspace_store.get_workspace_any_org(store, defaults.DEFAULT_WORKSPACE_ID) is None
    if org_id == defaults.DEFAULT_ORG_ID and free:
        workspaces.insert(emulator, org_id, defaults.DEFAULT_WORKSPACE_NAME, None,
                          workspace_id=defaults.DEFAULT_WORKSPACE_ID,
                          public_key=defaults.DEFAULT_PUBLISHABLE_KEY)
    else:
        workspaces.insert(emulator, org_id, defaults.DEFAULT_WORKSPACE_NAME, None)


def _key_in_effect(emulator: Emulator, org_id: str, now: str) -> str:
    """The configured key (checked, added when new) or the organization's own; its access key."""
    settings, store = emulator.settings, emulator.store
    if settings.access_key is not None and settings.secret_key is not None:
        _check_configured_key(emulator, org_id, settings.access_key, settings.secret_key)
        if org_store.get_machine_key(store, settings.access_key) is None:
            org_store.insert_machine_key(store, settings.access_key, settings.secret_key, org_id,
                                         "configured", now)
        return settings.access_key
    default = org_store.get_machine_key(store, defaults.DEFAULT_ACCESS_KEY)
    if org_id == defaults.DEFAULT_ORG_ID and (default is None or default["org_id"] == org_id):
        if default is None:
            org_store.insert_machine_key(store, defaults.DEFAULT_ACCESS_KEY,
                                         defaults.DEFAULT_SECRET_KEY, org_id, "default", now)
        return defaults.DEFAULT_ACCESS_KEY
    first = org_store.first_machine_key(store, org_id)
    if first is not None:
        return str(first["access_key"])
    access_key = emulator.ids.access_key()
    org_store.insert_machine_key(store, access_key, emulator.ids.secret_key(), org_id, "default",
                                 now)
    return access_key


def _check_configured_key(emulator: Emulator, org_id: str, access_key: str,
                          secret_key: str) -> None:
    """A configured key already stored must be in this organization, with this secret."""
    existing = org_store.get_machine_key(emulator.store, access_key)
    if existing is None:
        return
    if existing["org_id"] != org_id:
        raise CredentialsError("access_key", f"{access_key} belongs to organization "
                               f"{existing['org_id']} in this database, not {org_id}: use that "
                               "organization id, or another access key")
    if existing["secret_key"] != secret_key:
        raise CredentialsError("secret_key", f"differs from the secret stored for {access_key} "
                               "in this database: use the stored secret, another access key, "
                               "or another database")


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


def default_access_key(emulator: Emulator) -> str:
    return org_store.get_meta(emulator.store, "default_access_key") or defaults.DEFAULT_ACCESS_KEY


def credentials(emulator: Emulator) -> list[dict[str, Any]]:
    """Every organization with its machine keys and workspaces (for banners and the admin API).

    The credentials in effect come first: their organization, and in it their key.
    """
    result: dict[str, dict[str, Any]] = {}
    in_effect = default_org_id(emulator)
    key_in_effect = default_access_key(emulator)
    for row in org_store.list_orgs_with_keys(emulator.store):
        entry = result.setdefault(row["org_id"], {"org_id": row["org_id"], "name": row["name"],
                                                  "machine_keys": [], "workspaces": []})
        if row["access_key"]:
            entry["machine_keys"].append({"access_key": row["access_key"],
                                          "secret_key": row["secret_key"]})
    for org_id, entry in result.items():
        entry["workspaces"] = [workspaces.with_key(emulator, ws)
                               for ws in workspaces.list_all(emulator, org_id)]
        entry["machine_keys"].sort(key=lambda key: key["access_key"] != key_in_effect)
    return sorted(result.values(), key=lambda entry: entry["org_id"] != in_effect)


def mint_token(emulator: Emulator, org_id: str | None = None, lifetime: int = 30) -> str:
    """A machine JWT for an organization's first key, minted as the official clients do."""
    org_id = org_id or default_org_id(emulator)
    key = org_store.first_machine_key(emulator.store, org_id)
    if key is None:
        raise NotFound("Organization not found")
    now = int(wall_clock())
    claims = {"iss": f"urn:meshes:m2m:{key['access_key']}", "aud": "meshes-api", "org": org_id,
              "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key["secret_key"], algorithm="HS256",
                      headers={"kid": key["access_key"]})
