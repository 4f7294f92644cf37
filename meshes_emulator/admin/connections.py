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
from starlette.routing import BaseRoute, Route

from meshes_emulator.api import emulator_of
from meshes_emulator.errors import BadRequest, ValidationFailed
from meshes_emulator.http import json_response, read_json
from meshes_emulator.schemas import connections as wire
from meshes_emulator.services import connections


def _action_data_body(emulator: Any, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "connection_id": row["id"],
        "source": "generated" if row["action_data"] is None else "stored",
        "action_data": connections.live_action_data(emulator, row),
    }


async def get_action_data(request: Request) -> Response:
    emulator = emulator_of(request)
    row = connections.get_any_org(emulator, request.path_params["connection_id"])
    return json_response(_action_data_body(emulator, row))


async def put_action_data(request: Request) -> Response:
    """Body: the whole action-data object, e.g. `{"lists": [{"id": "5", "name": "VIP"}]}`."""
    emulator = emulator_of(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest(detail="The action data must be a JSON object")
    row = connections.set_action_data(emulator, request.path_params["connection_id"], data)
    return json_response(_action_data_body(emulator, row))


async def delete_action_data(request: Request) -> Response:
    emulator = emulator_of(request)
    row = connections.set_action_data(emulator, request.path_params["connection_id"], None)
    return json_response(_action_data_body(emulator, row))


async def deactivate(request: Request) -> Response:
    emulator = emulator_of(request)
    body = await read_json(request, required=False) or {}
    if not isinstance(body, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    reason = body.get("reason", "manually_inactivated")
    if not isinstance(reason, str):
        raise ValidationFailed([{"param": "reason", "msg": "must be a string"}])
    row = connections.set_active(emulator, request.path_params["connection_id"], False, reason)
    return json_response(wire.connection(row))


async def activate(request: Request) -> Response:
    emulator = emulator_of(request)
    row = connections.set_active(emulator, request.path_params["connection_id"], True)
    return json_response(wire.connection(row))


def routes() -> list[BaseRoute]:
    path = "/connections/{connection_id}"
    return [
        Route(f"{path}/action-data", get_action_data, methods=["GET"]),
        Route(f"{path}/action-data", put_action_data, methods=["PUT"]),
        Route(f"{path}/action-data", delete_action_data, methods=["DELETE"]),
        Route(f"{path}/deactivate", deactivate, methods=["POST"]),
        Route(f"{path}/activate", activate, methods=["POST"]),
    ]
