"""Which rules an event fans out to (reference §10.12 step 2, behavior §3.2). Pure functions.

A rule matches an event when: same workspace; the rule is `active`; `rule.event == event.event`
exactly; and, when the rule sets them, `resource` / `resource_id` are equal (an event without a
resource has resource `global`). `hidden` does not affect matching.

Inactive connection (reference silent): the rule still matches and gets a rule_event, whose
attempts fail at once with `auth_failed` and a `last_error` naming the connection's
`inactive_reason`, so the failure stays visible in the event's history.

Rows are plain dicts using the API field names (`workspace`, `event`, ...); `*_id` column names
(`workspace_id`) are accepted too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_RESOURCE = "global"


@dataclass(frozen=True)
class Explanation:
    """Why a rule did or did not match an event; `reason` is a stable code."""

    rule_id: str | None
    matched: bool
    reason: str
    detail: str
    will_fail: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "matched": self.matched,
            "reason": self.reason,
            "detail": self.detail,
            "will_fail": self.will_fail,
        }


def _get(row: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in row:
            return row[key]
    return None


def _workspace(row: Mapping[str, Any]) -> Any:
    return _get(row, "workspace", "workspace_id")


def _is_active(row: Mapping[str, Any]) -> bool:
    value = row.get("active", True)
    return True if value is None else bool(value)


def event_resource(event: Mapping[str, Any]) -> str:
    """The event's resource, `global` when unset."""
    return _get(event, "resource") or DEFAULT_RESOURCE


def _mismatch(rule: Mapping[str, Any], event: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first reason the rule does not match, or None."""
    if _workspace(rule) != _workspace(event):
        return "other_workspace", "the rule belongs to another workspace"
    if not _is_active(rule):
        return "rule_inactive", "the rule is inactive (active: false)"
    if rule.get("event") != event.get("event"):
        return (
            "event_name_differs",
            f"the rule listens to {rule.get('event')!r}, the event is {event.get('event')!r}",
        )
    resource = rule.get("resource")
    if resource and resource != event_resource(event):
        return (
            "resource_differs",
            f"the rule requires resource {resource!r}, the event has {event_resource(event)!r}",
        )
    resource_id = rule.get("resource_id")
    if resource_id and resource_id != event.get("resource_id"):
        return (
            "resource_id_differs",
            f"the rule requires resource_id {resource_id!r}, the event has {event.get('resource_id')!r}",
        )
    return None


def matches(rule: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """True when the rule fans the event out (the connection's state does not matter here)."""
    return _mismatch(rule, event) is None


def matching_rules(rules: Iterable[Mapping[str, Any]], event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The rules that match, in the order given."""
    return [rule for rule in rules if matches(rule, event)]


def connection_inactive_reason(connection: Mapping[str, Any] | None) -> str | None:
    """None when deliveries can go through the connection, else a short reason code."""
    if connection is None:
        return "connection_missing"
    if _is_active(connection):
        return None
    return str(connection.get("inactive_reason") or "manually_inactivated")


def inactive_connection_message(reason: str) -> str:
    """The `last_error` of an attempt refused because the connection is inactive."""
    if reason == "connection_missing":
        return "Connection not found: it was deleted after the rule was created"
    return f"Connection is inactive ({reason}); reconnect it and retry the delivery"


def explain(
    rule: Mapping[str, Any],
    event: Mapping[str, Any],
    connection: Mapping[str, Any] | None,
) -> Explanation:
    """Why `rule` did or did not match `event`, including the state of its connection."""
    rule_id = _get(rule, "id")
    mismatch = _mismatch(rule, event)
    if mismatch is not None:
        return Explanation(rule_id, False, mismatch[0], mismatch[1])
    inactive = connection_inactive_reason(connection)
    if inactive is not None:
        return Explanation(
            rule_id,
            True,
            "connection_inactive",
            "matched, but deliveries fail with auth_failed: " + inactive_connection_message(inactive),
            will_fail=True,
        )
    return Explanation(rule_id, True, "matched", "event name, resource and resource_id agree")
