"""/_emulator: why each rule did or did not route an event, and every rule_event."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import emulator_of, listing, query
from meshes_emulator.http import json_response
from meshes_emulator.schemas.admin import RuleEventsQuery, filters, rule_event_record
from meshes_emulator.services import explain, inspection


async def explain_event(request: Request) -> Response:
    return json_response(explain.explain(emulator_of(request), request.path_params["event_id"]))


async def list_rule_events(request: Request) -> Response:
    """GET: rule_events (RuleEvent shape) of every event, oldest first; exact-match filters."""
    spec = query(request, RuleEventsQuery)
    rows = inspection.rule_events(emulator_of(request), filters(spec), spec.limit)
    return listing([rule_event_record(row) for row in rows])
