"""Embed sessions (reference §11): list, create, revoke, refresh."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api import caller
from meshes_emulator.clock import isoformat
from meshes_emulator.errors import BadRequest, ValidationFailed
from meshes_emulator.http import json_response, query_params, read_json
from meshes_emulator.pagination import page_request
from meshes_emulator.paging import envelope
from meshes_emulator.schemas import sessions as wire
from meshes_emulator.schemas.common import validate
from meshes_emulator.services import sessions


async def list_sessions(request: Request) -> Response:
    emulator, who = caller(request)
    workspace_id, filters = sessions.list_filters(query_params(request))
    req = page_request(request)
    rows = sessions.list_page(emulator, who, workspace_id, filters, req)
    now = isoformat(emulator.clock.now())
    return json_response(envelope(rows, req, lambda row: wire.record(row, now)))


async def create_session(request: Request) -> Response:
    emulator, who = caller(request)
    data = await read_json(request)
    try:
        body = validate(wire.SessionCreate, data)
    except ValidationFailed as exc:
        problems = exc.data or []
        param = problems[0]["param"].split(".")[0] if problems else "body"
        raise BadRequest(f"invalid {param}", detail=exc.detail, data=problems) from None
    return json_response(sessions.create(emulator, who, body))


async def revoke_session(request: Request) -> Response:
    emulator, who = caller(request)
    return json_response(sessions.revoke(emulator, who, request.path_params["sessionId"]))


async def refresh_session(request: Request) -> Response:
    emulator, who = caller(request)
    return json_response(sessions.refresh(emulator, who, request.path_params["sessionId"]))
