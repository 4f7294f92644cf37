"""The access log and request journal, written by one ASGI middleware (outermost).

`RequestRecorder` times each request, notes its status, caller and (for the journal) its body and
error message, then writes one access-log line (logs.py) and keeps the request in the
emulator's `journal.RequestJournal`. Requests to the admin API (`/_emulator/*`) are logged but
not journaled. The hot path only keeps raw bytes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshes_emulator import logs
from meshes_emulator.clock import isoformat
from meshes_emulator.journal import (
    ADMIN_PREFIX,
    BODY_LIMIT,
    ERROR_LIMIT,
    Entry,
    RequestJournal,
    error_message,
)

if TYPE_CHECKING:
    from meshes_emulator.context import Emulator


class RequestRecorder:
    """ASGI middleware: access-log line and journal entry for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emulator = scope["app"].state.emulator
        journal: RequestJournal = emulator.journal
        journal.seen += 1  # the fixture's reset is skipped only when this has not moved
        path: str = scope["path"]
        keep = journal.enabled and not path.startswith(ADMIN_PREFIX)
        if not keep and not logs.ACCESS.isEnabledFor(logs.level_for(path)):
            await self.app(scope, receive, send)
            return
        await self._record(scope, receive, send, emulator, keep)

    async def _record(self, scope: Scope, receive: Receive, send: Send, emulator: Emulator,
                      keep: bool) -> None:
        started = time.perf_counter()
        query = scope.get("query_string", b"").decode("latin-1")
        entry = Entry(seq=0, at="", method=scope["method"], path=scope["path"], query=query)
        chunks: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                entry.body_size += len(body)
                if entry.body_size <= BODY_LIMIT:
                    chunks.append(body)
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            elif message["type"] == "http.response.body" and entry.status >= 400 and \
                    len(entry.answer) < ERROR_LIMIT:
                entry.answer += message.get("body", b"")[:ERROR_LIMIT]
            await send(message)

        try:
            await self.app(scope, recording_receive if keep else receive, recording_send)
        finally:
            entry.duration_ms = (time.perf_counter() - started) * 1000
            entry.caller = logs.who(scope.get("state", {}).get("principal"))
            error = error_message(entry.answer) if entry.answer else None
            logs.log_request(entry.method, entry.path, query, entry.status or 500,
                             entry.duration_ms, entry.caller, error)
            if keep:
                self._keep(entry, scope, chunks, emulator)

    @staticmethod
    def _keep(entry: Entry, scope: Scope, chunks: list[bytes], emulator: Emulator) -> None:
        journal: RequestJournal = emulator.journal
        entry.seq = journal.next_seq()
        entry.at = isoformat(emulator.clock.now())
        entry.status = entry.status or 500
        entry.body = b"".join(chunks) if entry.body_size <= BODY_LIMIT else b""
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                entry.content_type = value.decode("latin-1")
                break
        journal.add(entry)
