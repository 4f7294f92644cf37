"""meshes-emulator: the whole Meshes API, locally, deterministic, with failures you configure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["MeshesTestCase", "Running", "Settings", "__version__", "create_app", "running"]

from meshes_emulator.settings import Settings
from meshes_emulator.testing import MeshesTestCase, Running, running
from meshes_emulator.version import __version__

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the Starlette app for one emulator (an in-memory database by default)."""
    from meshes_emulator.app import create_app as _create_app

    return _create_app(settings)


def __getattr__(name: str) -> Any:  # pragma: no cover - helpful error only
    raise AttributeError(name)
