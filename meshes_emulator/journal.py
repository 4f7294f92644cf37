"""The request journal: what the last N HTTP requests asked and got.

`RequestJournal` keeps the entries `recorder.RequestRecorder` (the ASGI middleware) makes, for
`GET /_emulator/requests`, the dashboard and the toolkit's `requests()` / `assert_requested()`.
Entries keep raw values (bytes, the caller, the clock's instant); decoding, formatting and masking
secrets happen when the journal is read.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote_plus

from meshes_emulator.catalog.credentials import mask_url
from meshes_emulator.clock import isoformat
from meshes_emulator.logs import who

DEFAULT_SIZE = 1000
BODY_LIMIT = 8 * 1024  # bytes of a request body kept; a longer body is recorded by size only
ERROR_LIMIT = 4 * 1024  # bytes of an error answer read for its message
MASK = "********"
ADMIN_PREFIX = "/_emulator"
_SECRET_KEY = re.compile(r"(secret|token|passw|api[_-]?key|access[_-]?key|private[_-]?key|credential|"
                         r"authorization|signature|cookie)", re.I)
_SECRET_QUERY = frozenset({"launch"})  # secret query parameters _SECRET_KEY does not name


@dataclass(slots=True)
class Entry:
    """One journaled request, raw: the caller, the instant and the query are kept as they came
    and made text by `as_dict` (with the body decoded and masked) when the journal is read."""

    seq: int
    method: str
    path: str
    query_string: bytes
    at: datetime | None = None  # the emulator's clock when the answer ended
    status: int = 0
    duration_ms: float = 0.0
    principal: Any = None  # the caller (auth.Principal), None when anonymous
    content_type: str = ""
    body: bytes = b""
    body_size: int = 0
    answer: bytes = b""

    @property
    def query(self) -> str:
        """The query as sent, secret parameters' values masked (masked_query)."""
        return masked_query(self.query_string.decode("latin-1")) if self.query_string else ""

    @property
    def caller(self) -> dict[str, Any]:
        """The caller without its secret (logs.who): {} when anonymous."""
        return who(self.principal)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.seq, "at": isoformat(self.at) if self.at is not None else "",
                "method": self.method, "path": self.path, "query": self.query,
                "status": self.status, "duration_ms": round(self.duration_ms, 2),
                "principal": self.caller or None,
                "error": error_message(self.answer) if self.status >= 400 else None,
                "body": masked_body(self.body, self.body_size, self.content_type)}


class RequestJournal:
    """The last `size` requests, oldest first (0: off)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = max(0, size)
        self.entries: deque[Entry] = deque(maxlen=self.size or 1)
        self.seq = 0
        self.seen = 0  # HTTP requests that reached the app, kept or not (never cleared)

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def clear(self) -> None:
        self.entries.clear()

    def select(self, *, method: str | None = None, path: str | None = None,
               status: str | None = None, org: str | None = None,
               workspace: str | None = None, since: int | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
        """Matching entries, oldest first, the newest `limit` of them.

        `path`: exact, or with `*` wildcards; `status`: `404`, or a class such as `4xx`.
        """
        found = [e for e in list(self.entries)
                 if _matches(e, method, path, status, org, workspace, since)]
        return [e.as_dict() for e in found[-limit:]] if limit else []


def _matches(entry: Entry, method: str | None, path: str | None, status: str | None,
             org: str | None, workspace: str | None, since: int | None) -> bool:
    if method is not None and entry.method != method.upper():
        return False
    if path is not None and not (entry.path == path or fnmatchcase(entry.path, path)):
        return False
    if status is not None and not status_matches(entry.status, status):
        return False
    if org is not None and getattr(entry.principal, "org_id", None) != org:
        return False
    if workspace is not None and getattr(entry.principal, "workspace_id", None) != workspace:
        return False
    return since is None or entry.seq > since


def status_matches(status: int, wanted: str) -> bool:
    """`404` matches 404; `4xx` matches 400-499."""
    if wanted[1:].lower() == "xx":
        return str(status)[0] == wanted[0]
    return str(status) == wanted


def error_message(answer: bytes) -> str | None:
    """The message of a Meshes error body (`error.message`, else `message`)."""
    try:
        data = json.loads(answer)
    except ValueError:
        return answer.decode("utf-8", "replace")[:200] or None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    message = data.get("message")
    return message if isinstance(message, str) else None


def masked_query(query: str) -> str:
    """`query` with the value of every secret parameter masked: `?admin_token=` (the dashboard's
    way in when exposed), `?launch=` (an embed launch token) and secret-looking names; the rest
    is kept as sent."""
    if "=" not in query:
        return query
    parts = query.split("&")
    for i, part in enumerate(parts):
        name, eq, value = part.partition("=")
        plain = unquote_plus(name)
        if eq and value and (plain in _SECRET_QUERY or _SECRET_KEY.search(plain)):
            parts[i] = f"{name}={MASK}"
    return "&".join(parts)


def masked_body(body: bytes, size: int, content_type: str) -> Any:
    """The request body as JSON with secret-looking values masked; else a short description."""
    if size == 0:
        return None
    if size > len(body):
        return f"<{size} bytes, not kept (over {BODY_LIMIT})>"
    try:
        return mask(json.loads(body))
    except ValueError:
        return f"<{size} bytes of {content_type or 'unknown content type'}>"


def mask(value: Any, key: str = "") -> Any:
    """A copy with the value of every secret-looking key replaced (at any depth); a
    `{name, value}` header item whose name looks secret has its value masked; a URL's userinfo
    password too (catalog.credentials.mask_url)."""
    if _SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, dict):
        if isinstance(value.get("name"), str) and "value" in value and \
                _SECRET_KEY.search(value["name"]):
            return {**{k: mask(v, str(k)) for k, v in value.items()}, "value": MASK}
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(item, key) for item in value]
    if isinstance(value, str):  # a webhook URL's password (`http://user:pass@host/`)
        return mask_url(value)
    return value
