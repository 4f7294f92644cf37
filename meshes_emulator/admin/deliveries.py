"""GET /_emulator/deliveries: the delivery sink, what each connection sent or would have sent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import emulator_of, listing, query
from meshes_emulator.schemas.admin import DeliveriesQuery, delivery, filters
from meshes_emulator.services import inspection


async def list_deliveries(request: Request) -> Response:
    """GET: sink records oldest first; exact-match filters."""
    spec = query(request, DeliveriesQuery)
    rows = inspection.deliveries(emulator_of(request), filters(spec), spec.limit)
    return listing([delivery(row) for row in rows])
