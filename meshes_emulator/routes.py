"""The whole route table on one screen: method, path, handler, accepted credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from meshes_emulator.admin.routes import admin_routes
from meshes_emulator.api import connections, events, integrations, mappings, rules, sessions
from meshes_emulator.api import workspaces as ws
from meshes_emulator.auth import INGEST, MACHINE, authenticate
from meshes_emulator.openapi import serve_openapi

Handler = Callable[[Request], Awaitable[Response]]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, X-Meshes-Publishable-Key, "
    "X-Meshes-Client, Authorization",
    "Access-Control-Max-Age": "600",
}


def api(method: str, path: str, handler: Handler, auth: frozenset[str] = MACHINE) -> Route:
    """A public route: authenticate first (401 before anything else), then the handler."""

    async def endpoint(request: Request) -> Response:
        request.state.principal = authenticate(request.app.state.emulator, request.headers, auth)
        return await handler(request)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    route_auth[(method, path)] = auth
    return Route(path, endpoint, methods=[method], name=f"{method} {path}")


route_auth: dict[tuple[str, str], frozenset[str]] = {}


async def cors_preflight(request: Request) -> Response:
    """Browsers may call the two ingestion routes (behavior §1.3)."""
    return Response(status_code=204, headers=CORS_HEADERS)


def public_routes() -> list[BaseRoute]:
    return [
        api("GET", "/workspaces", ws.list_workspaces),
        api("POST", "/workspaces", ws.create_workspace),
        api("GET", "/workspaces/{workspace_id}", ws.get_workspace),
        api("PUT", "/workspaces/{workspace_id}", ws.update_workspace),
        api("GET", "/workspaces/{workspace_id}/connections", connections.list_workspace_connections),
        api("GET", "/workspaces/{workspace_id}/event-types", ws.list_event_types),
        api("GET", "/workspaces/{workspace_id}/events", events.list_workspace_events),
        api("GET", "/workspaces/{workspace_id}/resources", ws.list_resources),
        api("GET", "/workspaces/{workspace_id}/rules", rules.list_workspace_rules),
        api("GET", "/connections", connections.list_connections),
        api("POST", "/connections", connections.create_connection),
        api("GET", "/connections/{connection_id}", connections.get_connection),
        api("PUT", "/connections/{connection_id}", connections.update_connection),
        api("DELETE", "/connections/{connection_id}", connections.delete_connection),
        api("GET", "/connections/{connection_id}/actions", connections.get_connection_actions),
        api("GET", "/connections/{connection_id}/fields", connections.get_connection_fields),
        api("GET", "/connections/{connection_id}/mappings/default", mappings.get_default_mapping),
        api("PUT", "/connections/{connection_id}/mappings/default",
            mappings.update_default_mapping),
        api("GET", "/integrations", integrations.list_integrations),
        api("GET", "/rules", rules.list_rules),
        api("POST", "/rules", rules.create_rule),
        api("GET", "/rules/{rule_id}", rules.get_rule),
        api("DELETE", "/rules/{rule_id}", rules.delete_rule),
        api("GET", "/events", events.list_events),
        api("POST", "/events", events.create_event, INGEST),
        Route("/events", cors_preflight, methods=["OPTIONS"]),
        api("POST", "/events/bulk", events.create_bulk_events, INGEST),
        Route("/events/bulk", cors_preflight, methods=["OPTIONS"]),
        api("GET", "/events/{event_id}", events.get_event),
        api("GET", "/events/{event_id}/payload", events.get_event_payload),
        api("POST", "/events/{event_id}/cancel", events.cancel_event),
        api("POST", "/events/{event_id}/rules/{rule_id}/retry", events.retry_rule_event),
        api("POST", "/events/{event_id}/rules/{rule_id}/cancel", events.cancel_rule_event),
        api("GET", "/events/{event_id}/rules/{rule_id}/attempts", events.list_attempts),
        api("GET", "/events/{event_id}/rules/{rule_id}/attempts/{attempt_id}",
            events.get_attempt),
        api("GET", "/events/{event_id}/rules/{rule_id}/attempts/{attempt_id}/response-details",
            events.get_attempt_response_details),
        api("GET", "/sessions", sessions.list_sessions),
        api("POST", "/sessions", sessions.create_session),
        api("DELETE", "/sessions/{sessionId}", sessions.revoke_session),
        api("POST", "/sessions/{sessionId}/refresh", sessions.refresh_session),
    ]


def all_routes() -> list[BaseRoute]:
    return [
        Mount("/api/v1", routes=public_routes()),
        Mount("/_emulator", routes=admin_routes()),
        Route("/openapi.json", serve_openapi, methods=["GET"]),
    ]
