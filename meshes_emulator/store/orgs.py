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


def list_orgs_with_keys(store: Store) -> list[Row]:
    return store.all(
        "SELECT o.id AS org_id, o.name, k.access_key, k.secret_key FROM orgs o "
        "LEFT JOIN machine_keys k ON k.org_id = o.id ORDER BY o.rowid, k.rowid"
    )


def get_meta(store: Store, key: str) -> str | None:
    row = store.one("SELECT value FROM meta WHERE key = ?", [key])
    return None if row is None else row["value"]


def set_meta(store: Store, key: str, value: str) -> None:
    store.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
