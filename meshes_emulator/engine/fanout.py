"""Fan-out at ingest: one rule_event per matching rule, in the event's own transaction.

Each rule_event starts `pending`, due at the event's creation time, with a snapshot of the rule's
action and metadata (a later rule deletion does not change deliveries already queued).
"""

from __future__ import annotations

from typing import Any

from meshes_emulator.engine.matching import matching_rules
from meshes_emulator.store import events as event_store
from meshes_emulator.store import rules as rule_store
from meshes_emulator.store.db import Row, Store, encode_json


def rule_view(rule: Row) -> dict[str, Any]:
    """A rule row with the API field names matching.py expects."""
    return {**rule, "workspace": rule["workspace_id"]}


def fan_out(db: Store, event: Row, new_id: Any) -> list[Row]:
    """Create the rule_events of a freshly inserted event (call inside its transaction).

    `new_id()` returns a fresh id per rule_event. Returns the inserted rows.
    """
    rows = rule_events_for(db, event, new_id)
    event_store.insert_rule_events(db, rows)
    return rows


def rule_events_for(db: Store, event: Row, new_id: Any) -> list[Row]:
    """The rule_event rows an event fans out to, not inserted yet (so the event row can be
    written once, with its `total_rules`, before them)."""
    candidates = [rule_view(r) for r in rule_store.candidate_rules(db, event["workspace_id"], event["event"])]
    view = {**event, "workspace": event["workspace_id"]}
    rows: list[Row] = []
    for rule in matching_rules(candidates, view):
        metadata = rule.get("metadata") or {}
        rows.append(
            {
                "id": new_id(),
                "event_id": event["id"],
                "rule_id": rule["id"],
                "org_id": event["org_id"],
                "workspace_id": event["workspace_id"],
                "connection_id": rule["connection_id"],
                "integration_type": rule["type"],
                "action": metadata.get("action"),
                "rule_metadata": encode_json(metadata),
                "event": event["event"],
                "resource": event["resource"],
                "resource_id": event["resource_id"],
                "status": "pending",
                "attempt_count": 0,
                "started_at": None,
                "completed_at": None,
                "last_error": None,
                "due_at": event["created_at"],
                "created_by": event["created_by"],
                "created_at": event["created_at"],
            }
        )
    return rows
