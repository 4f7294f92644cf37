"""The emulator's own control API, mounted at /_emulator (never under /api)."""
