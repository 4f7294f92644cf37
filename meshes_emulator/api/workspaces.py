"""Workspaces (reference §6)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api import caller
from meshes_emulator.http import json_response, read_json
from meshes_emulator.leniency import Check
from meshes_emulator.pagination import page_request
from meshes_emulator.paging import SMALL_LIST_LIMIT, envelope
from meshes_emulator.schemas import workspaces as wire
from meshes_emulator.schemas.common import validate
from meshes_emulator.services import workspaces


async def list_workspaces(request: Request) -> Response:
    emulator, who = caller(request)
    req = page_request(request, SMALL_LIST_LIMIT)
    rows = workspaces.list_page(emulator, who.org_id, req)
    return json_response(envelope(rows, req, wire.workspace))


async def create_workspace(request: Request) -> Response:
    emulator, who = caller(request)
    body = validate(wire.WorkspaceCreate, await read_json(request))
    row = workspaces.create(emulator, who.org_id, body.name, body.description)
    return json_response({"workspace": wire.workspace(row)}, status=201)


async def get_workspace(request: Request) -> Response:
    emulator, who = caller(request)
    row = workspaces.get(emulator, who.org_id, request.path_params["workspace_id"])
    return json_response(wire.workspace_detail(row, workspaces.publishable_key(emulator, row["id"])))


async def update_workspace(request: Request) -> Response:
    emulator, who = caller(request)
    data = await read_json(request)
    body = validate(wire.WorkspaceUpdate, data)
    emulator.leniency.check(Check.WORKSPACE_UPDATE_NAME, wire.name_problems(body.name))
    row = workspaces.update(emulator, who.org_id, request.path_params["workspace_id"], body.name,
                            body.description, description_given="description" in data)
    return json_response(wire.workspace(row))


async def list_event_types(request: Request) -> Response:
    emulator, who = caller(request)
    rows = workspaces.catalog(emulator, who.org_id, request.path_params["workspace_id"],
                              "event_type")
    return json_response([wire.catalog_entry(row) for row in rows])


async def list_resources(request: Request) -> Response:
    emulator, who = caller(request)
    rows = workspaces.catalog(emulator, who.org_id, request.path_params["workspace_id"],
                              "resource")
    return json_response([wire.catalog_entry(row) for row in rows])
