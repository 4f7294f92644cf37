"""Rules, plus the read-only connection and mapping lookups the rules and engine need."""

from __future__ import annotations

from typing import Any

from meshes_emulator.paging import PageRequest
from meshes_emulator.store.db import Row, Store, decode_json
from meshes_emulator.store.lru import LRU, Cache
from meshes_emulator.store.paging import scoped_page_query


def _decode(row: Row | None) -> Row | None:
    if row is not None and isinstance(row.get("metadata"), str):
        row["metadata"] = decode_json(row["metadata"])
    return row


# Entries kept per cache (LRU): far more (workspace, event name) pairs than a test suite or the
# benchmarks use, a few MiB at most whatever names clients send (docs/reliability.md, "Limits").
CACHE_ENTRIES = 4096
# {(workspace_id, event): [active rule rows]}; forgotten on every write to the rules table
RULES_CACHE: Cache[LRU[tuple[str, str], list[Row]]] = Cache("rules", lambda: LRU(CACHE_ENTRIES))
# {(workspace_id, kind, key): True}: catalog entries known to exist (entries are never removed)
CATALOG_CACHE: Cache[LRU[tuple[str, str, str], bool]] = Cache(
    "catalog_entries", lambda: LRU(CACHE_ENTRIES))


def forget_rules(store: Store) -> None:
    """Drop the cached rules (call after any write to the rules table)."""
    store.forget(RULES_CACHE)


def insert_rule(store: Store, row: Row) -> None:
    store.insert("rules", row)
    forget_rules(store)


def get_rule(store: Store, org_id: str, rule_id: str) -> Row | None:
    return _decode(store.one("SELECT * FROM rules WHERE id = ? AND org_id = ?", [rule_id, org_id]))


def get_rule_any_org(store: Store, rule_id: str) -> Row | None:
    return _decode(store.one("SELECT * FROM rules WHERE id = ?", [rule_id]))


def delete_rule(store: Store, rule_id: str) -> None:
    store.execute("DELETE FROM rules WHERE id = ?", [rule_id])
    forget_rules(store)


def find_duplicate(store: Store, row: Row) -> Row | None:
    """An existing rule with the same connection, event, filters and metadata."""
    return store.one(
        "SELECT id FROM rules WHERE workspace_id = ? AND connection_id = ? AND event = ? "
        "AND resource IS ? AND resource_id IS ? AND metadata = ?",
        [
            row["workspace_id"],
            row["connection_id"],
            row["event"],
            row["resource"],
            row["resource_id"],
            row["metadata"],
        ],
    )


def list_page(
    store: Store,
    org_id: str,
    req: PageRequest,
    *,
    workspace_id: str | None = None,
    filters: dict[str, str] | None = None,
) -> list[Row]:
    """Rules of the org (or one workspace), newest first, exact-match filters on columns."""
    where, params = scoped_page_query(org_id, req, workspace_id, filters)
    rows = store.all(f"SELECT rowid AS _rowid, * FROM rules{where}", params)
    return [r for r in (_decode(row) for row in rows) if r is not None]


def count_active(store: Store, workspace_id: str, event: str) -> int:
    """How many active rules of the workspace listen to `event`."""
    row = store.one("SELECT count(*) AS n FROM rules WHERE workspace_id = ? AND event = ? AND active = 1",
                    [workspace_id, event])
    return int(row["n"]) if row else 0


def candidate_rules(store: Store, workspace_id: str, event: str) -> list[Row]:
    """Active rules of a workspace listening to `event` (matching finishes the filtering).

    Cached per (workspace, event) until the rules table changes (`forget_rules`), a transaction
    rolls back or the emulator resets; the rows returned are shared: do not mutate them.
    """
    cache = store.cached(RULES_CACHE)
    rules = cache.get((workspace_id, event))
    if rules is None:
        rows = store.all(
            "SELECT * FROM rules WHERE workspace_id = ? AND event = ? AND active = 1 ORDER BY rowid",
            [workspace_id, event],
        )
        rules = cache.put((workspace_id, event), [r for r in (_decode(row) for row in rows) if r is not None])
    return rules


def catalog_entry_exists(store: Store, workspace_id: str, kind: str, key: str) -> bool:
    """Whether the workspace catalog has the entry (entries are only ever added: known ones are
    remembered until a rollback or reset)."""
    known = store.cached(CATALOG_CACHE)
    if known.get((workspace_id, kind, key)):
        return True
    row = store.one(
        "SELECT 1 AS x FROM catalog_entries WHERE workspace_id = ? AND kind = ? AND key = ?",
        [workspace_id, kind, key],
    )
    if row is not None:
        known.put((workspace_id, kind, key), True)
    return row is not None


# -- connections and mappings (owned by the connections area; read here) ---------------------


def get_connection(store: Store, org_id: str, connection_id: str) -> Row | None:
    return _decode(
        store.one("SELECT * FROM connections WHERE id = ? AND org_id = ?", [connection_id, org_id])
    )


def get_connection_any_org(store: Store, connection_id: str) -> Row | None:
    return _decode(store.one("SELECT * FROM connections WHERE id = ?", [connection_id]))


def get_mapping_schema(store: Store, connection_id: str) -> Any:
    """The stored default mapping schema of a connection, or None when none was saved."""
    row = store.one("SELECT schema FROM mappings WHERE connection_id = ?", [connection_id])
    return None if row is None else decode_json(row["schema"])
