"""Run the emulator with uvicorn in a daemon thread on 127.0.0.1, port 0."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


class _QuietServer(uvicorn.Server):
    """A uvicorn server that never touches signal handlers (it runs in a thread)."""

    def install_signal_handlers(self) -> None:  # older uvicorn
        pass


class ServerThread:
    """Start/stop one uvicorn server for an ASGI app in a background thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                access_log=False, lifespan="on", timeout_graceful_shutdown=1)
        self.server = _QuietServer(config)
        self.thread = threading.Thread(target=self._run, name="meshes-emulator", daemon=True)
        self.error: BaseException | None = None
        self.host = host
        self.port = port

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # re-raised by start()
            self.error = exc

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"meshes emulator failed to start: {self.error!r}")
            time.sleep(0.001)
        sockets = self.server.servers[0].sockets
        self.port = sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
