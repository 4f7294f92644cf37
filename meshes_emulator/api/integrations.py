"""The integrations catalog (reference §8). PLACEHOLDER: issue 3."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api._placeholder import not_built


async def list_integrations(request: Request) -> Response:
    raise not_built("getIntegrations")
