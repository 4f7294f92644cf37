"""What `serve` prints while it runs: one line per request, one per delivery attempt.

Everything goes through `logging` (loggers `meshes_emulator.access` and
`meshes_emulator.delivery`), so the pytest fixture's records land in pytest's log capture and
`serve` only adds a stderr handler (`configure`). Requests to the admin API (`/_emulator/*`) are
logged at DEBUG, others at INFO; a delivery attempt at INFO, its final failure at WARNING.
No secret is ever logged: a caller is shown by its kind, organization, workspace and key id
(an access key, a publishable key's name, a session id). A request answered with an error
also shows the error's message.

A record carries its fields in `record.meshes` (a dict) for the JSON format.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import queue
import sys
import threading
import time
from typing import Any, Protocol

ACCESS = logging.getLogger("meshes_emulator.access")
DELIVERY = logging.getLogger("meshes_emulator.delivery")
ROOT = logging.getLogger("meshes_emulator")
LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")


class _Principal(Protocol):
    kind: str
    org_id: str
    created_by: str
    workspace_id: str | None


def who(principal: _Principal | None) -> dict[str, Any]:
    """The caller without its secret: kind, org, workspace and key id (None when anonymous)."""
    if principal is None:
        return {}
    return {"kind": principal.kind, "org_id": principal.org_id,
            "workspace_id": principal.workspace_id, "key": principal.created_by}


def level_for(path: str) -> int:
    """DEBUG for the admin API (the dashboard and the test toolkit call it), else INFO."""
    return logging.DEBUG if path.startswith("/_emulator") else logging.INFO


def log_request(method: str, path: str, query: str, status: int, duration_ms: float,
                caller: dict[str, Any], error: str | None = None) -> None:
    """One access-log line (cheap when the level is off)."""
    level = level_for(path)
    if not ACCESS.isEnabledFor(level):
        return
    target = f"{path}?{query}" if query else path
    fields = {"method": method, "path": path, "query": query, "status": status,
              "duration_ms": round(duration_ms, 2), "principal": caller or None, "error": error}
    ACCESS.log(level, "%s %s %d %.1fms %s%s", method, target, status, duration_ms,
               _who_text(caller), f": {error}" if error else "", extra={"meshes": fields})


def _who_text(caller: dict[str, Any]) -> str:
    if not caller:
        return "anonymous"
    parts = [f"{caller['kind']}={caller['key']!r}", f"org={caller['org_id']}"]
    if caller.get("workspace_id"):
        parts.append(f"workspace={caller['workspace_id']}")
    return " ".join(parts)


class _Context(Protocol):
    @property
    def attempt_number(self) -> int: ...
    @property
    def event(self) -> Any: ...


class _Outcome(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str | None: ...


def attempt_finished(context: _Context, rule_event: dict[str, Any], outcome: _Outcome,
                     next_due: str | None) -> None:
    """Log one finished delivery attempt (called by engine/machine.py when an attempt ends)."""
    status = rule_event.get("status")
    level = logging.WARNING if status == "failed" else logging.INFO
    if not DELIVERY.isEnabledFor(level):
        return
    event_name = context.event.get("event") if isinstance(context.event, dict) else None
    fields = {"event_id": rule_event.get("event_id"), "event": event_name,
              "rule_id": rule_event.get("rule_id"), "connection_id": rule_event.get("connection_id"),
              "attempt": context.attempt_number, "outcome": outcome.code, "status": status,
              "next_due": next_due, "message": outcome.message}
    then = f"retry due {next_due}" if next_due else str(status)
    detail = f" ({outcome.message})" if outcome.message and status != "completed" else ""
    DELIVERY.log(level, "delivery event=%s (%s) rule=%s connection=%s attempt %d: %s%s -> %s",
                 fields["event_id"], event_name, fields["rule_id"], fields["connection_id"],
                 context.attempt_number, outcome.code, detail, then, extra={"meshes": fields})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                                "level": record.levelname.lower(), "logger": record.name,
                                "message": record.getMessage()}
        data.update(getattr(record, "meshes", None) or {})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


FLUSH_SECONDS = 2.0  # the longest a flush (at exit) waits for the writer


class BackgroundHandler(logging.Handler):
    """Hands records to a writer thread: the server never waits for stderr.

    At most `capacity` records wait; beyond that they are dropped and counted, and the writer
    says how many once it catches up (a reader that does not keep up, or never reads, cannot
    slow down or block the emulator). The thread writes with os.write, holding no Python lock
    that interpreter shutdown would need, and is a daemon.
    """

    def __init__(self, formatter: logging.Formatter, fd: int = 2, capacity: int = 10_000) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.fd = fd
        self.queue: queue.Queue[logging.LogRecord] = queue.Queue(capacity)
        self.dropped = 0
        self.writing = True  # False once stderr is closed: nothing more will be written
        threading.Thread(target=self._write_forever, name="meshes-log-writer",
                         daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def _write_forever(self) -> None:
        while True:
            records = [self.queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(records) < 256:
                    records.append(self.queue.get_nowait())
            lines = [self.format(record) for record in records]
            if self.dropped:
                dropped, self.dropped = self.dropped, 0
                lines.append(f"meshes-emulator: {dropped} log line(s) dropped: stderr was not "
                             "read fast enough")
            written = self._write(("\n".join(lines) + "\n").encode("utf-8", "replace"))
            for _ in records:
                self.queue.task_done()
            if not written:
                with self.queue.all_tasks_done:
                    self.writing = False
                    self.queue.all_tasks_done.notify_all()
                return

    def flush(self) -> None:
        """Wait until the writer has written what it was handed (at most FLUSH_SECONDS): at exit
        (atexit, see `configure`) the last lines are not lost with the daemon thread."""
        deadline = time.monotonic() + FLUSH_SECONDS
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks and self.writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.queue.all_tasks_done.wait(left)

    def _write(self, data: bytes) -> bool:
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:  # stderr closed: stop writing, keep serving
            return False
        return True


def configure(level: str = "info", log_format: str = "text", quiet: bool = False) -> None:
    """`serve`: the emulator's records to stderr (`quiet`: warnings and errors only)."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")
    try:
        handler: logging.Handler = BackgroundHandler(formatter, sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # a stderr without a file (a test runner's)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
    # flushed at exit by atexit itself: uvicorn's logging.config.dictConfig (when `serve` builds
    # its server) drops every existing handler from the list logging.shutdown flushes
    atexit.register(handler.flush)
    ROOT.handlers[:] = [handler]
    ROOT.setLevel("WARNING" if quiet else level.upper())
    ROOT.propagate = False
