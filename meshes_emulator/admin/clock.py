"""/_emulator/clock: read, set and advance the clock (due attempts run on the way)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import body, emulator_of
from meshes_emulator.errors import ValidationFailed
from meshes_emulator.http import json_response, read_json
from meshes_emulator.schemas.admin import ClockAdvance, ClockSet, json_object, parse
from meshes_emulator.services import admin, clockwork


async def get_clock(request: Request) -> Response:
    return json_response(admin.clock_state(emulator_of(request)))


async def set_clock(request: Request) -> Response:
    """POST {now: RFC 3339}: move a manual clock (never backwards)."""
    emulator = emulator_of(request)
    data = json_object(await read_json(request))  # a JSON object, then 409 before its fields
    clockwork.require_settable(emulator)
    spec = parse(ClockSet, data)
    if spec.now is None:
        raise ValidationFailed([{"param": "now", "msg": "is required"}])
    await clockwork.set_now(emulator, spec.now)
    return json_response(admin.clock_state(emulator))


async def advance_clock(request: Request) -> Response:
    """POST {seconds}: move the manual clock forward, running what falls due on the way."""
    spec = await body(request, ClockAdvance)
    return json_response(await clockwork.advance(emulator_of(request), spec.seconds))
