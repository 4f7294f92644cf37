"""/_emulator/connections/*: let a test control a connection's live action data and state.

* `GET|PUT|DELETE /_emulator/connections/{connection_id}/action-data`: read, replace (any JSON
  object) or restore the generated live data served by `GET /connections/{id}/actions`;
* `POST /_emulator/connections/{connection_id}/deactivate` `{reason?}`: mark it inactive with a
  ConnectionInactiveReason (default `manually_inactivated`);
* `POST /_emulator/connections/{connection_id}/activate`: active again.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import body, emulator_of
from meshes_emulator.context import Emulator
from meshes_emulator.errors import BadRequest
from meshes_emulator.http import json_response, read_json
from meshes_emulator.schemas import connections as wire
from meshes_emulator.schemas.admin import Deactivate
from meshes_emulator.services import connections


def _action_data(emulator: Emulator, row: dict[str, Any]) -> Response:
    return json_response({
        "connection_id": row["id"],
        "source": "generated" if row["action_data"] is None else "stored",
        "action_data": connections.live_action_data(emulator, row),
    })


async def get_action_data(request: Request) -> Response:
    emulator = emulator_of(request)
    return _action_data(emulator, connections.get_any_org(emulator, request.path_params["connection_id"]))


async def put_action_data(request: Request) -> Response:
    """Body: the whole action-data object, e.g. `{"lists": [{"id": "5", "name": "VIP"}]}`."""
    emulator = emulator_of(request)
    data: Any = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest(detail="The action data must be a JSON object")
    return _action_data(emulator, connections.set_action_data(
        emulator, request.path_params["connection_id"], data))


async def delete_action_data(request: Request) -> Response:
    emulator = emulator_of(request)
    return _action_data(emulator, connections.set_action_data(
        emulator, request.path_params["connection_id"], None))


async def deactivate(request: Request) -> Response:
    spec = await body(request, Deactivate, optional=True)
    row = connections.set_active(emulator_of(request), request.path_params["connection_id"],
                                 False, spec.reason)
    return json_response(wire.connection(row))


async def activate(request: Request) -> Response:
    row = connections.set_active(emulator_of(request), request.path_params["connection_id"], True)
    return json_response(wire.connection(row))
