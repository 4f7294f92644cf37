"""The leniency policy: checks the emulator inferred warn by default and refuse in strict mode.

Checks the reference documents (required fields, types, enums, documented patterns and lengths,
documented status codes) are errors in every mode. Checks the emulator inferred (marked inferred
or UNKNOWN in the reference, or derived from the integrations catalog) accept the input with a
warning by default, and answer the documented 400 body (`error.data` = `[{param, msg}]`) in
strict mode: `serve --strict`, `Settings(strict=True)`, `@pytest.mark.meshes(strict=True)`,
ini `meshes_strict`, `POST /_emulator/reset {"strict": true}`. docs/behaviour.md has the table.

A warning is visible three ways: an `X-Meshes-Emulator-Warning` response header per problem
(`routes.api` adds the `header_values`), a `meshes_emulator` log line, and the list
`GET /_emulator/warnings` (`meshes_server.warnings()`), cleared by reset. Nothing is collected
when nothing warns: a request then costs one ContextVar lookup.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from meshes_emulator.errors import ApiError, ValidationFailed

HEADER = "X-Meshes-Emulator-Warning"
MAX_KEPT = 1000  # the list keeps the newest warnings
MAX_HEADERS = 20  # per response; the rest is summed up in one more header
MAX_HEADER_CHARS = 512
SUFFIX = "accepted: an inferred check, refused in strict mode"

logger = logging.getLogger("meshes_emulator")

Problem = dict[str, str]


class Check(StrEnum):
    """The inferred checks (docs/behaviour.md, "Leniency policy")."""

    EVENT_PAYLOAD = "event.payload"
    EVENT_RESOURCE_ID = "event.resource_id"
    RULE_ACTION = "rule.metadata.action"
    CONNECTION_METADATA = "connection.metadata"
    SESSION_RESOURCE = "session.resource"
    WORKSPACE_UPDATE_NAME = "workspace.update.name"
    MAPPING_WORKSPACE = "mapping.workspace_id"


Soft = tuple[Check, Problem]

# The warnings of the request being handled (made by the first warning, read by routes.api).
_pending: ContextVar[list[dict[str, Any]] | None] = ContextVar("meshes_warnings", default=None)


@dataclass
class Leniency:
    """The mode (strict or not) and the warnings recorded since the last reset."""

    strict: bool = False
    records: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_KEPT))

    def reset(self, strict: bool) -> None:
        self.strict = strict
        self.records.clear()

    def check(self, check: Check, problems: Sequence[Problem], where: str = "",
              refuse: Callable[[list[Problem]], ApiError] = ValidationFailed) -> None:
        """Problems an inferred check found: `refuse` (a 400) in strict mode, else warnings."""
        if not problems:
            return
        if self.strict:
            raise refuse(list(problems))
        self.warn([(check, problem) for problem in problems], where)

    def warn(self, found: Sequence[Soft], where: str = "") -> None:
        """Record warnings: the list, the log and (inside a request) the response headers."""
        pending = _pending.get()
        if pending is None:
            pending = []
            _pending.set(pending)
        for check, problem in found:
            message = f"{where}{problem['param']}: {problem['msg']} ({SUFFIX})"
            record = {"check": check.value, "param": problem["param"], "msg": problem["msg"],
                      "message": message}
            self.records.append(record)
            if len(pending) < MAX_KEPT:  # bounded even outside a request (start-up seed files)
                pending.append(record)
            logger.warning("meshes-emulator warning: %s", message)

    def listing(self) -> list[dict[str, Any]]:
        return list(self.records)


def take_pending() -> list[dict[str, Any]] | None:
    """The current request's warnings (None when there were none); forgets them."""
    pending = _pending.get()
    if pending is not None:
        _pending.set(None)
    return pending


def header_value(text: str) -> str:
    """`text` as a safe header value: ASCII, one line, bounded."""
    safe = text.encode("ascii", "backslashreplace").decode("ascii")
    safe = "".join(ch if " " <= ch <= "~" else " " for ch in safe)
    return safe[:MAX_HEADER_CHARS]


def header_values(pending: list[dict[str, Any]], method: str, path: str) -> list[str]:
    """The `X-Meshes-Emulator-Warning` values of a request's warnings (at most MAX_HEADERS, then
    a count); the records learn the request's method and path."""
    for record in pending:
        record.setdefault("method", method)
        record.setdefault("path", path)
    values = [header_value(record["message"]) for record in pending[:MAX_HEADERS]]
    if len(pending) > MAX_HEADERS:
        more = len(pending) - MAX_HEADERS
        values.append(f"{more} more warning(s): GET /_emulator/warnings")
    return values
