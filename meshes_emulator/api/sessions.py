"""Embed sessions (reference §11). PLACEHOLDER: issue 6."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.api._placeholder import not_built


async def list_sessions(request: Request) -> Response:
    raise not_built("listSessions")


async def create_session(request: Request) -> Response:
    raise not_built("createSession")


async def revoke_session(request: Request) -> Response:
    raise not_built("revokeSession")


async def refresh_session(request: Request) -> Response:
    raise not_built("refreshSession")
