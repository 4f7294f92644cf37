"""Default mappings of a connection (reference §7.8-7.9)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api import caller
from meshes_emulator.errors import UnprocessableEntity, ValidationFailed
from meshes_emulator.http import json_response, read_json
from meshes_emulator.schemas import connections as wire
from meshes_emulator.schemas.common import validate
from meshes_emulator.services import mappings


async def get_default_mapping(request: Request) -> Response:
    emulator, who = caller(request)
    status, row = mappings.get_default(emulator, who.org_id, request.path_params["connection_id"])
    return json_response({"status": status, "mapping": wire.mapping(row)})


async def update_default_mapping(request: Request) -> Response:
    """Every body problem is a 422 here (the operation declares no 400)."""
    emulator, who = caller(request)
    data = await read_json(request)
    try:
        body = validate(wire.MappingUpdate, data)
    except ValidationFailed as exc:
        raise UnprocessableEntity("Unprocessable Entity", detail=exc.detail,
                                  data=exc.data) from None
    row = mappings.put_default(
        emulator, who.org_id, who.created_by, request.path_params["connection_id"], body
    )
    return json_response({"status": "stored", "mapping": wire.mapping(row)})
