"""pytest-meshes: the `meshes_server` fixture, a real local Meshes emulator per test session."""

from pytest_meshes.handle import MeshesServer

__all__ = ["MeshesServer"]
