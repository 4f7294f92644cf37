"""Organizations and their machine keys."""

from __future__ import annotations

from meshes_emulator.store.db import Row, Store


def insert_org(store: Store, org_id: str, name: str, created_at: str) -> None:
    store.insert("orgs", {"id": org_id, "name": name, "created_at": created_at})


def insert_machine_key(store: Store, access_key: str, secret_key: str, org_id: str,
                       name: str, created_at: str) -> None:
    store.insert("machine_keys", {"access_key": access_key, "secret_key": secret_key,
                                  "org_id": org_id, "name": name, "created_at": created_at})


def get_org(store: Store, org_id: str) -> Row | None:
    return store.one("SELECT * FROM orgs WHERE id = ?", [org_id])


def get_machine_key(store: Store, access_key: str) -> Row | None:
    return store.one("SELECT * FROM machine_keys WHERE access_key = ?", [access_key])


def first_machine_key(store: Store, org_id: str) -> Row | None:
    """The organization's first machine key (`access_key`, `secret_key`), or None."""
    return store.one("SELECT access_key, secret_key FROM machine_keys WHERE org_id = ? "
                     "ORDER BY rowid LIMIT 1", [org_id])


def get_publishable_key(store: Store, public_key: str) -> Row | None:
    """A publishable key with its workspace and organization (`public_key`, `workspace_id`,
    `org_id`, `name`), or None."""
    return store.one("SELECT public_key, workspace_id, org_id, name FROM publishable_keys "
                     "WHERE public_key = ?", [public_key])


def list_orgs_with_keys(store: Store) -> list[Row]:
    return store.all(
        "SELECT o.id AS org_id, o.name, k.access_key, k.secret_key FROM orgs o "
        "LEFT JOIN machine_keys k ON k.org_id = o.id ORDER BY o.rowid, k.rowid"
    )


def first_credentials(store: Store) -> Row | None:
    """The first organization's first machine key, first workspace and its publishable key
    (what a test uses by default), in one query."""
    return store.one(
        "SELECT o.id AS org_id, k.access_key, k.secret_key, w.id AS workspace_id, "
        "(SELECT p.public_key FROM publishable_keys p WHERE p.workspace_id = w.id) AS public_key "
        "FROM (SELECT id FROM orgs ORDER BY rowid LIMIT 1) o "
        "LEFT JOIN machine_keys k ON k.rowid = (SELECT min(rowid) FROM machine_keys WHERE org_id = o.id) "
        "LEFT JOIN workspaces w ON w.rowid = (SELECT min(rowid) FROM workspaces WHERE org_id = o.id)"
    )


def get_meta(store: Store, key: str) -> str | None:
    row = store.one("SELECT value FROM meta WHERE key = ?", [key])
    return None if row is None else row["value"]


def set_meta(store: Store, key: str, value: str) -> None:
    store.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
