"""/_emulator/snapshots: take, list, restore and delete named snapshots of the whole state.

* `POST /_emulator/snapshots {name}` -> 201 the snapshot (a snapshot of that name is replaced);
* `GET /_emulator/snapshots` -> `{count, records}`;
* `POST /_emulator/snapshots/{name}/restore` -> the snapshot, its state now current;
* `DELETE /_emulator/snapshots/{name}` -> the snapshot as it was.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import body, emulator_of, many, one
from meshes_emulator.schemas.admin import SnapshotTake
from meshes_emulator.services import snapshots


async def take_snapshot(request: Request) -> Response:
    spec = await body(request, SnapshotTake)
    return one(snapshots.take(emulator_of(request), spec.name), status=201)


async def list_snapshots(request: Request) -> Response:
    return many(snapshots.list_all(emulator_of(request)))


async def restore_snapshot(request: Request) -> Response:
    return one(snapshots.restore(emulator_of(request), request.path_params["name"]))


async def delete_snapshot(request: Request) -> Response:
    return one(snapshots.delete(emulator_of(request), request.path_params["name"]))
