"""uvicorn, configured for speed, with a server that starts and stops in milliseconds.

Used by `meshes-emulator serve` and by the pytest fixture's in-process server thread:

* httptools and uvloop when installed (uvicorn[standard] brings both), no access log, no proxy
  header rewriting (the emulator listens on its own address);
* port 0 goes through `loop.create_server(host, port)`, whose sockets are created with
  IPPROTO_TCP so Nagle's algorithm is switched off on every accepted connection (a socket created
  by hand without IPPROTO_TCP would keep it on, and each response would wait for a delayed ACK);
* the wire limits of `wire_limits.py`: request heads over 64 KiB answer 431, a connection that
  sends no complete head within 10 s is closed, idle keep-alive connections after 5 s, and
  connections past the cap (below the file descriptor limit) answer 503;
* `FastServer` wakes from an event instead of polling every 100 ms, and its shutdown closes idle
  keep-alive connections at once and waits for in-flight requests in 1 ms steps instead of the
  stock unconditional 100 ms sleep and 100 ms polls;
* a server that owns its process (it runs in the main thread: `meshes-emulator serve`, not the
  pytest fixture's thread) freezes the heap it started with (`gc.freeze`, no collection: start-up
  leaves no cyclic garbage): a full collection then walks what requests left alive, not the
  ~40k objects of the imports and the app, which took ~30 ms (once or twice in three rounds of
  the ingest benchmark: a stall of the longest requests, not of the p99; ~1 ms once frozen).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import threading
from types import FrameType
from typing import Any

import uvicorn

from meshes_emulator.wire_limits import KEEP_ALIVE_SECONDS, ConnectionLimits, LimitedHttpToolsProtocol

DATE_REFRESH_SECONDS = 1.0  # the Date header is refreshed once a second, as uvicorn does
SHUTDOWN_STEP_SECONDS = 0.001


class EmulatorConfig(uvicorn.Config):
    """uvicorn's configuration plus the wire limits its protocol reads (`wire_limits`)."""

    def __init__(self, app: Any, *, connection_limits: ConnectionLimits, **options: Any) -> None:
        super().__init__(app, **options)
        self.connection_limits = connection_limits


def config(app: Any, host: str = "127.0.0.1", port: int = 0,
           limits: ConnectionLimits | None = None, **overrides: Any) -> uvicorn.Config:
    """A uvicorn configuration tuned for the emulator (see the module docstring)."""
    limits = limits or ConnectionLimits()
    httptools = importlib.util.find_spec("httptools") is not None
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 2,
        "http": LimitedHttpToolsProtocol if httptools else "h11",
        "ws": LazyWebSocketsProtocol if LazyWebSocketsProtocol.available() else "none",
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }
    if not httptools:  # h11: uvicorn's own cap (503 per request, not per connection)
        options["limit_concurrency"] = limits.max_connections
    options.update(overrides)
    return EmulatorConfig(app, connection_limits=limits, **options)


class LazyWebSocketsProtocol:
    """uvicorn's WebSocket protocol ("auto": websockets, else wsproto), imported on the first
    upgrade request instead of at every start (~6-10 ms: the emulator serves no WebSocket route,
    so an upgrade is only ever refused, as uvicorn's own protocol refuses it)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

        assert AutoWebSocketsProtocol is not None  # available() said so
        return AutoWebSocketsProtocol(*args, **kwargs)

    @staticmethod
    def available() -> bool:
        return any(importlib.util.find_spec(name) for name in ("websockets", "wsproto"))


class FastServer(uvicorn.Server):
    """A uvicorn server that wakes on `request_stop()` at once and shuts down in milliseconds.

    `ready` is set once the listening socket is open (or start-up failed). Signal handlers are
    installed only when it runs in the main thread (uvicorn's own rule).
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def startup(self, sockets: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()
        if threading.current_thread() is threading.main_thread():
            gc.freeze()  # this process is the server's: the start-up heap stays (module docstring)

    def requests_in_flight(self) -> int:
        """Requests received whose handling has not ended (started or waiting to start): the
        load signal `Emulator.attach_server` hands to group commit and the delivery worker."""
        return len(self.server_state.tasks)

    def requests_received(self) -> int:
        """Requests answered since the server started (uvicorn counts a request once its
        response is complete): the count the delivery worker's pacing reads."""
        return self.server_state.total_requests

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the server runs on (once started)."""
        return self._loop

    @property
    def port(self) -> int:
        return int(self.servers[0].sockets[0].getsockname()[1])

    async def main_loop(self) -> None:
        assert self._wake is not None
        while not await self.on_tick(0):  # counter 0: refresh the Date header every wake-up
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), DATE_REFRESH_SECONDS)

    def request_stop(self) -> None:
        """Ask the server to stop, from any thread."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop just closed
                loop.call_soon_threadsafe(wake.set)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self.request_stop()

    async def shutdown(self, sockets: Any = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive connections close now, busy ones after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(self.config.timeout_graceful_shutdown or 0)
        while (self.server_state.connections or self.server_state.tasks) and not self.force_exit:
            if loop.time() >= deadline:
                for task in self.server_state.tasks:
                    task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
                break
            await asyncio.sleep(SHUTDOWN_STEP_SECONDS)
        if not self.force_exit:
            await self.lifespan.shutdown()
