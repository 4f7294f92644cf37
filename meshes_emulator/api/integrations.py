"""The integrations catalog (reference §8): static package data, paged like any list."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator import catalog
from meshes_emulator.http import json_response
from meshes_emulator.pagination import page_request
from meshes_emulator.paging import SMALL_LIST_LIMIT, envelope


def _record(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "_rowid"}


async def list_integrations(request: Request) -> Response:
    """Alphabetical by type; `limit`/`cursor` work as on every list (cursor = position)."""
    req = page_request(request, SMALL_LIST_LIMIT)
    records = catalog.integrations()
    total = len(records)
    # Keyset paging walks descending "rowids": give the first record the highest one.
    rows = [{"_rowid": total - index, **record} for index, record in enumerate(records)]
    if req.after is not None:
        rows = [row for row in rows if row["_rowid"] < req.after]
    return json_response(envelope(rows[: req.limit + 1], req, _record))
