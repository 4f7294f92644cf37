"""/_emulator/snapshots: take, list, restore and delete named snapshots of the whole state.

* `POST /_emulator/snapshots {name}` -> 201 the snapshot (a snapshot of that name is replaced);
* `GET /_emulator/snapshots` -> `{count, records}`;
* `POST /_emulator/snapshots/{name}/restore` -> the snapshot, its state now current;
* `DELETE /_emulator/snapshots/{name}` -> the snapshot as it was.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from meshes_emulator.api import emulator_of
from meshes_emulator.errors import BadRequest
from meshes_emulator.http import json_response, read_json
from meshes_emulator.services import snapshots


async def take_snapshot(request: Request) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    snapshot = snapshots.take(emulator_of(request), snapshots.check_name(body.get("name")))
    return json_response(snapshot.as_wire(), status=201)


async def list_snapshots(request: Request) -> Response:
    records = [s.as_wire() for s in snapshots.list_all(emulator_of(request))]
    return json_response({"count": len(records), "records": records})


async def restore_snapshot(request: Request) -> Response:
    snapshot = snapshots.restore(emulator_of(request), request.path_params["name"])
    return json_response(snapshot.as_wire())


async def delete_snapshot(request: Request) -> Response:
    snapshot = snapshots.delete(emulator_of(request), request.path_params["name"])
    return json_response(snapshot.as_wire())


def routes() -> list[BaseRoute]:
    return [
        Route("/snapshots", list_snapshots, methods=["GET"]),
        Route("/snapshots", take_snapshot, methods=["POST"]),
        Route("/snapshots/{name}/restore", restore_snapshot, methods=["POST"]),
        Route("/snapshots/{name}", delete_snapshot, methods=["DELETE"]),
    ]
