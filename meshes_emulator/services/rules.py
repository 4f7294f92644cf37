"""Rules: create, read, list, delete (reference §9).

Create checks, in order: the workspace exists in the caller's organization (404), the connection
exists there (404) and belongs to that workspace (400, `connection`), `metadata.action` is an
action of the connection's integration (an inferred check: a warning, 400 in strict mode), and
no identical rule exists (409). The event name and resource are added to the workspace's catalogs.
"""

from __future__ import annotations

import re
from typing import Any

from meshes_emulator import catalog
from meshes_emulator.clock import isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.errors import ApiError, BadRequest, Conflict, ValidationFailed, not_found
from meshes_emulator.leniency import Check
from meshes_emulator.paging import PageRequest
from meshes_emulator.schemas.common import UUID_PATTERN, lower_id, validate
from meshes_emulator.schemas.rules import RuleCreate
from meshes_emulator.services import workspaces
from meshes_emulator.store import connections as connection_store
from meshes_emulator.store import rules as store
from meshes_emulator.store.db import Row, encode_json

FILTERS = ("event", "resource", "resource_id")
# Active rules one event name may have in a workspace (the emulator's limit, docs/behaviour.md):
# an event fans out to at most this many rule_events, so a bulk of 100 events writes at most
# 10,000 in its one transaction (10k rules on one name blocked the event loop 29 s per bulk).
MAX_RULES_PER_EVENT = 100


def create(
    emulator: Emulator, org_id: str, created_by: str, body: RuleCreate, rule_id: str | None = None
) -> Row:
    with emulator.store.transaction():
        workspaces.get(emulator, org_id, body.workspace)
        connection = store.get_connection(emulator.store, org_id, body.connection)
        if connection is None:
            raise not_found("Connection")
        if connection["workspace_id"] != body.workspace:
            raise ValidationFailed(
                [{"param": "connection", "msg": "connection does not belong to the workspace"}]
            )
        metadata = body.metadata.model_dump()
        emulator.leniency.check(Check.RULE_ACTION, action_problems(connection["type"], metadata))
        now = isoformat(emulator.clock.now())
        row: Row = {
            "id": rule_id or emulator.ids.uuid(),
            "org_id": org_id,
            "workspace_id": body.workspace,
            "connection_id": body.connection,
            "type": connection["type"],
            "event": body.event,
            "resource": body.resource,
            "resource_id": body.resource_id,
            "metadata": encode_json(metadata),
            "active": int(body.active),
            "hidden": int(body.hidden),
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
        if store.find_duplicate(emulator.store, row) is not None:
            raise Conflict(
                "Rule already exists", detail="An identical rule exists for this connection and event"
            )
        active = store.count_active(emulator.store, body.workspace, body.event)
        if body.active and active >= MAX_RULES_PER_EVENT:
            raise ValidationFailed([{"param": "event", "msg": (
                f"the workspace has {MAX_RULES_PER_EVENT} active rules for '{body.event}' "
                "already (the emulator's limit per event name)")}])
        store.insert_rule(emulator.store, row)
        register_catalogs(emulator, body.workspace, body.event, body.resource, created_by)
        return {**row, "metadata": metadata}


def action_problems(integration_type: str, metadata: dict[str, Any]) -> list[dict[str, str]]:
    """`metadata.action` outside the integration's catalog (an inferred check, leniency.py)."""
    actions = catalog.action_keys(integration_type)
    if metadata["action"] in actions:
        return []
    msg = f"'{metadata['action']}' is not an action of {integration_type} (one of: {', '.join(actions)})"
    return [{"param": "metadata.action", "msg": msg}]


def register_catalogs(
    emulator: Emulator, workspace_id: str, event: str, resource: str | None, created_by: str
) -> None:
    """Add the event type and resource to the workspace catalogs (no-op when known)."""
    for kind, key in (("event_type", event), ("resource", resource or "global")):
        if not store.catalog_entry_exists(emulator.store, workspace_id, kind, key):
            workspaces.register_catalog_entry(emulator, workspace_id, kind, key, created_by=created_by)


def get(emulator: Emulator, org_id: str, rule_id: str) -> Row:
    row = store.get_rule(emulator.store, org_id, rule_id)
    if row is None:
        raise not_found("Rule")
    return row


def list_page(
    emulator: Emulator,
    org_id: str,
    req: PageRequest,
    filters: dict[str, str],
    workspace_id: str | None = None,
) -> list[Row]:
    if workspace_id is not None:
        workspaces.get(emulator, org_id, workspace_id)
    return store.list_page(emulator.store, org_id, req, workspace_id=workspace_id, filters=filters)


def delete(emulator: Emulator, org_id: str, rule_id: str) -> Row:
    with emulator.store.transaction():
        row = get(emulator, org_id, rule_id)
        store.delete_rule(emulator.store, rule_id)
        return row


def filters_from(query: Any) -> dict[str, str]:
    """The exact-match filters present in a query string."""
    return {name: query[name] for name in FILTERS if query.get(name)}


# -- seed files ------------------------------------------------------------------------------


def load_seed_rules(
    emulator: Emulator, org_id: str, workspace: Row, items: list[Any], refs: dict[str, str]
) -> None:
    """The `rules:` section of a workspace in a seed file (docs/fixtures.md)."""
    for index, item in enumerate(items):
        where = f"workspace '{workspace['name']}' rules[{index}]"
        try:
            rule_id = _load_seed_rule(emulator, org_id, workspace, item, refs, where)
        except ApiError as exc:
            detail = exc.detail or exc.message
            if exc.data:
                detail = "; ".join(f"{d['param']}: {d['msg']}" for d in exc.data)
            raise BadRequest(detail=f"{where}: {detail}") from None
        if isinstance(item, dict) and item.get("ref"):
            refs[f"rule:{item['ref']}"] = rule_id


def _load_seed_rule(
    emulator: Emulator, org_id: str, workspace: Row, item: Any, refs: dict[str, str], where: str
) -> str:
    if not isinstance(item, dict):
        raise BadRequest(detail="must be a mapping")
    connection = _seed_connection(emulator, workspace, item.get("connection"), refs)
    data = {k: v for k, v in item.items() if k not in ("ref", "id", "created_by")}
    body = validate(RuleCreate, {**data, "workspace": workspace["id"], "connection": connection})
    rule_id = lower_id(item.get("id"))
    if rule_id is not None and (not isinstance(rule_id, str) or not re.fullmatch(UUID_PATTERN, rule_id)):
        raise BadRequest(detail="id: must be a UUID")
    if rule_id is not None and store.get_rule_any_org(emulator.store, rule_id) is not None:
        return str(rule_id)
    try:
        row = create(emulator, org_id, str(item.get("created_by") or "fixture"), body, rule_id)
    except Conflict:  # the same rule is already there (a file loaded twice adds nothing)
        existing = store.find_duplicate(emulator.store, _row_for_duplicate(body))
        assert existing is not None
        return str(existing["id"])
    return str(row["id"])


def _seed_connection(emulator: Emulator, workspace: Row, name: Any, refs: dict[str, str]) -> str:
    """A seed rule's `connection`: a name or ref from this file, a connection of the workspace
    by name, or an id; an unknown name is named in the error."""
    if not isinstance(name, str) or not name:
        raise BadRequest(detail="connection: name, ref or id of a connection is required")
    found = refs.get(f"connection:{name}")
    if found is None and not re.fullmatch(UUID_PATTERN, name):
        row = connection_store.find_by_name(emulator.store, workspace["id"], name)
        if row is None:
            known = sorted({k.split(":", 1)[1] for k in refs if k.startswith("connection:")})
            listed = f" (this file's: {', '.join(known)})" if known else ""
            raise BadRequest(detail=f"connection: no connection named {name!r} in this file or "
                                    f"in workspace '{workspace['name']}'{listed}")
        found = str(row["id"])
    return found or name


def _row_for_duplicate(body: RuleCreate) -> Row:
    return {
        "workspace_id": body.workspace,
        "connection_id": body.connection,
        "event": body.event,
        "resource": body.resource,
        "resource_id": body.resource_id,
        "metadata": encode_json(body.metadata.model_dump()),
    }

