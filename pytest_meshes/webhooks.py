"""`meshes_webhook_receiver`: a local HTTP server that records webhook deliveries.

It listens on 127.0.0.1 (a port of its own), answers 200 (or what `respond` asks), records
every request with its headers and body, and checks the `X-Meshes-Signature` of each against
its `secret`. Point a webhook connection at it with `connection_metadata()`:

    def test_signup_webhook(meshes_server, meshes_webhook_receiver):
        receiver = meshes_webhook_receiver
        ...create a webhook connection with metadata=receiver.connection_metadata(),
           a rule with metadata={"action": "send_webhook"}, then emit an event...
        meshes_server.settle()
        [delivery] = receiver.deliveries
        assert delivery.json["payload"]["email"] == "ada@example.com"
        assert delivery.signature_valid

At teardown the fixture fails the test when a delivery carried a signature that does not
verify (set `receiver.secret = None` to skip the check).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from meshes_emulator.webhooks import SIGNATURE_HEADER, verify_signature

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

DEFAULT_SECRET = "meshes-webhook-receiver-test-secret"


@dataclass
class Delivery:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool | None  # None: no signature header, or no secret to check against

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        """A header by name, case-insensitively."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b'{"ok": true}'
    times: int | None = None  # None: until changed


@dataclass
class WebhookReceiver:
    """The running receiver: `url`, `secret`, `deliveries`, `respond()`."""

    secret: str | None = DEFAULT_SECRET
    path: str = "/meshes-webhook"
    signature_header: str = SIGNATURE_HEADER
    deliveries: list[Delivery] = field(default_factory=list)
    _answers: list[_Answer] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None, "the receiver is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def connection_metadata(self, **extra: Any) -> dict[str, Any]:
        """Webhook connection metadata that sends here, signed with `secret` (sha256)."""
        metadata: dict[str, Any] = {"url": self.url}
        if self.secret:
            metadata.update(signing_algorithm="sha256", signing_secret=self.secret)
        return {**metadata, **extra}

    def respond(self, status: int, body: Any = None, *, times: int | None = None) -> None:
        """Answer the next `times` requests (or all, when None) with `status` and `body`."""
        raw = json.dumps(body).encode() if body is not None else b""
        with self._lock:
            self._answers.append(_Answer(status, raw, times))

    def _answer(self) -> _Answer:
        with self._lock:
            while self._answers:
                answer = self._answers[0]
                if answer.times is None:
                    return answer
                if answer.times > 0:
                    answer.times -= 1
                    if answer.times == 0:
                        self._answers.pop(0)
                    return answer
                self._answers.pop(0)
        return _Answer()

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        signature = next((v for k, v in headers.items()
                          if k.lower() == self.signature_header.lower()), None)
        valid = None if signature is None or not self.secret else \
            verify_signature(body, signature, self.secret)
        with self._lock:
            self.deliveries.append(Delivery(method, path, headers, body, valid))

    def bad_signatures(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.signature_valid is False]

    def start(self) -> WebhookReceiver:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # only when used

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver._record(self.command, self.path, dict(self.headers.items()), body)
                answer = receiver._answer()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_POST = do_PUT = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the deliveries are in `receiver.deliveries`."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="meshes-webhook-receiver",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def meshes_webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local webhook receiver for this test (see the module docstring)."""
    running = WebhookReceiver().start()
    try:
        yield running
    finally:
        running.stop()
    bad = running.bad_signatures()
    if bad:
        raise AssertionError(f"meshes_webhook_receiver: {len(bad)} delivery(ies) with a signature "
                             f"that does not verify with the receiver's secret: "
                             f"{[d.path for d in bad]}")
