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
