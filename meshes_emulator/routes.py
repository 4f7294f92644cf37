"""The whole route table on one screen: method, path, handler, accepted credentials and, for
routes that accept embed-session tokens, the session policy (services/session_scope.py)."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from meshes_emulator import leniency
from meshes_emulator.admin.routes import admin_routes
from meshes_emulator.api import connections, events, integrations, mappings, rules, sessions
from meshes_emulator.api import workspaces as ws
from meshes_emulator.auth import INGEST, MACHINE, SESSION, Principal, authenticate
from meshes_emulator.cors import PREFLIGHT_HEADERS
from meshes_emulator.errors import ApiError
from meshes_emulator.http import json_response, query_params, read_body
from meshes_emulator.openapi import serve_openapi
from meshes_emulator.routing import IndexedRouter
from meshes_emulator.schemas.common import UUID_PATTERN
from meshes_emulator.services import session_scope as scope
from meshes_emulator.services.faults import ApiFaultDecision
from meshes_emulator.services.session_scope import Policy
from meshes_emulator.web import dashboard, embed_routes

Handler = Callable[[Request], Awaitable[Response]]

def api(method: str, path: str, handler: Handler, auth: frozenset[str] = MACHINE,
        session: Policy | None = None) -> Route:
    """A public route: authenticate first (401 before anything else), then the session policy
    (403, for session callers), then the handler.

    `auth`: the credentials accepted besides embed-session tokens; `session`: the scope in which
    session tokens are accepted too (None: they are refused with 403).
    """
    if session is not None:
        auth = auth | SESSION

    async def endpoint(request: Request) -> Response:
        emulator = request.app.state.emulator
        lower_uuid_params(request.scope["path_params"])
        fault = emulator.faults.api_fault(request.scope["method"], request.scope["path"])
        if fault is not None and (answer := await fault_answer(fault)) is not None:
            return answer  # API faults (issue 5): before anything else
        request.state.principal = who = authenticate(emulator, request.headers, auth)
        if who.kind == "session":
            await _check_session(request, who, session)
        try:
            response = await handler(request)
        except ApiError as exc:
            if (pending := leniency.take_pending()) is None:
                raise
            response = json_response(exc.body(), status=exc.status, headers=exc.headers)
        else:
            if (pending := leniency.take_pending()) is None:  # no warning: nothing else to do
                return response
        for value in leniency.header_values(pending, method, path):
            response.headers.append(leniency.HEADER, value)
        return response

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    route_auth[(method, path)] = auth
    return Route(path, endpoint, methods=[method], name=f"{method} {path}")


route_auth: dict[tuple[str, str], frozenset[str]] = {}

_UUID = re.compile(UUID_PATTERN)


def lower_uuid_params(params: dict[str, str]) -> None:
    """UUID path ids in lower case, as they are stored: a UUID is case-insensitive (RFC 9562),
    so `/workspaces/0B1C...` is the workspace `0b1c...` (`sessionId` is an opaque string)."""
    for key, value in params.items():
        if key != "sessionId" and not value.islower() and _UUID.match(value):
            params[key] = value.lower()


async def fault_answer(fault: ApiFaultDecision) -> Response | None:
    """An API fault's effect: its wall-clock delay, then its error (None: the route goes on)."""
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.status is None:
        return None
    return json_response(fault.body, status=fault.status, headers=fault.headers)


async def _check_session(request: Request, who: Principal, policy: Policy | None) -> None:
    """The route's session policy on the request's path ids, query and (writes) JSON body (the
    one body reader keeps the body for the handler). Nothing of the request is changed."""
    db = request.app.state.emulator.store
    if scope.check(db, who, policy, request.path_params, query_params(request)) and policy:
        scope.check_body(who, policy, await read_body(request))


async def cors_preflight(request: Request) -> Response:
    """Browsers may call the two ingestion routes (behavior §1.3); the actual responses get
    their CORS headers from app.EdgeMiddleware (cors.py)."""
    return Response(status_code=204, headers=dict(PREFLIGHT_HEADERS))


def public_routes() -> list[BaseRoute]:
    """The public API. `session=`: the route also accepts embed-session tokens, in that scope."""
    return [
        api("GET", "/workspaces", ws.list_workspaces),
        api("POST", "/workspaces", ws.create_workspace),
        api("GET", "/workspaces/{workspace_id}", ws.get_workspace, session=scope.WORKSPACE_READ),
        api("PUT", "/workspaces/{workspace_id}", ws.update_workspace),
        api("GET", "/workspaces/{workspace_id}/connections", connections.list_workspace_connections,
            session=scope.WORKSPACE_CONNECTIONS),
        api("GET", "/workspaces/{workspace_id}/event-types", ws.list_event_types,
            session=scope.WORKSPACE_CATALOG),
        api("GET", "/workspaces/{workspace_id}/events", events.list_workspace_events,
            session=scope.WORKSPACE_LIST),
        api("GET", "/workspaces/{workspace_id}/resources", ws.list_resources,
            session=scope.WORKSPACE_CATALOG),
        api("GET", "/workspaces/{workspace_id}/rules", rules.list_workspace_rules,
            session=scope.WORKSPACE_LIST),
        api("GET", "/connections", connections.list_connections),
        api("POST", "/connections", connections.create_connection, session=scope.CONNECTION_CREATE),
        api("GET", "/connections/{connection_id}", connections.get_connection,
            session=scope.CONNECTION_READ),
        api("PUT", "/connections/{connection_id}", connections.update_connection,
            session=scope.CONNECTION_WRITE),
        api("DELETE", "/connections/{connection_id}", connections.delete_connection,
            session=scope.CONNECTION_WRITE),
        api("GET", "/connections/{connection_id}/actions", connections.get_connection_actions,
            session=scope.CONNECTION_READ),
        api("GET", "/connections/{connection_id}/fields", connections.get_connection_fields,
            session=scope.CONNECTION_READ),
        api("GET", "/connections/{connection_id}/mappings/default", mappings.get_default_mapping,
            session=scope.CONNECTION_READ),
        api("PUT", "/connections/{connection_id}/mappings/default",
            mappings.update_default_mapping, session=scope.CONNECTION_WRITE),
        api("GET", "/integrations", integrations.list_integrations, session=scope.INTEGRATIONS),
        api("GET", "/rules", rules.list_rules),
        api("POST", "/rules", rules.create_rule, session=scope.RULE_CREATE),
        api("GET", "/rules/{rule_id}", rules.get_rule, session=scope.RULE_READ),
        api("DELETE", "/rules/{rule_id}", rules.delete_rule, session=scope.RULE_DELETE),
        api("GET", "/events", events.list_events),
        api("POST", "/events", events.create_event, INGEST, session=scope.EVENT_CREATE),
        Route("/events", cors_preflight, methods=["OPTIONS"]),
        api("POST", "/events/bulk", events.create_bulk_events, INGEST, session=scope.EVENTS_CREATE),
        Route("/events/bulk", cors_preflight, methods=["OPTIONS"]),
        api("GET", "/events/{event_id}", events.get_event, session=scope.EVENT_READ),
        api("GET", "/events/{event_id}/payload", events.get_event_payload,
            session=scope.EVENT_PAYLOAD),
        api("POST", "/events/{event_id}/cancel", events.cancel_event, session=scope.EVENT_OPERATE),
        api("POST", "/events/{event_id}/rules/{rule_id}/retry", events.retry_rule_event,
            session=scope.EVENT_OPERATE),
        api("POST", "/events/{event_id}/rules/{rule_id}/cancel", events.cancel_rule_event,
            session=scope.EVENT_OPERATE),
        api("GET", "/events/{event_id}/rules/{rule_id}/attempts", events.list_attempts,
            session=scope.EVENT_READ),
        api("GET", "/events/{event_id}/rules/{rule_id}/attempts/{attempt_id}",
            events.get_attempt, session=scope.EVENT_READ),
        api("GET", "/events/{event_id}/rules/{rule_id}/attempts/{attempt_id}/response-details",
            events.get_attempt_response_details, session=scope.EVENT_READ),
        api("GET", "/sessions", sessions.list_sessions),
        api("POST", "/sessions", sessions.create_session),
        api("DELETE", "/sessions/{sessionId}", sessions.revoke_session),
        api("POST", "/sessions/{sessionId}/refresh", sessions.refresh_session),
    ]


@functools.cache
def all_routes() -> list[BaseRoute]:
    """Every route (built once per process: routes hold no per-app state; do not mutate)."""
    return [
        Mount("/api/v1", app=IndexedRouter(public_routes())),
        Mount("/_emulator", app=IndexedRouter(admin_routes())),
        Route("/openapi.json", serve_openapi, methods=["GET"]),
        Mount("/embed", routes=embed_routes()),
        Route("/", dashboard, methods=["GET"]),
    ]
