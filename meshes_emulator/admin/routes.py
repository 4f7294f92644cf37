"""/_emulator/*: health, reset, credentials, organizations, clock, captured errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from meshes_emulator import __version__
from meshes_emulator.admin import connections as connections_admin
from meshes_emulator.admin import engine as engine_admin
from meshes_emulator.admin import export as export_admin
from meshes_emulator.admin import faults as faults_admin
from meshes_emulator.admin import requests as requests_admin
from meshes_emulator.admin import snapshots as snapshots_admin
from meshes_emulator.api import emulator_of
from meshes_emulator.clock import ManualClock, isoformat, parse_instant
from meshes_emulator.errors import BadRequest, Conflict, ValidationFailed
from meshes_emulator.http import json_response, read_json
from meshes_emulator.services import admin, clockwork, orgs
from meshes_emulator.services.fixtures import FixtureError

HEALTH_BODY = b'{"status":"ok"}'


async def health(request: Request) -> Response:
    """The cheapest route: for readiness checks and as a benchmark baseline."""
    return Response(HEALTH_BODY, media_type="application/json")


async def info(request: Request) -> Response:
    emulator = emulator_of(request)
    return json_response({"version": __version__, "db": emulator.settings.db_path,
                          "seed": emulator.ids.seed, "clock": clock_state(emulator)})


async def reset(request: Request) -> Response:
    """POST {seed?, start?, clock?, fixtures?: [path], strict?}: back to the bootstrap state."""
    emulator = emulator_of(request)
    body = await read_json(request, required=False) or {}
    if not isinstance(body, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    seed = _optional_int(body, "seed")
    start = _optional_instant(body, "start")
    paths = body.get("fixtures")
    clock = body.get("clock")
    strict = _strict_mode(emulator, body)
    if clock not in (None, "manual", "system"):
        raise ValidationFailed([{"param": "clock", "msg": "must be 'manual' or 'system'"}])
    if paths is not None and not (isinstance(paths, list) and all(isinstance(p, str)
                                                                    for p in paths)):
        raise ValidationFailed([{"param": "fixtures", "msg": "must be a list of file paths"}])
    try:
        admin.reset(emulator, seed=seed, start=start,
                    fixture_paths=tuple(paths) if paths is not None else None, clock=clock,
                    strict=strict)
    except FixtureError as exc:
        raise BadRequest(detail=str(exc)) from None
    return json_response({"reset": True, "seed": emulator.ids.seed,
                          "clock": clock_state(emulator), "strict": emulator.leniency.strict})


async def credentials(request: Request) -> Response:
    emulator = emulator_of(request)
    return json_response({"base_url": emulator.base_url,
                          "api_url": emulator.base_url + "/api/v1",
                          "organizations": orgs.credentials(emulator)})


async def create_org(request: Request) -> Response:
    """POST {name?, workspace_name?}: a new organization with its machine key."""
    emulator = emulator_of(request)
    body = await read_json(request, required=False) or {}
    if not isinstance(body, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    name = body.get("name")
    workspace_name = body.get("workspace_name", "Default Workspace")
    if "name" in body and not isinstance(name, str):  # the schema says string: null is refused
        raise ValidationFailed([{"param": "name", "msg": "must be a string"}])
    if workspace_name is not None and not isinstance(workspace_name, str):
        raise ValidationFailed([{"param": "workspace_name", "msg": "must be a string"}])
    return json_response(orgs.mint_org(emulator, name, workspace_name), status=201)


async def token(request: Request) -> Response:
    """GET ?org_id=: a fresh 30-second machine JWT, for curl users and scripts."""
    emulator = emulator_of(request)
    org_id = request.query_params.get("org_id")
    return json_response({"token": orgs.mint_token(emulator, org_id), "expires_in": 30})


def clock_state(emulator: Any) -> dict[str, Any]:
    return {"mode": emulator.clock.mode, "now": isoformat(emulator.clock.now())}


async def get_clock(request: Request) -> Response:
    return json_response(clock_state(emulator_of(request)))


async def set_clock(request: Request) -> Response:
    """POST {now: RFC 3339}: move a manual clock (never backwards)."""
    emulator = emulator_of(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    if not isinstance(emulator.clock, ManualClock):
        raise Conflict("Clock is not manual",
                       detail="Start the emulator with --clock manual to set the time")
    instant = _optional_instant(body, "now")
    if instant is None:
        raise ValidationFailed([{"param": "now", "msg": "is required"}])
    if instant < emulator.clock.now():
        raise Conflict("Clock cannot go backwards",
                       detail=f"now is {isoformat(emulator.clock.now())}")
    await clockwork.advance_to(emulator, instant)  # due attempts run at their own due instants
    return json_response(clock_state(emulator))


async def captured_errors(request: Request) -> Response:
    emulator = emulator_of(request)
    return json_response([{"method": e.method, "path": e.path, "error": e.error,
                           "traceback": e.traceback} for e in emulator.errors])


async def warnings(request: Request) -> Response:
    """The leniency warnings since the last reset, oldest first (leniency.py)."""
    emulator = emulator_of(request)
    records = emulator.leniency.listing()
    return json_response({"strict": emulator.leniency.strict, "count": len(records),
                          "records": records})


def _strict_mode(emulator: Any, body: dict[str, Any]) -> bool:
    """`strict` of a reset: absent keeps the mode, null is the configured one (serve --strict)."""
    if "strict" not in body:
        return bool(emulator.leniency.strict)
    value = body["strict"]
    if value is None:
        return bool(emulator.settings.strict)
    if not isinstance(value, bool):
        raise ValidationFailed([{"param": "strict", "msg": "must be a boolean"}])
    return value


def _optional_int(body: dict[str, Any], key: str) -> int | None:
    """An integer field; null or absent -> None; 5.0 is an integer (JSON Schema's rule)."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed([{"param": key, "msg": "must be an integer"}])
    return value


def _optional_instant(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_instant(value)
    except ValueError:
        raise ValidationFailed([{"param": key, "msg": "must be an RFC 3339 timestamp"}]) from None


def admin_routes() -> list[BaseRoute]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/info", info, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/credentials", credentials, methods=["GET"]),
        Route("/orgs", create_org, methods=["POST"]),
        Route("/token", token, methods=["GET"]),
        Route("/clock", get_clock, methods=["GET"]),
        Route("/clock", set_clock, methods=["POST"]),
        Route("/errors", captured_errors, methods=["GET"]),
        Route("/warnings", warnings, methods=["GET"]),
        *engine_admin.routes(),
        *connections_admin.routes(),
        *faults_admin.routes(),
        *snapshots_admin.routes(),
        *export_admin.routes(),
        *requests_admin.routes(),
    ]
