"""Events, rule events and attempts (reference §10)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api import caller
from meshes_emulator.http import json_bytes_response, json_response, query_params, read_json
from meshes_emulator.pagination import page_request
from meshes_emulator.paging import envelope
from meshes_emulator.schemas import events as wire
from meshes_emulator.services import events
from meshes_emulator.services.session_scope import implied_filters


async def list_workspace_events(request: Request) -> Response:
    emulator, who = caller(request)
    req = page_request(request)
    body = events.list_page_json(
        emulator,
        who.org_id,
        req,
        implied_filters(who, events.filters_from(query_params(request))),
        workspace_id=request.path_params["workspace_id"],
    )
    return json_bytes_response(body)


async def list_events(request: Request) -> Response:
    emulator, who = caller(request)
    return json_bytes_response(events.list_page_json(emulator, who.org_id, page_request(request)))


async def create_event(request: Request) -> Response:
    emulator, who = caller(request)
    item = events.parse_one(emulator, who, await read_json(request))
    row = await emulator.group_commit.ingest(who, item)  # (wakes the delivery worker)
    return json_response({"event": wire.created_event(row)}, status=201)


async def create_bulk_events(request: Request) -> Response:
    emulator, who = caller(request)
    status, body = events.create_bulk(emulator, who, await read_json(request))
    return json_response(body, status=status)  # (the service woke the delivery worker)


async def get_event(request: Request) -> Response:
    emulator, who = caller(request)
    row = events.get(emulator, who.org_id, request.path_params["event_id"])
    return json_response(wire.event(row, events.rule_events(emulator, row["id"])))


async def get_event_payload(request: Request) -> Response:
    emulator, who = caller(request)
    row = events.get(emulator, who.org_id, request.path_params["event_id"])
    return json_response(wire.event_with_payload(row, events.rule_events(emulator, row["id"])))


async def cancel_event(request: Request) -> Response:
    emulator, who = caller(request)
    row, rule_events = events.cancel_event(emulator, who.org_id, request.path_params["event_id"])
    return json_response(wire.event(row, rule_events))


async def retry_rule_event(request: Request) -> Response:
    emulator, who = caller(request)
    params = request.path_params
    row = events.retry(emulator, who.org_id, params["event_id"], params["rule_id"])
    return json_response(wire.rule_event(row))  # (the service woke the delivery worker)


async def cancel_rule_event(request: Request) -> Response:
    emulator, who = caller(request)
    params = request.path_params
    row = events.cancel_rule(emulator, who.org_id, params["event_id"], params["rule_id"])
    return json_response(wire.rule_event(row))


async def list_attempts(request: Request) -> Response:
    emulator, who = caller(request)
    params = request.path_params
    req = page_request(request)
    rows = events.list_attempts(emulator, who.org_id, params["event_id"], params["rule_id"], req)
    return json_response(envelope(rows, req, wire.attempt))


async def get_attempt(request: Request) -> Response:
    emulator, who = caller(request)
    p = request.path_params
    row = events.get_attempt(emulator, who.org_id, p["event_id"], p["rule_id"], p["attempt_id"])
    return json_response(wire.attempt(row))


async def get_attempt_response_details(request: Request) -> Response:
    emulator, who = caller(request)
    p = request.path_params
    row = events.get_attempt(emulator, who.org_id, p["event_id"], p["rule_id"], p["attempt_id"])
    return json_response(wire.response_details(row))
