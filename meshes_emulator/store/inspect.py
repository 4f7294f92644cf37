"""Read-only queries for the test toolkit: explain, timelines and the rule_events listing."""

from __future__ import annotations

from meshes_emulator.store.db import Row, Store, decode_json, where_equal

RULE_EVENT_FILTERS = {
    "workspace": "workspace_id",
    "event": "event_id",
    "event_name": "event",
    "rule": "rule_id",
    "connection": "connection_id",
    "integration_type": "integration_type",
    "status": "status",
}


def workspace_rules(store: Store, workspace_id: str) -> list[Row]:
    """Every rule of a workspace, oldest first (metadata decoded)."""
    rows = store.all("SELECT * FROM rules WHERE workspace_id = ? ORDER BY rowid", [workspace_id])
    for row in rows:
        row["metadata"] = decode_json(row["metadata"])
    return rows


def connections_by_id(store: Store, ids: list[str]) -> dict[str, Row]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = store.all(
        f"SELECT id, name, type, active, inactive_reason FROM connections WHERE id IN ({marks})", ids
    )
    return {row["id"]: row for row in rows}


def attempts_of_event(store: Store, event_id: str) -> list[Row]:
    """Every attempt of an event (finished or not), oldest first."""
    return store.all(
        "SELECT id, rule_event_id, rule_id, attempt_number, trigger, started_at, completed_at, "
        "duration_ms, outcome_code, http_status, message FROM attempts WHERE event_id = ? "
        "ORDER BY rowid",
        [event_id],
    )


def list_rule_events(store: Store, filters: dict[str, str], limit: int) -> list[Row]:
    """rule_events oldest first, exact-match filters (API names -> columns)."""
    where, params = where_equal({RULE_EVENT_FILTERS[name]: value for name, value in filters.items()})
    return store.all(f"SELECT * FROM rule_events WHERE {where} ORDER BY rowid LIMIT ?",
                     [*params, limit])
