"""Connections (reference §7.1-7.7, §6.5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api import caller
from meshes_emulator.http import json_response, query_bool, read_json
from meshes_emulator.pagination import page_request
from meshes_emulator.paging import SMALL_LIST_LIMIT, envelope
from meshes_emulator.schemas import connections as wire
from meshes_emulator.schemas.common import validate
from meshes_emulator.services import connections


async def list_connections(request: Request) -> Response:
    emulator, who = caller(request)
    req = page_request(request, SMALL_LIST_LIMIT)
    rows = connections.list_page(emulator, who.org_id, req)
    return json_response(envelope(rows, req, wire.connection))


async def list_workspace_connections(request: Request) -> Response:
    emulator, who = caller(request)
    req = page_request(request, SMALL_LIST_LIMIT)
    workspace_id = request.path_params["workspace_id"]
    rows = connections.list_page(emulator, who.org_id, req, workspace_id)
    return json_response(envelope(rows, req, wire.connection))


async def create_connection(request: Request) -> Response:
    emulator, who = caller(request)
    body = validate(wire.ConnectionCreate, await read_json(request))
    row = connections.create(emulator, who.org_id, who.created_by, body)
    return json_response({"connection": wire.connection(row)}, status=201)


async def get_connection(request: Request) -> Response:
    emulator, who = caller(request)
    row = connections.get(emulator, who.org_id, request.path_params["connection_id"])
    return json_response(wire.connection(row))


async def update_connection(request: Request) -> Response:
    emulator, who = caller(request)
    body = validate(wire.ConnectionUpdate, await read_json(request))
    row = connections.update(emulator, who.org_id, request.path_params["connection_id"], body)
    return json_response(wire.connection(row))


async def delete_connection(request: Request) -> Response:
    """Optional JSON body `{"force_delete": bool}`; `?force_delete=true` is accepted too."""
    emulator, who = caller(request)
    data = await read_json(request, required=False)
    body = validate(wire.ConnectionDelete, {} if data is None else data)
    force = body.force_delete or query_bool(request, "force_delete")
    row = connections.delete(emulator, who.org_id, request.path_params["connection_id"], force)
    return json_response(wire.delete_result(row))


async def get_connection_actions(request: Request) -> Response:
    emulator, who = caller(request)
    actions = connections.actions(emulator, who.org_id, request.path_params["connection_id"])
    return json_response(actions)


async def get_connection_fields(request: Request) -> Response:
    emulator, who = caller(request)
    refresh = query_bool(request, "refresh")
    catalog_row, conn, fields = connections.field_catalog_of(
        emulator, who.org_id, who.created_by, request.path_params["connection_id"], refresh
    )
    return json_response(wire.field_catalog(catalog_row, conn, fields))

