"""/_emulator: the delivery queue: settle (run due work now) and idle."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import emulator_of
from meshes_emulator.http import json_response
from meshes_emulator.services import clockwork


async def settle(request: Request) -> Response:
    """POST: run every attempt due now (waits for one in flight); returns what ran."""
    return json_response(await clockwork.settle(emulator_of(request)))


async def idle(request: Request) -> Response:
    """GET: whether nothing is due now and nothing is in flight."""
    return json_response(clockwork.queue_state(emulator_of(request)))
