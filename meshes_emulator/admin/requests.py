"""GET /_emulator/requests: the request journal (meshes_emulator/journal.py), with filters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import emulator_of, listing, query
from meshes_emulator.schemas.admin import RequestsQuery


async def list_requests(request: Request) -> Response:
    """GET ?method&path&status&org&workspace&since&limit: journaled requests, oldest first."""
    journal = emulator_of(request).journal
    spec = query(request, RequestsQuery)
    records = journal.select(method=spec.method, path=spec.path, status=spec.status, org=spec.org,
                             workspace=spec.workspace, since=spec.since, limit=spec.limit)
    return listing(records, enabled=journal.enabled, capacity=journal.size)
