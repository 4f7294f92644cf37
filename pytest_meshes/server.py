"""Run the emulator with uvicorn in a daemon thread on 127.0.0.1, port 0.

The server is `meshes_emulator.serving.FastServer`: it answers its first request a few
milliseconds after `start()` and stops in a few milliseconds (the stock uvicorn server polls
every 100 ms), which matters once per test session and per xdist worker.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from typing import Any, TypeVar

from meshes_emulator.serving import FastServer, config

T = TypeVar("T")


class ServerThread:
    """Start/stop one uvicorn server for an ASGI app in a background thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.server = FastServer(config(app, host=host, port=port, timeout_graceful_shutdown=1))
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
            raise RuntimeError(f"meshes emulator failed to start: {self.error!r}")
        self.loop = self.server.loop
        self.port = self.server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def call(self, coroutine: Awaitable[T], timeout: float = 60.0) -> T:
        """Run a coroutine on the server's event loop (from another thread) and return its result."""
        assert self.loop is not None, "the server is not running"
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.server.request_stop()
        self.thread.join(timeout=5)
