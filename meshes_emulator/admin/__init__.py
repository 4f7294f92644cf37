"""The emulator's own control API, mounted at /_emulator (never under /api).

One route table (`routes.py`); one module per noun, each handler: parse (schemas/admin.py) ->
call a service -> serialize. The helpers below are the handlers' shared shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.context import Emulator
from meshes_emulator.http import json_response, query_params, read_json
from meshes_emulator.schemas.admin import parse

M = TypeVar("M", bound=BaseModel)


class Wire(Protocol):
    """A control object (a fault, a snapshot) as the admin API shows it."""

    def as_wire(self) -> dict[str, Any]: ...


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


async def body(request: Request, model: type[M], *, optional: bool = False) -> M:
    """The JSON object body as `model` (400 otherwise). `optional`: no body (or a falsy JSON
    value) is `{}`."""
    data = await read_json(request, required=not optional)
    return parse(model, (data or {}) if optional else data)


def query(request: Request, model: type[M]) -> M:
    """The query parameters as `model` (a repeated key: the last value)."""
    return parse(model, dict(query_params(request)))


def one(item: Wire, status: int = 200) -> Response:
    return json_response(item.as_wire(), status=status)


def listing(records: list[Any], status: int = 200, **before: Any) -> Response:
    """`{...before, count, records}`."""
    return json_response({**before, "count": len(records), "records": records}, status=status)


def many(items: Sequence[Wire], status: int = 200) -> Response:
    """`{count, records}` of control objects."""
    return listing([item.as_wire() for item in items], status=status)
