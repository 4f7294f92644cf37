"""Rules (reference §9). PLACEHOLDER: built by the rules/events work (issue 4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api._placeholder import empty_workspace_page, not_built


async def list_workspace_rules(request: Request) -> Response:
    return await empty_workspace_page(request)


async def list_rules(request: Request) -> Response:
    raise not_built("getRules")


async def create_rule(request: Request) -> Response:
    raise not_built("createRule")


async def get_rule(request: Request) -> Response:
    raise not_built("getRule")


async def delete_rule(request: Request) -> Response:
    raise not_built("deleteRule")
