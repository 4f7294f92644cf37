"""pytest-meshes: the `meshes_server` fixture, a real local Meshes emulator per test session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_meshes.handle import MeshesServer

__all__ = ["MeshesServer"]


def __getattr__(name: str) -> Any:
    """`MeshesServer` on first use: loading the plugin imports nothing heavy (httpx, jwt)."""
    if name == "MeshesServer":
        from pytest_meshes.handle import MeshesServer

        return MeshesServer
    raise AttributeError(name)
