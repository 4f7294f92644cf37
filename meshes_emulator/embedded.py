"""An emulator inside this process: a server thread and a typed door into it.

`meshes_emulator.running(**settings)` (testing.py) and the pytest plugin are built on these:

* `ServerThread`: uvicorn (`serving.FastServer`) in a daemon thread on 127.0.0.1, port 0; it
  answers its first request a few milliseconds after `start()` and stops in a few milliseconds;
* `Door`: typed calls into the running emulator, each run on the server's event loop (no HTTP,
  no JSON on the way): the per-test reset with fresh credentials in one call, and the errors the
  server captured, read where they are kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from meshes_emulator.context import CapturedError, Emulator
from meshes_emulator.serving import FastServer, config

T = TypeVar("T")


class StartupError(RuntimeError):
    """The emulator could not start; the cause is chained (`raise ... from`)."""


class ServerThread:
    """Start/stop one uvicorn server for an ASGI app in a background thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.server = FastServer(config(app, host=host, port=port, timeout_graceful_shutdown=1))
        app.state.emulator.attach_server(self.server)  # group commit and the worker read its load
        self.thread = threading.Thread(target=self._run, name="meshes-emulator", daemon=True)
        self.error: BaseException | None = None
        self.host = host
        self.port = port
        self.loop: asyncio.AbstractEventLoop | None = None

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # re-raised by start()
            self.error = exc
        finally:
            self.server.ready.set()

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        self.server.ready.wait(timeout)
        if not self.server.started:
            self.stop()
            cause = self.error or TimeoutError(f"no answer within {timeout} s")
            raise StartupError(f"meshes emulator failed to start: {cause!r}") from cause
        self.loop = self.server.loop
        self.port = self.server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def call(self, coroutine: Awaitable[T], timeout: float = 60.0) -> T:
        """Run a coroutine on the server's event loop (from another thread) and return its result."""
        assert self.loop is not None, "the server is not running"
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def run(self, function: Callable[[], T], timeout: float = 60.0) -> T:
        """Run a plain function on the server's event loop (between two of its callbacks, so
        it never interleaves with a request or a delivery) and return its result."""
        assert self.loop is not None, "the server is not running"
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def step() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function())
                except BaseException as exc:
                    future.set_exception(exc)

        self.loop.call_soon_threadsafe(step)
        return future.result(timeout)

    def request(self, method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
        """One HTTP request handled by the app on the server's loop, without a socket.

        Same routing, middleware and answers as over HTTP (what `MeshesServer.admin` uses when
        the emulator runs in this process: a fraction of an HTTP round trip).
        """
        return self.call(asgi_request(self.app, method, path, body, headers or {},
                                      (self.host, self.port)), timeout)

    def stop(self) -> None:
        self.server.request_stop()
        if self.thread.is_alive():
            self.thread.join(timeout=5)


async def asgi_request(app: Any, method: str, path: str, body: bytes, headers: dict[str, str],
                       server: tuple[str, int]) -> tuple[int, bytes]:
    """Call an ASGI app with one complete HTTP request; returns (status, body)."""
    raw_path, _, query = path.partition("?")
    raw_headers = [(b"host", f"{server[0]}:{server[1]}".encode())]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
             "query_string": query.encode(), "root_path": "", "headers": raw_headers,
             "client": ("127.0.0.1", 0), "server": server}
    sent = False
    status = 500
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


@dataclass(frozen=True)
class Credentials:
    """The default organization's credentials, as a test uses them."""

    org_id: str
    access_key: str
    secret_key: str
    workspace_id: str | None
    publishable_key: str | None


@dataclass(frozen=True)
class ResetOptions:
    """What a reset starts from: seed, clock mode and start instant, seed files (None: the
    emulator's configured ones), strict mode (None: kept)."""

    seed: int | None = None
    clock: str | None = None
    start: datetime | None = None
    fixtures: tuple[str, ...] | None = None
    strict: bool | None = None


class Door:
    """Typed calls into an emulator running in this process (see the module docstring)."""

    def __init__(self, emulator: Emulator, thread: ServerThread) -> None:
        self.emulator = emulator
        self.thread = thread
        self.touched = False  # set when a caller reached into the Emulator object itself
        # The last reset: its options, the credentials after it, and the activity it left.
        self._last: tuple[ResetOptions, Credentials, tuple[int, int]] | None = None

    def credentials(self) -> Credentials:
        return self.thread.run(lambda: default_credentials(self.emulator))

    def reset(self, options: ResetOptions) -> Credentials:
        """Back to the bootstrap state and the default credentials after it: one hop onto the
        server's loop, nothing serialized. When nothing happened since the last reset with the
        same options (no request reached the app, no row changed, no error was captured, no
        caller reached into the Emulator), the state is that reset's: nothing to do."""
        if self._last is not None and self._untouched_since(self._last[0], self._last[2], options):
            return self._last[1]
        from meshes_emulator.services import admin

        def reset() -> tuple[Credentials, tuple[int, int]]:
            admin.reset(self.emulator, seed=options.seed, start=options.start,
                        fixture_paths=options.fixtures, clock=options.clock,
                        strict=options.strict)
            return default_credentials(self.emulator), self.activity()

        self._last = None
        credentials, activity = self.thread.run(reset)
        self.touched = False
        self._last = (options, credentials, activity)
        return credentials

    def activity(self) -> tuple[int, int]:
        """What moves whenever the emulator's state may change: requests that reached the app
        (admin calls included) and rows changed in the database (background deliveries too)."""
        return self.emulator.journal.seen, self.emulator.store.total_changes()

    def _untouched_since(self, options: ResetOptions, activity: tuple[int, int],
                         wanted: ResetOptions) -> bool:
        return (options == wanted and not self.touched and not self.emulator.errors
                and self.activity() == activity)

    def errors(self) -> list[CapturedError]:
        """Unexpected exceptions the server raised since the last reset (read in place: the
        list is only ever appended to or cleared, each one step under the GIL)."""
        return list(self.emulator.errors)


def default_credentials(emulator: Emulator) -> Credentials:
    """The first organization's first machine key and first workspace (with its key)."""
    from meshes_emulator.store import orgs

    row = orgs.first_credentials(emulator.store)
    if row is None or row["access_key"] is None:
        raise LookupError("the emulator has no organization with a machine key")
    return Credentials(row["org_id"], row["access_key"], row["secret_key"],
                       row["workspace_id"], row["public_key"])
