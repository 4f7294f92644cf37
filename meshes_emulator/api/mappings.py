"""Default mappings of a connection (reference §7.8-7.9). PLACEHOLDER: issue 3."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api._placeholder import not_built


async def get_default_mapping(request: Request) -> Response:
    raise not_built("getConnectionDefaultMappings")


async def update_default_mapping(request: Request) -> Response:
    raise not_built("updateConnectionDefaultMappings")
