"""Event bodies and responses (reference §10, §12.8, §12.10).

Event input is checked by hand (not pydantic) so single and bulk ingestion report the same
`{param, msg}` problems, prefixed per bulk item.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from meshes_emulator.leniency import Check, Soft
from meshes_emulator.rows import Row, decode_json
from meshes_emulator.schemas.common import UUID_PATTERN

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESOURCE_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UUID_RE = re.compile(UUID_PATTERN)
STRING_PAYLOAD_KEYS = (
    "id",
    "ip_address",
    "name",
    "first_name",
    "last_name",
    "phone",
    "resource_url",
)
MAX_EVENT_NAME = 256
MAX_RESOURCE = 128
MAX_RESOURCE_ID = 1024  # an emulator limit (no source gives one); the pattern is inferred
MAX_PAYLOAD_BYTES = 256 * 1024
DEFAULT_RESOURCE = "global"
STATUSES = ("pending", "processing", "retrying", "completed", "failed", "canceled")

Problem = dict[str, str]


@dataclass(frozen=True)
class EventIn:
    """One validated event to ingest."""

    event: str
    payload: dict[str, Any]
    resource: str
    resource_id: str | None
    workspace: str | None
    payload_json: str
    warnings: tuple[Soft, ...] = ()  # inferred problems, accepted (leniency.py)


class PayloadTooLargeProblem(ValueError):
    """The payload is over the per-event size cap (413 for single events)."""


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return len(value) == 0
    return False


def payload_problems(payload: Any, prefix: str) -> tuple[list[Problem], list[Problem]]:
    """(documented, inferred) problems with an EventPayload.

    Documented: a JSON object ("payload (object): Event data (arbitrary JSON)"). Inferred (the
    leniency policy): some non-empty value (an events-client check), an `email` that is a valid
    address and the SDKs' string typing of the known keys.
    """
    param = prefix + "payload"
    if not isinstance(payload, dict):
        return [{"param": param, "msg": "must be a JSON object"}], []
    soft: list[Problem] = []
    if all(_empty(value) for value in payload.values()):
        soft.append({"param": param, "msg": "must contain at least one non-empty value"})
    if "email" in payload:
        email = payload["email"]
        if not isinstance(email, str):
            soft.append({"param": f"{param}.email", "msg": "must be a string"})
        elif not EMAIL_RE.match(email.strip()):
            soft.append({"param": f"{param}.email", "msg": "must be a valid email address"})
    for key in STRING_PAYLOAD_KEYS:
        if key in payload and not isinstance(payload[key], str):
            soft.append({"param": f"{param}.{key}", "msg": "must be a string"})
    return [], soft


def _resource_id_problems(resource_id: Any, prefix: str) -> tuple[list[Problem], list[Problem]]:
    """(documented, inferred): a string of 1-MAX_RESOURCE_ID characters; the rules' pattern."""
    param = prefix + "resource_id"
    if not isinstance(resource_id, str) or not resource_id or len(resource_id) > MAX_RESOURCE_ID:
        msg = f"must be a non-empty string of at most {MAX_RESOURCE_ID} characters"
        return [{"param": param, "msg": msg}], []
    if RESOURCE_ID_RE.match(resource_id):
        return [], []
    return [], [{"param": param, "msg": "must match ^[A-Za-z0-9._:-]{1,64}$"}]


def parse_event(item: Any, prefix: str = "", strict: bool = False) -> EventIn | list[Problem]:
    """Validate one EventInput; returns the event or its problems.

    Inferred problems (leniency.py) are problems in `strict` mode, else the event's `warnings`.
    Raises PayloadTooLargeProblem when the payload is over MAX_PAYLOAD_BYTES.
    """
    if not isinstance(item, dict):
        return [{"param": prefix.rstrip(".") or "body", "msg": "must be a JSON object"}]
    problems: list[Problem] = []
    soft: list[Soft] = []
    name = item.get("event")
    if not isinstance(name, str) or not name.strip():
        problems.append({"param": prefix + "event", "msg": "is required (a non-empty string)"})
    elif len(name) > MAX_EVENT_NAME:
        problems.append({"param": prefix + "event", "msg": f"must be at most {MAX_EVENT_NAME} characters"})
    if "payload" not in item:
        problems.append({"param": prefix + "payload", "msg": "is required"})
    else:
        hard, found = payload_problems(item["payload"], prefix)
        problems.extend(hard)
        if found:
            soft.extend((Check.EVENT_PAYLOAD, problem) for problem in found)
    resource = item.get("resource")
    if resource is not None and (
        not isinstance(resource, str) or not resource.strip() or len(resource) > MAX_RESOURCE
    ):
        msg = f"must be a non-empty string of at most {MAX_RESOURCE} characters"
        problems.append({"param": prefix + "resource", "msg": msg})
    resource_id = item.get("resource_id")
    if resource_id is not None:
        hard, found = _resource_id_problems(resource_id, prefix)
        problems.extend(hard)
        if found:
            soft.extend((Check.EVENT_RESOURCE_ID, problem) for problem in found)
    kind = item.get("type")
    if kind is not None and kind != "event":
        problems.append({"param": prefix + "type", "msg": "must be 'event'"})
    workspace = item.get("workspace")
    if workspace is not None and (not isinstance(workspace, str) or not UUID_RE.match(workspace)):
        problems.append({"param": prefix + "workspace", "msg": "must be a UUID"})
    elif workspace is not None:
        workspace = workspace.lower()  # ids are stored lower case (see common.Uuid)
    if strict and soft:
        problems.extend(problem for _, problem in soft)
    if problems:
        return problems
    try:
        payload_json = orjson.dumps(item["payload"]).decode()
    except (TypeError, orjson.JSONEncodeError):
        return [{"param": prefix + "payload", "msg": "is nested too deeply (at most 250 levels)"}]
    if len(payload_json) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeProblem(f"payload exceeds {MAX_PAYLOAD_BYTES} bytes")
    return EventIn(
        event=str(name),
        payload=item["payload"],
        resource=resource or DEFAULT_RESOURCE,
        resource_id=resource_id,
        workspace=workspace,
        payload_json=payload_json,
        warnings=tuple(soft),
    )


def _optional(body: dict[str, Any], row: Row, *keys: str) -> None:
    for key in keys:
        if row.get(key) is not None:
            body[key] = row[key]


def created_event(row: Row) -> dict[str, Any]:
    """CreatedEvent (§12.8.3)."""
    body: dict[str, Any] = {
        "id": row["id"],
        "type": "event",
        "event": row["event"],
        "resource": row["resource"] or DEFAULT_RESOURCE,
        "workspace": row["workspace_id"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }
    _optional(body, row, "resource_id")
    return body


def event(row: Row, rule_events: list[Row] | None = None) -> dict[str, Any]:
    """Event (§12.8.2); `rule_events` only when given; no payload."""
    body: dict[str, Any] = {
        "id": row["id"],
        "type": "event",
        "workspace": row["workspace_id"],
        "event": row["event"],
        "resource": row["resource"] or DEFAULT_RESOURCE,
        "status": row["status"],
        "total_rules": row["total_rules"],
        "completed_count": row["completed_count"],
        "failed_count": row["failed_count"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }
    # _optional(body, row, "resource_id", "started_at", "completed_at"), inlined: lists call
    # this for every record
    if (resource_id := row.get("resource_id")) is not None:
        body["resource_id"] = resource_id
    if (started_at := row.get("started_at")) is not None:
        body["started_at"] = started_at
    if (completed_at := row.get("completed_at")) is not None:
        body["completed_at"] = completed_at
    if rule_events is not None:
        body["rule_events"] = [rule_event(r) for r in rule_events]
    return body


def event_with_payload(row: Row, rule_events: list[Row]) -> dict[str, Any]:
    body = event(row, rule_events)
    body["payload"] = decode_json(row["payload"])
    return body


def rule_event(row: Row) -> dict[str, Any]:
    """RuleEvent (§12.8.1)."""
    body: dict[str, Any] = {
        "id": row["id"],
        "type": "rule",
        "workspace": row["workspace_id"],
        "event": row["event"],
        "event_id": row["event_id"],
        "resource": row["resource"] or DEFAULT_RESOURCE,
        "connection": row["connection_id"],
        "rule": row["rule_id"],
        "integration_type": row["integration_type"],
        "status": row["status"],
        "attempt_count": row["attempt_count"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }
    _optional(body, row, "resource_id", "started_at", "completed_at", "last_error")
    return body


def attempt(row: Row) -> dict[str, Any]:
    """DeliveryAttempt (inferred field names, reference §10.7)."""
    return {
        "id": row["id"],
        "event_id": row["event_id"],
        "rule_id": row["rule_id"],
        "attempt_number": row["attempt_number"],
        "trigger": row["trigger"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "duration_ms": row["duration_ms"],
        "outcome_code": row["outcome_code"],
        "http_status": row["http_status"],
        "message": row["message"],
    }


def response_details(row: Row) -> dict[str, Any]:
    """AttemptResponseDetails: what the destination answered (nulls when nothing came back)."""
    response = decode_json(row["response"]) or {}
    body = response.get("body")
    headers = response.get("headers") or {}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if isinstance(body, str) and "json" in content_type:
        with contextlib.suppress(orjson.JSONDecodeError):
            body = orjson.loads(body)
    return {
        "attempt_id": row["id"],
        "http_status": response.get("http_status"),
        "provider_error_code": response.get("provider_error_code"),
        "headers": headers,
        "body": body,
    }
