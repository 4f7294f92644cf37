"""Shared pieces for operations that are routed before they are built."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api import caller
from meshes_emulator.errors import NotImplementedInEmulator
from meshes_emulator.http import json_response
from meshes_emulator.pagination import envelope, page_request
from meshes_emulator.services import workspaces


def not_built(operation: str) -> NotImplementedInEmulator:
    return NotImplementedInEmulator(operation)


async def empty_workspace_page(request: Request) -> Response:
    """A workspace list whose resource is not built yet: checks the workspace, returns no rows."""
    emulator, who = caller(request)
    workspaces.get(emulator, who.org_id, request.path_params["workspace_id"])
    req = page_request(request)
    return json_response(envelope([], req, dict))
