"""/_emulator engine routes: the delivery sink, settle (run due work now) and idle."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from meshes_emulator.api import emulator_of
from meshes_emulator.engine import dispatcher
from meshes_emulator.errors import ValidationFailed
from meshes_emulator.http import json_response
from meshes_emulator.store import events as event_store

DELIVERY_FILTERS = {
    "workspace": "workspace_id",
    "connection": "connection_id",
    "event": "event_id",
    "rule": "rule_id",
    "integration_type": "integration_type",
}
MAX_DELIVERIES = 1000


def delivery(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "workspace": row["workspace_id"],
        "connection": row["connection_id"],
        "event_id": row["event_id"],
        "rule": row["rule_id"],
        "rule_event_id": row["rule_event_id"],
        "attempt_id": row["attempt_id"],
        "attempt_number": row["attempt_number"],
        "integration_type": row["integration_type"],
        "action": row["action"],
        "outcome_code": row["outcome_code"],
        "http_status": row["http_status"],
        "request": row["request"],
        "created_at": row["created_at"],
    }


async def list_deliveries(request: Request) -> Response:
    """GET: what each connection sent or would have sent, oldest first."""
    emulator = emulator_of(request)
    query = request.query_params
    filters = {column: query[name] for name, column in DELIVERY_FILTERS.items() if query.get(name)}
    limit = MAX_DELIVERIES
    if query.get("limit") is not None:
        raw = query["limit"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= MAX_DELIVERIES:
            raise ValidationFailed([{"param": "limit", "msg": "must be an integer from 1 to 1000"}])
        limit = int(raw)
    rows = event_store.list_deliveries(emulator.store, filters, limit)
    return json_response({"count": len(rows), "records": [delivery(r) for r in rows]})


async def settle(request: Request) -> Response:
    """POST: run every attempt due now (waits for one in flight); returns what ran."""
    engine = dispatcher.get(emulator_of(request))
    summary = await engine.drain()
    return json_response({**summary.as_dict(), **engine.stats()})


async def idle(request: Request) -> Response:
    """GET: whether nothing is due now and nothing is in flight."""
    return json_response(dispatcher.get(emulator_of(request)).stats())


def routes() -> list[BaseRoute]:
    return [
        Route("/deliveries", list_deliveries, methods=["GET"]),
        Route("/settle", settle, methods=["POST"]),
        Route("/idle", idle, methods=["GET"]),
    ]
