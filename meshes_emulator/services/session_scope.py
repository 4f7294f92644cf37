"""What an embed-session token may do on the public API, decided in one place (behavior §5.3).

Every public route that accepts session tokens declares its `Policy` in the route table
(routes.py, `session=`): the session types allowed, the kind of action, and how to find its
target. `routes.api` calls `check` (path ids, list filters) and, for writes, `check_body` (the
JSON body) with plain values before the handler: out of scope -> 403; a target that does not
exist is left to the handler (404). Nothing here reads or changes the request.

A session implies its workspace and, for resource sessions, its resource, as a publishable key
implies its workspace: the events service completes event bodies (`implied_event`) and the list
handlers narrow workspace lists (`implied_filters`) where they read them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from meshes_emulator.auth import Principal
from meshes_emulator.errors import Forbidden
from meshes_emulator.schemas.sessions import PAYLOAD_SCOPE
from meshes_emulator.store import sessions as store
from meshes_emulator.store.db import Store

READ, OPERATE, CONFIGURE, PAYLOAD = "read", "operate", "configure", "payload"
ROLE_RANK = {"member": 0, "admin": 1, "owner": 2}
# The least role for each kind of action (see docs/behaviour.md).
MIN_ROLE = {READ: "member", OPERATE: "member", CONFIGURE: "admin", PAYLOAD: "admin"}

ALL_TYPES = frozenset({"workspace", "resource", "dashboard"})
WORKSPACE_ONLY = frozenset({"workspace"})
WORKSPACE_OR_RESOURCE = frozenset({"workspace", "resource"})

Scope = tuple[str, str | None, str | None]  # workspace_id, resource, resource_id
Params = Mapping[str, Any]  # the route's path parameters
Target = Callable[[Store, Params], Scope | None]


@dataclass(frozen=True)
class Policy:
    """Who may call a route: session types, the kind of action, and how to find its target."""

    types: frozenset[str]
    action: str
    target: Target | None = None  # None: nothing to check (e.g. the integrations catalog)
    narrow_list: bool = False  # workspace lists: resource sessions see only their resource
    body: str | None = None  # "connection" | "rule" | "event" | "events": check the JSON body


def _forbid(detail: str) -> Forbidden:
    return Forbidden("Forbidden", detail=detail)


# -- require_session_scope: the single check ---------------------------------------------------


def require_session_scope(who: Principal, *, workspace_id: str | None,
                          resource: str | None = None, resource_id: str | None = None,
                          action: str = READ, types: frozenset[str] = ALL_TYPES,
                          resource_bound: bool = True) -> None:
    """403 unless a session caller may do `action` on this target; no-op for other callers.

    `resource_bound=False` for targets that carry no resource (connections, the workspace).
    """
    session = who.session
    if who.kind != "session" or session is None:
        return
    kind = session["session_type"]
    if kind not in types:
        raise _forbid(f"{kind} sessions cannot use this operation")
    if ROLE_RANK[session["role"]] < ROLE_RANK[MIN_ROLE[action]]:
        raise _forbid(f"Role {session['role']} cannot {action}; "
                      f"it needs {MIN_ROLE[action]} or higher")
    if action == PAYLOAD and PAYLOAD_SCOPE not in session["scopes"]:
        raise _forbid(f"Reading event payloads needs the {PAYLOAD_SCOPE} scope")
    if workspace_id is not None and workspace_id.lower() != session["workspace_id"]:
        raise _forbid("The target is outside the session's workspace")
    if kind == "resource" and resource_bound and (
            resource != session["resource"] or resource_id != session["resource_id"]):
        raise _forbid("The target is outside the session's resource "
                      f"({session['resource']}/{session['resource_id']})")


# -- targets: find the scope of what a route touches ---------------------------------------------


def _workspace_param(db: Store, params: Params) -> Scope | None:
    row = store.workspace_org(db, params["workspace_id"])
    return None if row is None else (row["id"], None, None)


def _event_param(db: Store, params: Params) -> Scope | None:
    row = store.event_scope(db, params["event_id"])
    return None if row is None else (row["workspace_id"], row["resource"], row["resource_id"])


def _rule_param(db: Store, params: Params) -> Scope | None:
    row = store.rule_scope(db, params["rule_id"])
    return None if row is None else (row["workspace_id"], row["resource"], row["resource_id"])


def _connection_param(db: Store, params: Params) -> Scope | None:
    row = store.connection_scope(db, params["connection_id"])
    return None if row is None else (row["workspace_id"], None, None)


def _none(db: Store, params: Params) -> Scope | None:
    return None


# -- the policies of the routes (routes.py names one per route) ---------------------------------

WORKSPACE_READ = Policy(ALL_TYPES, READ, _workspace_param)
WORKSPACE_CONNECTIONS = Policy(WORKSPACE_ONLY, READ, _workspace_param)
WORKSPACE_CATALOG = Policy(WORKSPACE_OR_RESOURCE, READ, _workspace_param)
WORKSPACE_LIST = Policy(WORKSPACE_OR_RESOURCE, READ, _workspace_param, narrow_list=True)
CONNECTION_CREATE = Policy(WORKSPACE_ONLY, CONFIGURE, _none, body="connection")
CONNECTION_READ = Policy(WORKSPACE_ONLY, READ, _connection_param)
CONNECTION_WRITE = Policy(WORKSPACE_ONLY, CONFIGURE, _connection_param, body="connection")
INTEGRATIONS = Policy(WORKSPACE_OR_RESOURCE, READ, None)
RULE_CREATE = Policy(WORKSPACE_OR_RESOURCE, CONFIGURE, _none, body="rule")
RULE_READ = Policy(WORKSPACE_OR_RESOURCE, READ, _rule_param)
RULE_DELETE = Policy(WORKSPACE_OR_RESOURCE, CONFIGURE, _rule_param)
EVENT_CREATE = Policy(WORKSPACE_OR_RESOURCE, OPERATE, _none, body="event")
EVENTS_CREATE = Policy(WORKSPACE_OR_RESOURCE, OPERATE, _none, body="events")
EVENT_READ = Policy(WORKSPACE_OR_RESOURCE, READ, _event_param)
EVENT_PAYLOAD = Policy(WORKSPACE_OR_RESOURCE, PAYLOAD, _event_param)
EVENT_OPERATE = Policy(WORKSPACE_OR_RESOURCE, OPERATE, _event_param)


# -- the checks -----------------------------------------------------------------------------------


def check(db: Store, who: Principal, policy: Policy | None, params: Params,
          query: Mapping[str, str]) -> bool:
    """Enforce a session caller's scope on a route's target and list filters (403).

    Returns whether the JSON body is to be checked too (`check_body`): the route checks bodies
    and its target was found in the caller's organization.
    """
    if policy is None:
        raise _forbid("Embed session tokens cannot call this operation")
    found = policy.target(db, params) if policy.target else None
    if policy.target is not None and policy.target is not _none and found is None:
        # unknown target: the kind and role checks still apply, the handler answers 404
        require_session_scope(who, workspace_id=None, action=policy.action, types=policy.types,
                              resource_bound=False)
        return False
    if found is not None and found[0] is not None:
        row_org = store.workspace_org(db, found[0])
        if row_org is None or row_org["org_id"] != who.org_id:
            return False  # another organization's id: the handler answers 404
    bound = policy.target in (_event_param, _rule_param)
    workspace_id, resource, resource_id = found or (None, None, None)
    require_session_scope(who, workspace_id=workspace_id, resource=resource,
                          resource_id=resource_id, action=policy.action, types=policy.types,
                          resource_bound=bound)
    if policy.narrow_list:
        _check_filters(who, query)
    return policy.body is not None


def _check_filters(who: Principal, query: Mapping[str, str]) -> None:
    """Resource sessions list only their resource: other resource filters are refused."""
    session = who.session or {}
    if session.get("session_type") != "resource":
        return
    for name in ("resource", "resource_id"):
        if query.get(name) not in (None, "", session[name]):
            raise _forbid("The filter is outside the session's resource")


def check_body(who: Principal, policy: Policy, body: bytes) -> None:
    """Check the JSON body of a write; unparsable bodies are left to the handler."""
    try:
        # the BOM as read_json skips it: the handler reads the same document
        data = orjson.loads(body.removeprefix(b"\xef\xbb\xbf")) if body.strip() else None
    except orjson.JSONDecodeError:
        return
    if policy.body == "connection" and isinstance(data, dict):
        for key in ("workspace", "workspace_id"):
            value = data.get(key)
            if isinstance(value, str):
                require_session_scope(who, workspace_id=value, action=policy.action,
                                      types=policy.types, resource_bound=False)
    elif policy.body == "rule" and isinstance(data, dict):
        _check_item(who, policy, data)
    elif policy.body == "event" and isinstance(data, dict):
        _check_item(who, policy, implied_event(who, data))
    elif policy.body == "events" and isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                _check_item(who, policy, implied_event(who, item))


def _check_item(who: Principal, policy: Policy, item: dict[str, Any]) -> None:
    workspace = item.get("workspace")
    resource, resource_id = item.get("resource"), item.get("resource_id")
    require_session_scope(
        who, workspace_id=workspace if isinstance(workspace, str) else None,
        resource=resource if isinstance(resource, str) else None,
        resource_id=resource_id if isinstance(resource_id, str) else None,
        action=policy.action, types=policy.types)


# -- what a session implies -----------------------------------------------------------------------


def implied_event(who: Principal, item: Any) -> Any:
    """An event body as a session caller means it: without `workspace` it goes to the session's
    workspace, and (resource sessions) without `resource`/`resource_id` to the session's
    resource. Other callers' bodies, and bodies that are not objects, are returned as they are."""
    session = who.session
    if who.kind != "session" or session is None or not isinstance(item, dict):
        return item
    implied: dict[str, Any] = {"workspace": session["workspace_id"]}
    if session["session_type"] == "resource":
        implied.update(resource=session["resource"], resource_id=session["resource_id"])
    return {**implied, **item}


def implied_filters(who: Principal, filters: dict[str, str]) -> dict[str, str]:
    """A workspace list's filters as a session caller means them: a resource session lists its
    resource only (`check` has refused any other resource filter)."""
    session = who.session
    if who.kind != "session" or session is None or session["session_type"] != "resource":
        return filters
    return {**filters, "resource": session["resource"], "resource_id": session["resource_id"]}
