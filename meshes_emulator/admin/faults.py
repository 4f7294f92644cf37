"""/_emulator/faults: the fault plan (docs/behaviour.md): list, add, read, delete, clear."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import emulator_of, many, one, query
from meshes_emulator.errors import ValidationFailed
from meshes_emulator.http import json_response, query_params, read_json
from meshes_emulator.schemas.admin import FaultsClear, FaultsQuery, fault_spec, json_object, parse
from meshes_emulator.services import faults


async def list_faults(request: Request) -> Response:
    """GET ?kind=: every fault in decision order, with its counters."""
    return many(faults.list_all(emulator_of(request), query(request, FaultsQuery).kind))


async def add_fault(request: Request) -> Response:
    """POST a fault spec (201 the fault) or a list of them (201 {count, records})."""
    emulator = emulator_of(request)
    data = await read_json(request)
    if isinstance(data, list):
        if not data:
            raise ValidationFailed([{"param": "body", "msg": "must contain at least one fault"}])
        return many(faults.add_many(emulator, [fault_spec(spec) for spec in data]), status=201)
    return one(faults.add(emulator, fault_spec(data)), status=201)


async def get_fault(request: Request) -> Response:
    return one(faults.get(emulator_of(request), request.path_params["fault_id"]))


async def delete_fault(request: Request) -> Response:
    """DELETE one fault -> the fault as it was (with its counters)."""
    return one(faults.delete(emulator_of(request), request.path_params["fault_id"]))


async def clear_faults(request: Request) -> Response:
    """DELETE /faults or POST /faults/clear {kind?}: `?kind=` first, then the body's."""
    data = await read_json(request, required=False) if request.method == "POST" else None
    sent = json_object({} if data is None else data)
    if "kind" in query_params(request):
        kind = query(request, FaultsQuery).kind
    else:
        kind = parse(FaultsClear, sent).kind
    return json_response({"deleted": faults.clear(emulator_of(request), kind)})
