"""/_emulator routes of issue 5: fault plans, moving the clock, explain, and rule_events.

* `GET|POST|DELETE /_emulator/faults`, `GET|DELETE /_emulator/faults/{fault_id}`,
  `POST /_emulator/faults/clear`: the fault plan (docs/behaviour.md);
* `POST /_emulator/clock/advance {seconds}`: move the manual clock, running every attempt that
  falls due at its due instant; returns what ran;
* `GET /_emulator/events/{event_id}/explain`: every rule of the workspace and why it did or did
  not match, with each routed rule's attempts;
* `GET /_emulator/rule-events`: rule_events of every event, oldest first, with filters.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from meshes_emulator.api import emulator_of
from meshes_emulator.clock import isoformat
from meshes_emulator.engine import dispatcher
from meshes_emulator.errors import BadRequest, ValidationFailed
from meshes_emulator.http import json_response, read_json
from meshes_emulator.schemas import events as event_wire
from meshes_emulator.services import clockwork, explain, faults
from meshes_emulator.store import inspect

MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 3600.0
MAX_RULE_EVENTS = 1000


def _kind(request: Request, body: Any = None) -> str | None:
    """The `kind` filter (query first, then body); a body's `"kind": null` is refused (schema)."""
    kind = request.query_params.get("kind")
    present = kind is not None or (isinstance(body, dict) and "kind" in body)
    if kind is None and isinstance(body, dict):
        kind = body.get("kind")
    if present and kind not in ("delivery", "api"):
        raise ValidationFailed([{"param": "kind", "msg": "must be 'delivery' or 'api'"}])
    return kind


async def list_faults(request: Request) -> Response:
    """GET ?kind=: every fault in decision order, with its counters."""
    emulator = emulator_of(request)
    records = [f.as_wire() for f in faults.list_all(emulator, _kind(request))]
    return json_response({"count": len(records), "records": records})


async def add_fault(request: Request) -> Response:
    """POST a fault spec (201 the fault) or a list of them (201 {count, records})."""
    emulator = emulator_of(request)
    body = await read_json(request)
    if isinstance(body, list):
        if not body:
            raise ValidationFailed([{"param": "body", "msg": "must contain at least one fault"}])
        added = faults.add_many(emulator, [as_schema_types(spec) for spec in body])
        records = [f.as_wire() for f in added]
        return json_response({"count": len(records), "records": records}, status=201)
    return json_response(faults.add(emulator, as_schema_types(body)).as_wire(), status=201)


# EmulatorFaultSpec (openapi/emulator.yaml): fields that take no null (those a GET answers as
# null may be posted back as null: the fault as listed can be posted again); these are integers
SPEC_FIELDS = ("kind", "match", "outcome", "schedule", "always", "first", "times", "every",
               "attempts", "probability", "position")
INTEGER_FIELDS = ("status", "first", "times", "every", "budget", "position")


def as_schema_types(spec: Any) -> Any:
    """A fault spec typed as the admin schema says: `null` in a field that takes none is a 400,
    and an integral number such as 503.0 is an integer (JSON Schema's rule)."""
    if not isinstance(spec, dict):
        return spec
    for name in SPEC_FIELDS:
        if name in spec and spec[name] is None:
            raise ValidationFailed([{"param": name, "msg": "must not be null"}])
    typed = {**spec}
    for name in INTEGER_FIELDS:
        if name in typed:
            typed[name] = _integral(typed[name])
    if isinstance(typed.get("attempts"), list):
        typed["attempts"] = [_integral(item) for item in typed["attempts"]]
    return typed


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


async def get_fault(request: Request) -> Response:
    fault = faults.get(emulator_of(request), request.path_params["fault_id"])
    return json_response(fault.as_wire())


async def delete_fault(request: Request) -> Response:
    """DELETE one fault -> the fault as it was (with its counters)."""
    fault = faults.delete(emulator_of(request), request.path_params["fault_id"])
    return json_response(fault.as_wire())


async def clear_faults(request: Request) -> Response:
    """DELETE /faults or POST /faults/clear (optional kind) -> {deleted}."""
    emulator = emulator_of(request)
    body = await read_json(request, required=False) if request.method == "POST" else None
    if body is not None and not isinstance(body, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    return json_response({"deleted": faults.clear(emulator, _kind(request, body))})


async def advance_clock(request: Request) -> Response:
    """POST {seconds}: move the manual clock forward, running what falls due on the way."""
    emulator = emulator_of(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest(detail="The request body must be a JSON object")
    seconds = body.get("seconds")
    if (isinstance(seconds, bool) or not isinstance(seconds, int | float)
            or not math.isfinite(seconds) or not 0 <= seconds <= MAX_ADVANCE_SECONDS):  # fmt: skip
        raise ValidationFailed([{"param": "seconds",
                                 "msg": "must be a number of seconds from 0 to 10 years"}])  # fmt: skip
    clock = clockwork.manual_clock(emulator)
    start = clock.now()
    summary = await clockwork.advance_to(emulator, start + timedelta(seconds=seconds))
    stats = dispatcher.get(emulator).stats()
    return json_response({"from": isoformat(start), **summary.as_dict(), **stats})


async def explain_event(request: Request) -> Response:
    return json_response(explain.explain(emulator_of(request), request.path_params["event_id"]))


async def list_rule_events(request: Request) -> Response:
    """GET: rule_events (RuleEvent shape) of every event, oldest first; exact-match filters."""
    emulator = emulator_of(request)
    query = request.query_params
    filters = {name: query[name] for name in inspect.RULE_EVENT_FILTERS if query.get(name)}
    limit = MAX_RULE_EVENTS
    raw = query.get("limit")
    if raw is not None:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= MAX_RULE_EVENTS:
            raise ValidationFailed([{"param": "limit", "msg": "must be an integer from 1 to 1000"}])
        limit = int(raw)
    rows = inspect.list_rule_events(emulator.store, filters, limit)
    records = [{**event_wire.rule_event(r), "next_attempt_at": r["due_at"]} for r in rows]
    return json_response({"count": len(records), "records": records})


def routes() -> list[BaseRoute]:
    return [
        Route("/faults", list_faults, methods=["GET"]),
        Route("/faults", add_fault, methods=["POST"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Route("/faults/clear", clear_faults, methods=["POST"]),
        Route("/faults/{fault_id}", get_fault, methods=["GET"]),
        Route("/faults/{fault_id}", delete_fault, methods=["DELETE"]),
        Route("/clock/advance", advance_clock, methods=["POST"]),
        Route("/events/{event_id}/explain", explain_event, methods=["GET"]),
        Route("/rule-events", list_rule_events, methods=["GET"]),
    ]
