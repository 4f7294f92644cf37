"""The in-process server thread, now in `meshes_emulator.embedded` (kept importable here)."""

from meshes_emulator.embedded import ServerThread, StartupError, asgi_request

__all__ = ["ServerThread", "StartupError", "asgi_request"]
