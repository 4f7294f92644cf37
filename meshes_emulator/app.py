"""create_app(settings) -> Starlette: all set-up is eager, so the app works without lifespan."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshes_emulator import recorder
from meshes_emulator.context import Emulator
from meshes_emulator.cors import is_ingest_request, with_cors_headers
from meshes_emulator.engine.dispatcher import Dispatcher
from meshes_emulator.errors import ApiError, error_body
from meshes_emulator.exposure import Exposure
from meshes_emulator.http import json_response
from meshes_emulator.journal import ERROR_LIMIT
from meshes_emulator.routes import all_routes
from meshes_emulator.services import fixtures, orgs, sessions
from meshes_emulator.services.faults import FaultBook
from meshes_emulator.services.group_commit import GroupCommit
from meshes_emulator.services.snapshots import SnapshotBook
from meshes_emulator.settings import Settings
from meshes_emulator.store import orgs as org_store


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the emulator app: open the database, migrate, bootstrap, load fixtures."""
    settings = settings or Settings()
    emulator = Emulator.from_settings(settings)
    continue_ids_after_restart(emulator)
    build_parts(emulator)
    orgs.bootstrap(emulator)
    load_new_fixtures(emulator)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        emulator.dispatcher.work_due()  # what is already due runs (background worker)
        yield
        await emulator.dispatcher.stop()  # the worker and every webhook in flight

    app = Starlette(
        routes=all_routes(),
        middleware=[Middleware(EdgeMiddleware)],
        exception_handlers={ApiError: api_error_handler, HTTPException: http_error_handler},
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    # also a plain attribute: found without Starlette's State.__getattr__ (a Python call and a
    # dict look-up, ~0.8 us), which every request paid three to four times
    object.__setattr__(app.state, "emulator", emulator)
    return app


def continue_ids_after_restart(emulator: Emulator) -> None:
    """On an existing database, draw ids from a fresh stream so none is issued twice."""
    store = emulator.store
    if org_store.get_meta(store, "bootstrapped") is None:
        return  # a fresh database: the seed's own stream
    restarts = int(org_store.get_meta(store, "restarts") or 0) + 1
    with store.transaction():
        org_store.set_meta(store, "restarts", str(restarts))
    emulator.ids.restart(restarts)


def load_new_fixtures(emulator: Emulator) -> None:
    """Load each --fixture file once per database (a restart does not load it twice)."""
    for path in emulator.settings.fixtures:
        marker = f"fixture:{path}"
        if org_store.get_meta(emulator.store, marker) is None:
            fixtures.load_file(emulator, path)
            with emulator.store.transaction():
                org_store.set_meta(emulator.store, marker, "loaded")


def build_parts(emulator: Emulator) -> None:
    """Give the emulator its parts (docs/architecture.md, "Wiring"), then let them catch up with
    the database: attempts a killed process left unfinished are recorded, the `--fault` faults
    added."""
    emulator.group_commit = GroupCommit(emulator)
    emulator.dispatcher = Dispatcher(emulator, ingest_waiting=emulator.group_commit.waiting)
    emulator.faults = FaultBook(emulator)
    emulator.snapshots = SnapshotBook()
    emulator.verify_session = functools.partial(sessions.verify_token, emulator)
    emulator.dispatcher.recover()
    emulator.faults.reset()


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body(), status=exc.status, headers=exc.headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Router 404/405 (and any other HTTPException) in the Meshes error shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        body = error_body(404, "Not Found", f"No route for {request.method} {request.url.path}")
    elif exc.status_code == 405:
        body = error_body(405, "Method Not Allowed",
                          f"{request.method} is not allowed on {request.url.path}")
    else:
        body = error_body(exc.status_code, None, str(exc.detail))
    return json_response(body, status=exc.status_code, headers=dict(exc.headers or {}))


class EdgeMiddleware:
    """The one middleware every HTTP request passes through. From the outside in, it

    1. adds the CORS headers to every answer of the two ingestion POSTs (cors.py);
    2. writes the access-log line and the request-journal entry (recorder.py) of every request,
       refused or failed ones included;
    3. answers anything unexpected with a 500 in the Meshes shape (a 507 when the disk is full),
       captured for the fixture; raised again once the answer has started;
    4. refuses other sites' requests and admin requests without the admin token (exposure.py).

    One layer with one `send` wrapper (`_Exchange`) instead of four of each.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exposure = Exposure()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emulator: Emulator = scope["app"].state.emulator
        recording = recorder.start(emulator, scope)
        exchange = _Exchange(send, is_ingest_request(scope), recording is not None)
        try:
            await self._guarded(scope, receive if recording is None else recording.receive(receive),
                                exchange, emulator)
        finally:
            if recording is not None:
                recording.finish(exchange.status, exchange.answer)

    async def _guarded(self, scope: Scope, receive: Receive, exchange: _Exchange,
                       emulator: Emulator) -> None:
        """Steps 3 and 4: the exposure checks and the app, anything unexpected caught."""
        try:
            refusal, send = self.exposure.answer(scope, exchange.send)
            if refusal is not None:
                await refusal(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        except Exception as exc:
            if exchange.started:
                if not disk_full(exc):
                    emulator.capture(scope.get("method", ""), scope.get("path", ""), exc)
                raise
            await unexpected_error(scope, exc)(scope, receive, exchange.send)


class _Exchange:
    """The answer of one request on its way out: whether it started, its status, the start of an
    error body (when recorded), and the CORS headers added."""

    __slots__ = ("answer", "cors", "downstream", "recorded", "started", "status")

    def __init__(self, downstream: Send, cors: bool, recorded: bool) -> None:
        self.downstream = downstream
        self.cors = cors
        self.recorded = recorded
        self.started = False
        self.status = 0
        self.answer = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            if self.cors:
                message = with_cors_headers(message)
        elif (self.recorded and self.status >= 400 and len(self.answer) < ERROR_LIMIT
              and message["type"] == "http.response.body"):
            self.answer += message.get("body", b"")[:ERROR_LIMIT]
        await self.downstream(message)


def disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL): the host's problem, not a defect."""
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def unexpected_error(scope: Scope, exc: Exception) -> Response:
    """507 when the disk is full (the write was rolled back); else a 500, captured for the fixture."""
    if disk_full(exc):
        return json_response(error_body(
            507, "Insufficient Storage", "The emulator's database or disk is full: nothing was "
            "written. Free disk space (or raise the database's size limit) and retry."), status=507)
    emulator: Emulator = scope["app"].state.emulator
    emulator.capture(scope.get("method", ""), scope.get("path", ""), exc)
    return json_response(error_body(500, None, "Unexpected emulator error: "
                                     f"{type(exc).__name__}"), status=500)
