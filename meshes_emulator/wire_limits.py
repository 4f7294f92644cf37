"""Limits on the wire that uvicorn's httptools protocol does not enforce itself (issue 13).

* header size: a request whose line and headers pass `max_header_bytes` is answered 431 and the
  connection closed (httptools has no such option; a 128 MiB header took 35 s to parse);
* header timeout: a connection that sends no complete request head within `header_timeout`
  seconds (from its opening, or from the first byte of its next request) is closed; idle
  keep-alive connections between requests are closed by uvicorn's `timeout_keep_alive`;
* connection cap: connections past `max_connections` (by default below the process's file
  descriptor limit) get a 503 and are closed at once, so idle clients cannot exhaust the fds.

Refusals carry the Meshes error body. The counting costs a few attribute updates per received
chunk; a request that arrives whole in one chunk never arms a timer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from meshes_emulator.errors import error_body

DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5  # uvicorn's timeout_keep_alive: idle connections between requests
FD_RESERVE = 128  # descriptors kept for the database, webhook clients and logs
MAX_DEFAULT_CONNECTIONS = 4096
UNLIMITED_FDS = 65536
LINGER_SECONDS = 1.0  # a refused connection is read (and discarded) this long before closing


def default_max_connections() -> int:
    """The connection cap: the soft file descriptor limit minus a reserve (at least 16)."""
    try:
        import resource
    except ImportError:  # not a Unix
        return MAX_DEFAULT_CONNECTIONS
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = UNLIMITED_FDS
    return max(16, min(soft - FD_RESERVE, MAX_DEFAULT_CONNECTIONS))


@dataclass(frozen=True)
class ConnectionLimits:
    """The wire limits of one server (docs/reliability.md, "Limits")."""

    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    max_connections: int = field(default_factory=default_max_connections)


REASONS = {431: "Request Header Fields Too Large", 503: "Service Unavailable"}


def refusal(status: int, detail: str) -> bytes:
    """A complete HTTP/1.1 response in the Meshes error shape that closes the connection."""
    body = orjson.dumps(error_body(status, None, detail))
    head = (f"HTTP/1.1 {status} {REASONS[status]}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the header size, header timeout and connection cap."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: ConnectionLimits = getattr(config, "connection_limits", None) \
            or ConnectionLimits()
        self._awaiting_head = True  # no complete request head since the last one (or opening)
        self._head_bytes = 0
        self._chunk = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(503, f"The emulator serves at most {self.limits.max_connections} "
                         "connections at once; close idle ones and retry")
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # discarded until the client closes (see _refuse)
        self._chunk = len(data)
        super().data_received(data)
        if not self._awaiting_head or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > self.limits.max_header_bytes:  # (the parser keeps the partial head)
            self._refuse(431, "The request line and headers exceed "
                         f"{self.limits.max_header_bytes} bytes")
        elif self._head_timer is None:
            self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_head = True
        # the chunk this request began in is added after parsing, and may end an earlier body:
        # it is not counted (the limit holds to within one chunk)
        self._head_bytes = -self._chunk

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._awaiting_head and not self._refused and not self.transport.is_closing():
            self.transport.close()  # silently: browsers open speculative connections too

    def _refuse(self, status: int, detail: str) -> None:
        """Answer, then close after the client's EOF or LINGER_SECONDS (a lingering close:
        closing with unread request bytes would send a reset that can destroy the answer)."""
        self._disarm()
        self._refused = True
        self.flow.resume_reading()
        self.transport.write(refusal(status, detail))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._head_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
