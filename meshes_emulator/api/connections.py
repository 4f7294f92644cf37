"""Connections (reference §7). PLACEHOLDER: built by the connections work (issue 3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api._placeholder import empty_workspace_page, not_built


async def list_workspace_connections(request: Request) -> Response:
    return await empty_workspace_page(request)


async def list_connections(request: Request) -> Response:
    raise not_built("getConnections")


async def create_connection(request: Request) -> Response:
    raise not_built("createConnection")


async def get_connection(request: Request) -> Response:
    raise not_built("getConnection")


async def update_connection(request: Request) -> Response:
    raise not_built("updateConnection")


async def delete_connection(request: Request) -> Response:
    raise not_built("deleteConnection")


async def get_connection_actions(request: Request) -> Response:
    raise not_built("getConnectionActions")


async def get_connection_fields(request: Request) -> Response:
    raise not_built("getConnectionFields")
