"""Routes of the web pages: /embed/workspace/{page}?launch=..., /embed/static/*, / (dashboard)."""

from __future__ import annotations

import functools
import html
from importlib import resources
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from meshes_emulator.api import emulator_of
from meshes_emulator.auth import MACHINE, SESSION, authenticate
from meshes_emulator.errors import ApiError, NotFound, ValidationFailed
from meshes_emulator.http import json_response, query_params
from meshes_emulator.schemas import sessions as wire
from meshes_emulator.services import sessions, workspaces
from meshes_emulator.store import sessions as store

STATIC_TYPES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
PAGE_TITLES = {"dashboard": "Dashboard", "connections": "Connections", "rules": "Rules",
               "events": "Events"}


@functools.cache
def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def _shell(config: dict[str, Any], title: str) -> str:
    """The app shell with its configuration inlined as JSON (no secrets in it)."""
    data = orjson.dumps(config).decode().replace("<", "\\u003c")
    return (_static("shell.html").decode()
            .replace("{{title}}", html.escape(title))
            .replace("{{config}}", data))


def _csp(frame_ancestors: str) -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {frame_ancestors}")


def _error_page(status: int, message: str) -> HTMLResponse:
    body = (_static("error.html").decode()
            .replace("{{status}}", str(status)).replace("{{message}}", html.escape(message)))
    return HTMLResponse(body, status_code=status, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": _csp("*")})


async def static_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_TYPES:
        raise NotFound("Not Found", detail=f"No static asset named {name}")
    return Response(_static(name), media_type=STATIC_TYPES[name],
                    headers={"Cache-Control": "no-cache"})


async def launch_page(request: Request) -> Response:
    """The iframe's first document: consume the launch token, then serve the app shell."""
    emulator = emulator_of(request)
    page = request.path_params["page"]
    if page not in wire.LAUNCH_PAGES:
        return _error_page(404, f"Unknown embed page: {page}")
    try:
        row = sessions.open_launch(emulator, query_params(request).get("launch"), page)
    except ApiError as exc:
        return _error_page(exc.status, exc.detail or exc.message)
    stored = wire.origins_of(row)
    origins = _usable_origins(stored)
    config = {
        "mode": "embed", "page": page, "session_id": row["session_id"],
        "workspace_id": row["workspace_id"], "role": row["role"],
        "session_type": row["session_type"], "resource": row["resource"],
        "resource_id": row["resource_id"], "scopes": wire.scopes_of(row),
        "allowed_origins": origins, "pages": list(wire.PAGES_BY_TYPE[row["session_type"]]),
    }
    ancestors = " ".join(origins) if origins else ("'none'" if stored else "*")
    return HTMLResponse(_shell(config, PAGE_TITLES[page]), headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": _csp(ancestors)})


def _usable_origins(stored: list[str]) -> list[str]:
    """The session's origins fit for a header (a row from before POST /sessions checked them
    as it does now may hold anything): each normalized, the others dropped."""
    usable = (sessions.normalize_origin(origin) for origin in stored)
    return [origin for origin in usable if origin is not None]


async def dashboard(request: Request) -> Response:
    """The local dashboard at "/": every workspace of every organization, no session needed.

    Who may open it is exposure.py's decision (open on loopback, admin token beyond it).
    """
    config = {"mode": "local", "page": "dashboard", "pages": [*wire.LAUNCH_PAGES]}
    return HTMLResponse(_shell(config, "Emulator dashboard"), headers={
        "Cache-Control": "no-store", "Content-Security-Policy": _csp("'self'")})


async def metrics(request: Request) -> Response:
    """Counts for the dashboard page: session token (its scope) or machine token (?workspace_id)."""
    emulator = emulator_of(request)
    who = authenticate(emulator, request.headers, MACHINE | SESSION)
    resource = resource_id = None
    if who.kind == "session" and who.session is not None:
        workspace_id = who.session["workspace_id"]
        if who.session["session_type"] == "resource":
            resource, resource_id = who.session["resource"], who.session["resource_id"]
    else:
        workspace_id = query_params(request).get("workspace_id") or ""
        if not workspace_id:
            raise ValidationFailed([{"param": "workspace_id", "msg": "is required"}])
    row = workspaces.get(emulator, who.org_id, workspace_id)
    db = emulator.store
    events = store.event_counts(db, workspace_id, resource, resource_id)
    body = {
        "workspace": {"id": row["id"], "name": row["name"]},
        "scope": {"session_type": who.session["session_type"] if who.session else None,
                  "resource": resource, "resource_id": resource_id},
        "events": {"total": sum(events.values()), "by_status": events},
        "deliveries": {"by_status": store.rule_event_counts(db, workspace_id, resource, resource_id)},
        "attempts": {"by_outcome": store.attempt_outcomes(db, workspace_id, resource, resource_id)},
        "rules": store.rule_count(db, workspace_id, resource, resource_id),
        "connections": None if resource else store.connection_count(db, workspace_id),
    }
    return json_response(body)


def embed_routes() -> list[BaseRoute]:
    return [
        Route("/workspace/{page}", launch_page, methods=["GET"]),
        Route("/static/{name}", static_asset, methods=["GET"]),
        Route("/api/metrics", metrics, methods=["GET"]),
    ]
