"""Fan-out at ingest: one rule_event per matching rule, written in the event's transaction.

Each rule_event starts `pending`, due at the event's creation time, with a snapshot of the rule's
action and metadata (a later rule deletion does not change deliveries already queued). Rows are
built as tuples in `store.events.RULE_EVENT_COLUMNS` order (the hot path of ingest).
"""

from __future__ import annotations

from typing import Any

from meshes_emulator.engine.matching import matches
from meshes_emulator.store import rules as rule_store
from meshes_emulator.store.db import Row, Store, encode_json
from meshes_emulator.store.lru import LRU, Cache


def rule_view(rule: Row) -> dict[str, Any]:
    """A rule row with the API field names matching.py expects."""
    return {**rule, "workspace": rule["workspace_id"]}


Prepared = tuple[Row, Row | None, dict[str, Any], str | None]
# (workspace, event) -> (the cached rules list it was built from, its prepared rules)
TEMPLATES_CACHE: Cache[LRU[tuple[str, str], tuple[list[Row], list[Prepared]]]] = Cache(
    "fanout_templates", lambda: LRU(rule_store.CACHE_ENTRIES))


def _prepared(db: Store, workspace_id: str, event: str) -> list[Prepared]:
    """(rule, rule view, metadata, metadata JSON) of the candidate rules, once per rules list.

    The candidates already share the event's workspace and name and are active (SQL), so only a
    rule with a resource or resource_id filter needs `matches`; the others carry None instead
    of a view. Keyed on the identity of the cached rules list: when the rules cache is rebuilt
    (a rule changed, a rollback, a reset), the list is new and this is rebuilt too.
    """
    rules = rule_store.candidate_rules(db, workspace_id, event)
    cache = db.cached(TEMPLATES_CACHE)
    entry = cache.get((workspace_id, event))
    if entry is None or entry[0] is not rules:
        prepared: list[Prepared] = []
        for rule in rules:
            metadata = rule.get("metadata") or {}
            filtered = rule.get("resource") or rule.get("resource_id")
            view = rule_view(rule) if filtered else None
            prepared.append((rule, view, metadata, encode_json(metadata)))
        entry = cache.put((workspace_id, event), (rules, prepared))
    return entry[1]


def rule_events_for(db: Store, event: Row, new_id: Any) -> list[tuple[Any, ...]]:
    """The rule_event rows an event fans out to, not inserted yet (so the event row can be
    written once, with its `total_rules`, before them): tuples in `RULE_EVENT_COLUMNS` order,
    as `store.events.insert_rule_events` takes them (each starts `pending`, due at creation)."""
    rows: list[tuple[Any, ...]] = []
    prepared = _prepared(db, event["workspace_id"], event["event"])
    if not prepared:
        return rows
    view = {**event, "workspace": event["workspace_id"]}
    event_id, created_at = event["id"], event["created_at"]
    shared = (event["event"], event["resource"], event["resource_id"], created_at,
              event["created_by"], created_at)
    for rule, filtered, metadata, metadata_json in prepared:
        if filtered is not None and not matches(filtered, view):
            continue
        rows.append((new_id(), event_id, rule["id"], event["org_id"], event["workspace_id"],
                     rule["connection_id"], rule["type"], metadata.get("action"), metadata_json,
                     *shared))
    return rows
