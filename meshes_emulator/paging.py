"""The `{count, limit, next_cursor, records}` envelope with opaque keyset cursors.

Lists are ordered newest first by insertion order (SQLite rowid); a cursor names the last rowid
seen, base64url-encoded, so page N costs the same as page 1. Plain values only: the query string
is read by `pagination.page_request` (HTTP), the SQL of a page is in `store.paging`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from meshes_emulator.errors import ValidationFailed

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
SMALL_LIST_LIMIT = 20  # workspaces, connections, rules, integrations (GO fixtures show 20)
# ASCII digits only, short enough to stay inside SQLite's 64-bit integers.
_CURSOR_RE = re.compile(r"r([0-9]{1,18})")


@dataclass(frozen=True)
class PageRequest:
    """What the caller asked for: page size and where the previous page ended."""

    limit: int
    after: int | None  # rowid of the last record of the previous page


def encode_cursor(rowid: int) -> str:
    return base64.urlsafe_b64encode(f"r{rowid}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        match = _CURSOR_RE.fullmatch(text)
        if match is None:
            raise ValueError(cursor)
        return int(match.group(1))
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed([{"param": "cursor", "msg": "is not a valid cursor"}]) from None


def envelope(
    rows: Sequence[dict[str, Any]],
    req: PageRequest,
    to_record: Callable[[dict[str, Any]], Any],
) -> dict[str, Any]:
    """Build the envelope from up to `limit + 1` rows (each with a `_rowid` key), newest first."""
    has_more = len(rows) > req.limit
    page = rows[: req.limit]
    next_cursor = encode_cursor(page[-1]["_rowid"]) if has_more and page else None
    records = [to_record(row) for row in page]
    return {"count": len(records), "limit": req.limit, "next_cursor": next_cursor,
            "records": records}


def envelope_json(records: Sequence[bytes], req: PageRequest, next_rowid: int | None) -> bytes:
    """The envelope as JSON, from records already rendered as JSON (same bytes as `envelope`
    rendered by orjson)."""
    head = orjson.dumps({"count": len(records), "limit": req.limit,
                         "next_cursor": None if next_rowid is None else encode_cursor(next_rowid)})
    return b"".join((head[:-1], b',"records":[', b",".join(records), b"]}"))
