"""Connections, their field-catalog rows and default mappings: the only SQL of that area.

`connections.metadata` holds the full (unmasked) normalized metadata as JSON; `action_data` is
NULL unless a test replaced the generated live data. Rows come back with JSON columns decoded.
"""

from __future__ import annotations

from typing import Any

from meshes_emulator.paging import PageRequest
from meshes_emulator.store.db import Row, Store, decode_json, encode_json
from meshes_emulator.store.paging import keyset_clause
from meshes_emulator.store.rules import forget_rules

_JSON_COLUMNS = ("metadata", "action_data", "schema")


def _decode(row: Row | None) -> Row | None:
    if row is None:
        return None
    for column in _JSON_COLUMNS:
        if isinstance(row.get(column), str):
            row[column] = decode_json(row[column])
    return row


def _encode(row: Row) -> Row:
    return {k: (encode_json(v) if k in _JSON_COLUMNS else v) for k, v in row.items()}


# -- connections -----------------------------------------------------------------------------


def insert_connection(store: Store, row: Row) -> None:
    store.insert("connections", _encode(row))


def get_connection(store: Store, org_id: str, connection_id: str) -> Row | None:
    return _decode(
        store.one("SELECT * FROM connections WHERE id = ? AND org_id = ?", [connection_id, org_id])
    )


def get_connection_any_org(store: Store, connection_id: str) -> Row | None:
    return _decode(store.one("SELECT * FROM connections WHERE id = ?", [connection_id]))


def find_by_name(store: Store, workspace_id: str, name: str) -> Row | None:
    return _decode(
        store.one(
            "SELECT * FROM connections WHERE workspace_id = ? AND name = ? COLLATE NOCASE",
            [workspace_id, name],
        )
    )


def list_page(
    store: Store, org_id: str, req: PageRequest, workspace_id: str | None = None
) -> list[Row]:
    """Newest first; the whole organization, or one workspace."""
    clause, params = keyset_clause(req)
    where, args = "org_id = ?", [org_id]
    if workspace_id is not None:
        where, args = "org_id = ? AND workspace_id = ?", [org_id, workspace_id]
    rows = store.all(
        f"SELECT rowid AS _rowid, * FROM connections WHERE {where}{clause} "
        "ORDER BY rowid DESC LIMIT ?",
        [*args, *params, req.limit + 1],
    )
    return [r for r in (_decode(row) for row in rows) if r is not None]


def list_all(store: Store) -> list[Row]:
    rows = store.all("SELECT * FROM connections ORDER BY rowid")
    return [r for r in (_decode(row) for row in rows) if r is not None]


def update_connection(store: Store, connection_id: str, changes: dict[str, Any]) -> None:
    encoded = _encode(changes)
    sets = ", ".join(f"{column} = ?" for column in encoded)
    store.execute(
        f"UPDATE connections SET {sets} WHERE id = ?", [*encoded.values(), connection_id]
    )


def delete_connection(store: Store, connection_id: str) -> None:
    """Delete the connection; its field catalog and mapping go with it (ON DELETE CASCADE)."""
    store.execute("DELETE FROM connections WHERE id = ?", [connection_id])
    forget_rules(store)  # its rules went with it


def count_rules(store: Store, connection_id: str, *, active_only: bool = False) -> int:
    """How many rules use the connection (only the active ones with `active_only`)."""
    sql = "SELECT COUNT(*) AS n FROM rules WHERE connection_id = ?"
    row = store.one(sql + (" AND active = 1" if active_only else ""), [connection_id])
    return int(row["n"]) if row else 0


def delete_rules(store: Store, connection_id: str) -> int:
    deleted = store.execute("DELETE FROM rules WHERE connection_id = ?", [connection_id])
    forget_rules(store)
    return deleted


# -- field catalogs --------------------------------------------------------------------------


def get_field_catalog(store: Store, connection_id: str) -> Row | None:
    return store.one("SELECT * FROM field_catalogs WHERE connection_id = ?", [connection_id])


def insert_field_catalog(store: Store, row: Row) -> None:
    store.insert("field_catalogs", row)


def update_field_catalog(store: Store, connection_id: str, changes: dict[str, Any]) -> None:
    sets = ", ".join(f"{column} = ?" for column in changes)
    store.execute(
        f"UPDATE field_catalogs SET {sets} WHERE connection_id = ?",
        [*changes.values(), connection_id],
    )


# -- default mappings ------------------------------------------------------------------------


def get_mapping(store: Store, connection_id: str) -> Row | None:
    return _decode(store.one("SELECT * FROM mappings WHERE connection_id = ?", [connection_id]))


def write_mapping(store: Store, row: Row, over_version: int | None) -> bool:
    """Store `row` as the connection's default mapping, only over what the writer read: with
    `over_version` None (nothing stored), an INSERT that an existing row turns into a no-op;
    else an UPDATE of the row still at `over_version`. False when another write got there first
    (the check and the write are one statement: no update can be lost)."""
    encoded = _encode(row)
    if over_version is None:
        columns = tuple(encoded)
        sql = store.insert_sql("mappings", columns) + " ON CONFLICT (connection_id) DO NOTHING"
        return store.execute(sql, [encoded[column] for column in columns]) == 1
    changes = {column: value for column, value in encoded.items() if column != "connection_id"}
    sets = ", ".join(f"{column} = ?" for column in changes)
    sql = f"UPDATE mappings SET {sets} WHERE connection_id = ? AND version = ?"
    return store.execute(sql, [*changes.values(), row["connection_id"], over_version]) == 1
