"""A tiny threaded HTTP receiver on 127.0.0.1 for webhook tests (no sleeps, no network)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: str = ""  # the sender's address:port (one per connection)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    block: threading.Event | None = None  # wait on this before answering (timeouts)
    drip: float | None = None  # send the body one byte every `drip` seconds
    chunked: int | None = None  # send the body with `Transfer-Encoding: chunked`, chunks of this size
    hang_up: bool = False  # close the connection after answering, without `Connection: close`


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a listen backlog for many deliveries at once (the default is 5)
    hung_up: threading.Event  # set whenever the server closed a connection

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.hung_up.set()


class Receiver:
    """Records every request; answers per path with a configured Reply (default 200)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: dict[str, Reply] = {}
        self.arrived = threading.Event()  # set whenever a request comes in
        self._count = threading.Condition()
        self.busy = 0  # requests being answered now
        self.most_busy = 0  # the most ever answered at once
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:  # the sender died mid-request (a SIGKILL test): not received
                    self.close_connection = True
                    return
                with receiver._count:
                    receiver.busy += 1
                    receiver.most_busy = max(receiver.most_busy, receiver.busy)
                    peer = "{}:{}".format(*self.client_address[:2])
                    seen = Received(self.command, self.path, dict(self.headers.items()), body, peer)
                    receiver.requests.append(seen)
                    receiver.arrived.set()
                    receiver._count.notify_all()
                try:
                    self._answer(receiver.replies.get(self.path.split("?")[0], Reply()))
                finally:
                    with receiver._count:
                        receiver.busy -= 1

            def _answer(self, reply: Reply) -> None:
                if reply.block is not None:
                    reply.block.wait(10)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.hang_up:  # as a server whose idle timeout ends a kept-alive connection
                    self.close_connection = True
                if reply.chunked:
                    self._answer_chunked(reply.body, reply.chunked)
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip is None:
                    self.wfile.write(reply.body)
                    return
                for index in range(len(reply.body)):
                    try:
                        self.wfile.write(reply.body[index : index + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up
                        return
                    time.sleep(reply.drip)

            def _answer_chunked(self, body: bytes, size: int) -> None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(body), size):
                    piece = body[start : start + size]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.hung_up = self.hung_up = threading.Event()
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def wait_for(self, path: str, count: int, timeout: float = 30) -> bool:
        """Block until `count` requests reached `path` (False on timeout)."""
        with self._count:
            return self._count.wait_for(lambda: len(self.on(path)) >= count, timeout)

    def peers(self, path: str) -> set[str]:
        """The connections (sender address:port) requests to `path` came on."""
        return {r.peer for r in self.on(path)}

    def on(self, path: str) -> list[Received]:
        """The requests received on `path`."""
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for reply in self.replies.values():
            if reply.block is not None:
                reply.block.set()
        self.server.shutdown()
        self.server.server_close()
