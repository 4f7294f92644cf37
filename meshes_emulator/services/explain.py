"""Why an event went (or did not go) to each rule of its workspace, and what happened next.

`explain(emulator, event_id)` lists every rule of the event's workspace, oldest first, with the
reason from engine/matching.py (`matched`, `rule_inactive`, `event_name_differs`,
`resource_differs`, `resource_id_differs`, `connection_inactive`), two reasons only history can
give (`rule_created_later`: the rule matches now but did not exist at ingest; `rule_deleted`: the
event was routed to a rule deleted since), and for every routed rule its delivery: status,
attempts with outcome and time, and the next attempt's due time. `timeline` is the same as text
lines (what `assert_delivered` prints when it fails).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from meshes_emulator.context import Emulator
from meshes_emulator.engine import matching
from meshes_emulator.errors import not_found
from meshes_emulator.store import events as event_store
from meshes_emulator.store import inspect
from meshes_emulator.store.db import Row, decode_json


def _connection(row: Row | None, connection_id: str) -> dict[str, Any]:
    if row is None:
        return {"id": connection_id, "name": None, "type": None, "active": False,
                "inactive_reason": "connection_missing"}
    return {"id": row["id"], "name": row["name"], "type": row["type"],
            "active": bool(row["active"]), "inactive_reason": row["inactive_reason"]}


def _delivery(rule_event: Row | None, attempts: list[Row]) -> dict[str, Any] | None:
    if rule_event is None:
        return None
    return {
        "rule_event_id": rule_event["id"],
        "status": rule_event["status"],
        "attempt_count": rule_event["attempt_count"],
        "last_error": rule_event["last_error"],
        "started_at": rule_event["started_at"],
        "completed_at": rule_event["completed_at"],
        "next_attempt_at": rule_event["due_at"],
        "attempts": [
            {k: a[k] for k in ("id", "attempt_number", "trigger", "started_at", "completed_at",
                               "outcome_code", "http_status", "message")}
            for a in attempts
        ],
    }


def explain(emulator: Emulator, event_id: str) -> dict[str, Any]:
    db = emulator.store
    event = event_store.get_event_any_org(db, event_id)
    if event is None:
        raise not_found("Event")
    rules = inspect.workspace_rules(db, event["workspace_id"])
    rule_events = {row["rule_id"]: row for row in event_store.rule_events_of(db, event_id)}
    attempts: dict[str, list[Row]] = defaultdict(list)
    for attempt in inspect.attempts_of_event(db, event_id):
        attempts[attempt["rule_event_id"]].append(attempt)
    ids = sorted({r["connection_id"] for r in rules} | {r["connection_id"] for r in rule_events.values()})
    connections = inspect.connections_by_id(db, ids)
    view = {**event, "workspace": event["workspace_id"]}
    entries = []
    for rule in rules:
        connection = connections.get(rule["connection_id"])
        why = matching.explain({**rule, "workspace": rule["workspace_id"]}, view, connection)
        routed = rule_events.pop(rule["id"], None)
        reason, detail = why.reason, why.detail
        if why.matched and routed is None:  # rules cannot be edited: it did not exist yet
            reason = "rule_created_later"
            detail = f"the rule matches, but was created (at {rule['created_at']}) after the event"
        entries.append({
            "rule": rule["id"], "event": rule["event"], "resource": rule["resource"],
            "resource_id": rule["resource_id"], "active": bool(rule["active"]),
            "integration_type": rule["type"], "action": (rule["metadata"] or {}).get("action"),
            "connection": _connection(connection, rule["connection_id"]),
            "matched": why.matched and reason != "rule_created_later", "routed": routed is not None,
            "reason": reason, "detail": detail, "will_fail": why.will_fail,
            "delivery": _delivery(routed, attempts.get(routed["id"], []) if routed else []),
        })
    for routed in rule_events.values():  # rules deleted since the event was routed to them
        metadata = decode_json(routed["rule_metadata"]) or {}
        entries.append({
            "rule": routed["rule_id"], "event": routed["event"], "resource": None,
            "resource_id": None, "active": False, "integration_type": routed["integration_type"],
            "action": metadata.get("action"),
            "connection": _connection(connections.get(routed["connection_id"]), routed["connection_id"]),
            "matched": True, "routed": True, "reason": "rule_deleted",
            "detail": "the event was routed to this rule, which has been deleted since",
            "will_fail": False, "delivery": _delivery(routed, attempts.get(routed["id"], [])),
        })
    summary = {k: event[k] for k in ("id", "event", "resource", "resource_id", "status", "total_rules",
                                     "completed_count", "failed_count", "created_at", "started_at",
                                     "completed_at")}
    summary["resource"] = summary["resource"] or matching.DEFAULT_RESOURCE
    summary["workspace"] = event["workspace_id"]
    result = {"event": summary, "rules": entries}
    result["timeline"] = timeline(result)
    return result


def timeline(explained: dict[str, Any]) -> list[str]:
    """The explanation as readable lines: one per rule, one per attempt."""
    event = explained["event"]
    lines = [f"event {event['id']} {event['event']!r} resource={event['resource']}"
             f"{'/' + event['resource_id'] if event['resource_id'] else ''}: {event['status']} "
             f"({event['completed_count']}/{event['total_rules']} completed, "
             f"{event['failed_count']} failed), created {event['created_at']}"]
    if not explained["rules"]:
        lines.append("  (the workspace has no rules)")
    for entry in explained["rules"]:
        connection = entry["connection"]
        target = f"{entry['integration_type']} {entry['action'] or ''}".rstrip()
        label = f"  rule {entry['rule']} [{target} via {connection['name'] or connection['id']}]"
        delivery = entry["delivery"]
        if delivery is None:
            lines.append(f"{label}: not routed: {entry['reason']} ({entry['detail']})")
            continue
        lines.append(f"{label}: {delivery['status']} after {delivery['attempt_count']} attempt(s)"
                     + (f" [{entry['reason']}]" if entry["reason"] != "matched" else ""))
        for attempt in delivery["attempts"]:
            status = f" HTTP {attempt['http_status']}" if attempt["http_status"] is not None else ""
            lines.append(f"    #{attempt['attempt_number']} {attempt['started_at']} "
                         f"{attempt['outcome_code'] or 'in flight'}{status}"
                         f"{' (manual)' if attempt['trigger'] == 'manual' else ''}: "
                         f"{attempt['message'] or ''}".rstrip(": "))
        if delivery["next_attempt_at"]:
            lines.append(f"    next attempt due {delivery['next_attempt_at']}")
    return lines
