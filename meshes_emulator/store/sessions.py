"""Embed sessions: the sessions table, plus the read-only look-ups that session scoping needs."""

from __future__ import annotations

from typing import Any

from meshes_emulator.paging import PageRequest
from meshes_emulator.store.db import Row, Store
from meshes_emulator.store.paging import keyset_clause


def insert(store: Store, row: Row) -> None:
    store.insert("sessions", row)


def get(store: Store, org_id: str, session_id: str) -> Row | None:
    return store.one("SELECT * FROM sessions WHERE session_id = ? AND org_id = ?",
                     [session_id, org_id])


def get_any_org(store: Store, session_id: str) -> Row | None:
    return store.one("SELECT * FROM sessions WHERE session_id = ?", [session_id])


def by_launch_token(store: Store, launch_token: str) -> Row | None:
    return store.one("SELECT * FROM sessions WHERE launch_token = ?", [launch_token])


def update(store: Store, session_id: str, changes: dict[str, Any]) -> None:
    assignments = ", ".join(f"{column} = ?" for column in changes)
    store.execute(f"UPDATE sessions SET {assignments} WHERE session_id = ?",
                  [*changes.values(), session_id])


def mark_launch_used(store: Store, session_id: str) -> bool:
    """Consume the launch token; False when it was already used (single use)."""
    changed = store.execute(
        "UPDATE sessions SET launch_used = 1 WHERE session_id = ? AND launch_used = 0",
        [session_id])
    return changed == 1


def list_page(store: Store, workspace_id: str, filters: dict[str, str],
              req: PageRequest) -> list[Row]:
    clause, params = keyset_clause(req)
    where = ["workspace_id = ?"]
    values: list[Any] = [workspace_id]
    for column in ("status", "resource", "resource_id"):
        if column in filters:
            where.append(f"{column} = ?")
            values.append(filters[column])
    return store.all(
        f"SELECT rowid AS _rowid, * FROM sessions WHERE {' AND '.join(where)}{clause} "
        "ORDER BY rowid DESC LIMIT ?",
        [*values, *params, req.limit + 1],
    )


# -- scope look-ups (read-only; the tables belong to other resources) ------------------------


def event_scope(store: Store, event_id: str) -> Row | None:
    return store.one("SELECT org_id, workspace_id, resource, resource_id FROM events WHERE id = ?",
                     [event_id])


def rule_scope(store: Store, rule_id: str) -> Row | None:
    return store.one("SELECT org_id, workspace_id, resource, resource_id FROM rules WHERE id = ?",
                     [rule_id])


def connection_scope(store: Store, connection_id: str) -> Row | None:
    return store.one("SELECT org_id, workspace_id FROM connections WHERE id = ?", [connection_id])


def workspace_org(store: Store, workspace_id: str) -> Row | None:
    return store.one("SELECT id, org_id, name FROM workspaces WHERE id = ?", [workspace_id])


# -- dashboard metrics ------------------------------------------------------------------------


def _resource_clause(resource: str | None, resource_id: str | None) -> tuple[str, list[Any]]:
    if resource is None:
        return "", []
    return " AND resource = ? AND resource_id = ?", [resource, resource_id]


def event_counts(store: Store, workspace_id: str, resource: str | None,
                 resource_id: str | None) -> dict[str, int]:
    clause, params = _resource_clause(resource, resource_id)
    rows = store.all(f"SELECT status, COUNT(*) AS n FROM events WHERE workspace_id = ?{clause} "
                     "GROUP BY status", [workspace_id, *params])
    return {row["status"]: row["n"] for row in rows}


def rule_event_counts(store: Store, workspace_id: str, resource: str | None,
                      resource_id: str | None) -> dict[str, int]:
    clause, params = _resource_clause(resource, resource_id)
    rows = store.all(
        "SELECT status, COUNT(*) AS n FROM rule_events WHERE event_id IN "
        f"(SELECT id FROM events WHERE workspace_id = ?{clause}) GROUP BY status",
        [workspace_id, *params])
    return {row["status"]: row["n"] for row in rows}


def attempt_outcomes(store: Store, workspace_id: str, resource: str | None,
                     resource_id: str | None) -> dict[str, int]:
    clause, params = _resource_clause(resource, resource_id)
    rows = store.all(
        "SELECT COALESCE(outcome_code, 'in_flight') AS code, COUNT(*) AS n FROM attempts "
        f"WHERE event_id IN (SELECT id FROM events WHERE workspace_id = ?{clause}) GROUP BY code",
        [workspace_id, *params])
    return {row["code"]: row["n"] for row in rows}


def rule_count(store: Store, workspace_id: str, resource: str | None,
               resource_id: str | None) -> int:
    clause, params = _resource_clause(resource, resource_id)
    row = store.one(f"SELECT COUNT(*) AS n FROM rules WHERE workspace_id = ? AND hidden = 0{clause}",
                    [workspace_id, *params])
    return int(row["n"]) if row else 0


def connection_count(store: Store, workspace_id: str) -> int:
    row = store.one("SELECT COUNT(*) AS n FROM connections WHERE workspace_id = ? AND hidden = 0",
                    [workspace_id])
    return int(row["n"]) if row else 0
