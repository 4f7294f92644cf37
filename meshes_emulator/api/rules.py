"""Rules (reference §9)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api import caller
from meshes_emulator.http import json_response, query_params, read_json
from meshes_emulator.pagination import page_request
from meshes_emulator.paging import SMALL_LIST_LIMIT, envelope
from meshes_emulator.schemas import rules as wire
from meshes_emulator.schemas.common import validate
from meshes_emulator.services import rules
from meshes_emulator.services.session_scope import implied_filters


async def list_workspace_rules(request: Request) -> Response:
    emulator, who = caller(request)
    req = page_request(request, SMALL_LIST_LIMIT)
    rows = rules.list_page(
        emulator,
        who.org_id,
        req,
        implied_filters(who, rules.filters_from(query_params(request))),
        workspace_id=request.path_params["workspace_id"],
    )
    return json_response(envelope(rows, req, wire.rule))


async def list_rules(request: Request) -> Response:
    emulator, who = caller(request)
    req = page_request(request, SMALL_LIST_LIMIT)
    rows = rules.list_page(emulator, who.org_id, req, rules.filters_from(query_params(request)))
    return json_response(envelope(rows, req, wire.rule))


async def create_rule(request: Request) -> Response:
    emulator, who = caller(request)
    body = validate(wire.RuleCreate, await read_json(request))
    row = rules.create(emulator, who.org_id, who.created_by, body)
    return json_response({"rule": wire.rule(row)}, status=201)


async def get_rule(request: Request) -> Response:
    emulator, who = caller(request)
    return json_response(wire.rule(rules.get(emulator, who.org_id, request.path_params["rule_id"])))


async def delete_rule(request: Request) -> Response:
    emulator, who = caller(request)
    row = rules.delete(emulator, who.org_id, request.path_params["rule_id"])
    return json_response(wire.deleted_rule(row))
