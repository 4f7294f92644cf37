"""HTTP handlers, one module per resource: parse -> authorize -> call a service -> serialize."""

from __future__ import annotations

from starlette.requests import Request

from meshes_emulator.auth import Principal
from meshes_emulator.context import Emulator


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def caller(request: Request) -> tuple[Emulator, Principal]:
    """The emulator and the authenticated caller of this request."""
    return emulator_of(request), principal_of(request)
