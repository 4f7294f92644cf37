"""GET /_emulator/requests: the request journal (meshes_emulator/journal.py), with filters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from meshes_emulator.api import emulator_of
from meshes_emulator.errors import ValidationFailed
from meshes_emulator.http import json_response
from meshes_emulator.journal import STATUS_FILTER

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def _integer(raw: str | None, name: str, low: int, high: int) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not low <= int(raw) <= high:
        raise ValidationFailed([{"param": name, "msg": f"must be an integer from {low} to {high}"}])
    return int(raw)


async def list_requests(request: Request) -> Response:
    """GET ?method&path&status&org&workspace&since&limit: journaled requests, oldest first."""
    journal = emulator_of(request).journal
    query = request.query_params
    status = query.get("status")
    if status is not None and not STATUS_FILTER.match(status):
        raise ValidationFailed([{"param": "status", "msg": "must be a status such as 404, or a "
                                                          "class such as 4xx"}])
    limit = _integer(query.get("limit"), "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    since = _integer(query.get("since"), "since", 0, 10**12)
    records = journal.select(method=query.get("method"), path=query.get("path"), status=status,
                             org=query.get("org"), workspace=query.get("workspace"),
                             since=since, limit=limit)
    return json_response({"enabled": journal.enabled, "capacity": journal.size,
                          "count": len(records), "records": records})


def routes() -> list[BaseRoute]:
    return [Route("/requests", list_requests, methods=["GET"])]
