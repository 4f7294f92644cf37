"""Storage: one SQLite database per emulator. The only package that writes SQL."""

from meshes_emulator.store.db import Store

__all__ = ["Store"]
