"""The emulator's web pages: embed launch pages (behavior §5.5) and the local dashboard.

Both serve one static single-page app (web/static: shell.html, app.js, app.css; no build step,
nothing fetched from elsewhere). The app reads the public API: with the session token the host
posts (`meshes:auth`) in embed mode, with a machine token from /_emulator/token in local mode.
"""

from meshes_emulator.web.pages import dashboard, embed_routes

__all__ = ["dashboard", "embed_routes"]
