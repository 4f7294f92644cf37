"""/_emulator: the emulator itself: health, info, reset, captured errors, leniency warnings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import body, emulator_of, listing
from meshes_emulator.errors import BadRequest
from meshes_emulator.http import json_response
from meshes_emulator.schemas.admin import ResetBody
from meshes_emulator.services import admin
from meshes_emulator.services.fixtures import FixtureError

HEALTH_BODY = b'{"status":"ok"}'


async def health(request: Request) -> Response:
    """The cheapest route: for readiness checks and as a benchmark baseline."""
    return Response(HEALTH_BODY, media_type="application/json")


async def info(request: Request) -> Response:
    return json_response(admin.info(emulator_of(request)))


async def reset(request: Request) -> Response:
    """POST {seed?, start?, clock?, fixtures?: [path], strict?}: back to the bootstrap state."""
    emulator = emulator_of(request)
    spec = await body(request, ResetBody, optional=True)
    strict = admin.strict_mode(emulator, spec.strict, "strict" in spec.model_fields_set)
    fixtures = tuple(spec.fixtures) if spec.fixtures is not None else None
    try:
        admin.reset(emulator, seed=spec.seed, start=spec.start, fixture_paths=fixtures,
                    clock=spec.clock, strict=strict)
    except FixtureError as exc:
        raise BadRequest(detail=str(exc)) from None
    return json_response(admin.reset_state(emulator))


async def captured_errors(request: Request) -> Response:
    return json_response(admin.captured_errors(emulator_of(request)))


async def warnings(request: Request) -> Response:
    """The leniency warnings since the last reset, oldest first (leniency.py)."""
    strict, records = admin.warnings(emulator_of(request))
    return listing(records, strict=strict)
