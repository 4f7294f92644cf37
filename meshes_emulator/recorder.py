"""The access-log line and the request-journal entry of each HTTP request.

`start` opens a `Recording` (app.EdgeMiddleware calls it for every request): it times the request
and, for the journal, notes its body as the app reads it; `finish` writes one access-log line
(logs.py) and keeps the request in the emulator's `journal.RequestJournal`, with the status and
error answer the edge saw. Requests to the admin API (`/_emulator/*`) are logged but not
journaled. The hot path only keeps raw values: the caller, the clock's instant and the query are
made text when the journal is read, the error message only for a log line.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.types import Message, Receive, Scope

from meshes_emulator import logs
from meshes_emulator.journal import ADMIN_PREFIX, BODY_LIMIT, Entry, error_message

if TYPE_CHECKING:
    from meshes_emulator.context import Emulator


def start(emulator: Emulator, scope: Scope) -> Recording | None:
    """This HTTP request's recording, or None when neither the journal nor the log wants it
    (the request is counted either way: the fixture's reset is skipped only when nothing came)."""
    journal = emulator.journal
    journal.seen += 1
    path: str = scope["path"]
    keep = journal.enabled and not path.startswith(ADMIN_PREFIX)
    if not keep and not logs.ACCESS.isEnabledFor(logs.level_for(path)):
        return None
    return Recording(emulator, scope, keep)


class Recording:
    """One request on its way: its journal entry in the making (kept only when `keep`)."""

    __slots__ = ("began", "chunks", "emulator", "entry", "keep", "scope")

    def __init__(self, emulator: Emulator, scope: Scope, keep: bool) -> None:
        self.emulator = emulator
        self.scope = scope
        self.keep = keep
        self.entry = Entry(seq=0, method=scope["method"], path=scope["path"],
                           query_string=scope.get("query_string", b""))
        self.chunks: list[bytes] = []
        self.began = time.perf_counter()

    def receive(self, receive: Receive) -> Receive:
        """`receive` that notes the body's size and (up to BODY_LIMIT) its bytes, for the journal."""
        if not self.keep:
            return receive
        entry, chunks = self.entry, self.chunks

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                entry.body_size += len(body)
                if entry.body_size <= BODY_LIMIT:
                    chunks.append(body)
            return message

        return recording_receive

    def finish(self, status: int, answer: bytes) -> None:
        """The request ended with `status` (0: no answer started, logged and kept as 500) and, for
        an error, the start of its `answer`: the log line, then the journal entry."""
        entry = self.entry
        entry.duration_ms = (time.perf_counter() - self.began) * 1000
        entry.status = status or 500
        entry.answer = answer
        entry.principal = self.scope.get("state", {}).get("principal")
        if logs.ACCESS.isEnabledFor(logs.level_for(entry.path)):
            logs.log_request(entry.method, entry.path, entry.query, entry.status,
                             entry.duration_ms, entry.caller,
                             error_message(answer) if answer else None)
        if self.keep:
            self._keep()

    def _keep(self) -> None:
        entry, emulator = self.entry, self.emulator
        entry.seq = emulator.journal.next_seq()
        entry.at = emulator.clock.now()
        if entry.body_size:  # the content type only describes a body that is not JSON
            entry.body = b"".join(self.chunks) if entry.body_size <= BODY_LIMIT else b""
            for name, value in self.scope.get("headers", ()):
                if name == b"content-type":
                    entry.content_type = value.decode("latin-1")
                    break
        emulator.journal.add(entry)
