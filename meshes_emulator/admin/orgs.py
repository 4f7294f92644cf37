"""/_emulator: organizations: their credentials, minting one, a machine token for one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import body, emulator_of, query
from meshes_emulator.http import json_response
from meshes_emulator.schemas.admin import OrgCreate, TokenQuery
from meshes_emulator.services import orgs

TOKEN_LIFETIME = 30


async def credentials(request: Request) -> Response:
    emulator = emulator_of(request)
    return json_response({"base_url": emulator.base_url,
                          "api_url": emulator.base_url + "/api/v1",
                          "organizations": orgs.credentials(emulator)})


async def create_org(request: Request) -> Response:
    """POST {name?, workspace_name?}: a new organization with its machine key."""
    spec = await body(request, OrgCreate, optional=True)
    return json_response(orgs.mint_org(emulator_of(request), spec.name, spec.workspace_name),
                         status=201)


async def token(request: Request) -> Response:
    """GET ?org_id=: a fresh 30-second machine JWT, for curl users and scripts."""
    org_id = query(request, TokenQuery).org_id
    return json_response({"token": orgs.mint_token(emulator_of(request), org_id, TOKEN_LIFETIME),
                          "expires_in": TOKEN_LIFETIME})
