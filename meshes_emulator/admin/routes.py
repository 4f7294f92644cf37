"""The admin API's whole route table on one screen, mounted at /_emulator (docs/emulator-api.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from meshes_emulator.admin import (
    clock,
    connections,
    deliveries,
    emulator,
    engine,
    events,
    export,
    faults,
    orgs,
    requests,
    snapshots,
)

Handler = Callable[[Request], Awaitable[Response]]


def admin(method: str, path: str, handler: Handler) -> Route:
    return Route(path, handler, methods=[method])


def admin_routes() -> list[BaseRoute]:
    action_data = "/connections/{connection_id}/action-data"
    return [
        admin("GET", "/health", emulator.health),
        admin("GET", "/info", emulator.info),
        admin("POST", "/reset", emulator.reset),
        admin("GET", "/credentials", orgs.credentials),
        admin("POST", "/orgs", orgs.create_org),
        admin("GET", "/token", orgs.token),
        admin("GET", "/clock", clock.get_clock),
        admin("POST", "/clock", clock.set_clock),
        admin("GET", "/errors", emulator.captured_errors),
        admin("GET", "/warnings", emulator.warnings),
        admin("GET", "/deliveries", deliveries.list_deliveries),
        admin("POST", "/settle", engine.settle),
        admin("GET", "/idle", engine.idle),
        admin("GET", action_data, connections.get_action_data),
        admin("PUT", action_data, connections.put_action_data),
        admin("DELETE", action_data, connections.delete_action_data),
        admin("POST", "/connections/{connection_id}/deactivate", connections.deactivate),
        admin("POST", "/connections/{connection_id}/activate", connections.activate),
        admin("GET", "/faults", faults.list_faults),
        admin("POST", "/faults", faults.add_fault),
        admin("DELETE", "/faults", faults.clear_faults),
        admin("POST", "/faults/clear", faults.clear_faults),
        admin("GET", "/faults/{fault_id}", faults.get_fault),
        admin("DELETE", "/faults/{fault_id}", faults.delete_fault),
        admin("POST", "/clock/advance", clock.advance_clock),
        admin("GET", "/events/{event_id}/explain", events.explain_event),
        admin("GET", "/rule-events", events.list_rule_events),
        admin("GET", "/snapshots", snapshots.list_snapshots),
        admin("POST", "/snapshots", snapshots.take_snapshot),
        admin("POST", "/snapshots/{name}/restore", snapshots.restore_snapshot),
        admin("DELETE", "/snapshots/{name}", snapshots.delete_snapshot),
        admin("GET", "/export", export.export_state),
        admin("GET", "/requests", requests.list_requests),
    ]
