"""What an embed-session token may do on the public API, decided in one place (behavior §5.3).

`guard(request, method, path)` runs for every request authenticated with a session token, before
the handler. It looks up the policy of the route, checks session type and role, and checks that
the target (path ids, query filters, request body) lies inside the session's workspace and, for
resource sessions, its `resource`/`resource_id`. Out of scope -> 403. A target that does not
exist is left to the handler (404). Workspace lists are narrowed to the session's resource, and
event bodies without `workspace` (or, for resource sessions, without `resource`/`resource_id`)
get the session's values, as a publishable key implies its workspace.

Services may call `require_session_scope` for their own checks: it is a no-op for other callers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request

from meshes_emulator.auth import Principal
from meshes_emulator.errors import Forbidden
from meshes_emulator.http import read_body
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
Target = Callable[[Store, Request], Scope | None]


@dataclass(frozen=True)
class Policy:
    """Who may call a route: session types, the kind of action, and how to find its target."""

    types: frozenset[str]
    action: str
    target: Target | None = None  # None: nothing to check (e.g. the integrations catalog)
    narrow_list: bool = False  # workspace lists: force the resource filters of resource sessions
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
    if workspace_id is not None and workspace_id != session["workspace_id"]:
        raise _forbid("The target is outside the session's workspace")
    if kind == "resource" and resource_bound and (
            resource != session["resource"] or resource_id != session["resource_id"]):
        raise _forbid("The target is outside the session's resource "
                      f"({session['resource']}/{session['resource_id']})")


# -- targets: find the scope of what a route touches ---------------------------------------------


def _workspace_param(db: Store, request: Request) -> Scope | None:
    row = store.workspace_org(db, request.path_params["workspace_id"])
    return None if row is None else (row["id"], None, None)


def _event_param(db: Store, request: Request) -> Scope | None:
    row = store.event_scope(db, request.path_params["event_id"])
    return None if row is None else (row["workspace_id"], row["resource"], row["resource_id"])


def _rule_param(db: Store, request: Request) -> Scope | None:
    row = store.rule_scope(db, request.path_params["rule_id"])
    return None if row is None else (row["workspace_id"], row["resource"], row["resource_id"])


def _connection_param(db: Store, request: Request) -> Scope | None:
    row = store.connection_scope(db, request.path_params["connection_id"])
    return None if row is None else (row["workspace_id"], None, None)


def _none(db: Store, request: Request) -> Scope | None:
    return None


WS_READ = Policy(ALL_TYPES, READ, _workspace_param)
CONN = {
    "read": Policy(WORKSPACE_ONLY, READ, _connection_param),
    "write": Policy(WORKSPACE_ONLY, CONFIGURE, _connection_param, body="connection"),
}
EVENT_READ = Policy(WORKSPACE_OR_RESOURCE, READ, _event_param)
EVENT_OPERATE = Policy(WORKSPACE_OR_RESOURCE, OPERATE, _event_param)

POLICIES: dict[tuple[str, str], Policy] = {
    ("GET", "/workspaces/{workspace_id}"): WS_READ,
    ("GET", "/workspaces/{workspace_id}/connections"): Policy(WORKSPACE_ONLY, READ, _workspace_param),
    ("GET", "/workspaces/{workspace_id}/event-types"):
        Policy(WORKSPACE_OR_RESOURCE, READ, _workspace_param),
    ("GET", "/workspaces/{workspace_id}/resources"):
        Policy(WORKSPACE_OR_RESOURCE, READ, _workspace_param),
    ("GET", "/workspaces/{workspace_id}/events"):
        Policy(WORKSPACE_OR_RESOURCE, READ, _workspace_param, narrow_list=True),
    ("GET", "/workspaces/{workspace_id}/rules"):
        Policy(WORKSPACE_OR_RESOURCE, READ, _workspace_param, narrow_list=True),
    ("POST", "/connections"): Policy(WORKSPACE_ONLY, CONFIGURE, _none, body="connection"),
    ("GET", "/connections/{connection_id}"): CONN["read"],
    ("PUT", "/connections/{connection_id}"): CONN["write"],
    ("DELETE", "/connections/{connection_id}"): CONN["write"],
    ("GET", "/connections/{connection_id}/actions"): CONN["read"],
    ("GET", "/connections/{connection_id}/fields"): CONN["read"],
    ("GET", "/connections/{connection_id}/mappings/default"): CONN["read"],
    ("PUT", "/connections/{connection_id}/mappings/default"): CONN["write"],
    ("GET", "/integrations"): Policy(WORKSPACE_OR_RESOURCE, READ, None),
    ("POST", "/rules"): Policy(WORKSPACE_OR_RESOURCE, CONFIGURE, _none, body="rule"),
    ("GET", "/rules/{rule_id}"): Policy(WORKSPACE_OR_RESOURCE, READ, _rule_param),
    ("DELETE", "/rules/{rule_id}"): Policy(WORKSPACE_OR_RESOURCE, CONFIGURE, _rule_param),
    ("POST", "/events"): Policy(WORKSPACE_OR_RESOURCE, OPERATE, _none, body="event"),
    ("POST", "/events/bulk"): Policy(WORKSPACE_OR_RESOURCE, OPERATE, _none, body="events"),
    ("GET", "/events/{event_id}"): EVENT_READ,
    ("GET", "/events/{event_id}/payload"): Policy(WORKSPACE_OR_RESOURCE, PAYLOAD, _event_param),
    ("POST", "/events/{event_id}/cancel"): EVENT_OPERATE,
    ("POST", "/events/{event_id}/rules/{rule_id}/retry"): EVENT_OPERATE,
    ("POST", "/events/{event_id}/rules/{rule_id}/cancel"): EVENT_OPERATE,
    ("GET", "/events/{event_id}/rules/{rule_id}/attempts"): EVENT_READ,
    ("GET", "/events/{event_id}/rules/{rule_id}/attempts/{attempt_id}"): EVENT_READ,
    ("GET", "/events/{event_id}/rules/{rule_id}/attempts/{attempt_id}/response-details"): EVENT_READ,
}


# -- the guard ------------------------------------------------------------------------------------


async def guard(request: Request, method: str, path: str) -> None:
    """Enforce the session's scope on one request (called by routes.api for session callers)."""
    who: Principal = request.state.principal
    if who.kind != "session" or who.session is None:
        return
    policy = POLICIES.get((method, path))
    if policy is None:
        raise _forbid("Embed session tokens cannot call this operation")
    emulator = request.app.state.emulator
    session = who.session
    found = policy.target(emulator.store, request) if policy.target else None
    if policy.target is not None and policy.target is not _none and found is None:
        # unknown target: the kind and role checks still apply, the handler answers 404
        require_session_scope(who, workspace_id=None, action=policy.action, types=policy.types,
                              resource_bound=False)
        return
    if found is not None and found[0] is not None:
        row_org = store.workspace_org(emulator.store, found[0])
        if row_org is None or row_org["org_id"] != who.org_id:
            return  # another organization's id: the handler answers 404
    bound = policy.target in (_event_param, _rule_param)
    workspace_id, resource, resource_id = found or (None, None, None)
    require_session_scope(who, workspace_id=workspace_id, resource=resource,
                          resource_id=resource_id, action=policy.action, types=policy.types,
                          resource_bound=bound)
    if policy.narrow_list and session["session_type"] == "resource":
        _narrow_query(request, session)
    if policy.body is not None:
        await _check_body(request, who, policy)


def _narrow_query(request: Request, session: dict[str, Any]) -> None:
    """Resource sessions see only their resource: force the list filters."""
    params = dict(request.query_params)
    for name in ("resource", "resource_id"):
        if params.get(name) not in (None, "", session[name]):
            raise _forbid("The filter is outside the session's resource")
        params[name] = session[name]
    request.scope["query_string"] = urlencode(params).encode()
    if hasattr(request, "_query_params"):
        del request._query_params


async def _check_body(request: Request, who: Principal, policy: Policy) -> None:
    """Check (and complete) the JSON body of a write; unparsable bodies are left to the handler."""
    body = await read_body(request)  # kept on the request: the handler does not read it again
    try:
        data = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        return
    if policy.body == "connection" and isinstance(data, dict):
        for key in ("workspace", "workspace_id"):
            value = data.get(key)
            if isinstance(value, str):
                require_session_scope(who, workspace_id=value, action=policy.action,
                                      types=policy.types, resource_bound=False)
    elif policy.body == "rule" and isinstance(data, dict):
        _check_item(who, policy, data, complete=False)
    elif policy.body == "event" and isinstance(data, dict):
        _check_item(who, policy, data, complete=True)
        _replace_body(request, data)
    elif policy.body == "events" and isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                _check_item(who, policy, item, complete=True)
        _replace_body(request, data)


def _check_item(who: Principal, policy: Policy, item: dict[str, Any], *, complete: bool) -> None:
    session = who.session or {}
    if complete:
        item.setdefault("workspace", session["workspace_id"])
        if session["session_type"] == "resource":
            item.setdefault("resource", session["resource"])
            item.setdefault("resource_id", session["resource_id"])
    workspace = item.get("workspace")
    resource, resource_id = item.get("resource"), item.get("resource_id")
    require_session_scope(
        who, workspace_id=workspace if isinstance(workspace, str) else None,
        resource=resource if isinstance(resource, str) else None,
        resource_id=resource_id if isinstance(resource_id, str) else None,
        action=policy.action, types=policy.types)


def _replace_body(request: Request, data: Any) -> None:
    request._body = orjson.dumps(data)
