"""The `{count, limit, next_cursor, records}` envelope with opaque keyset cursors.

Lists are ordered newest first by insertion order (SQLite rowid); a cursor names the last rowid
seen, base64url-encoded, so page N costs the same as page 1.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from meshes_emulator.errors import ValidationFailed

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
SMALL_LIST_LIMIT = 20  # workspaces, connections, rules, integrations (GO fixtures show 20)
# ASCII digits only (str.isdigit() also takes superscripts and other scripts' digits),
# and short enough to stay inside SQLite's 64-bit integers.
_LIMIT_RE = re.compile(r"[0-9]{1,4}")
_CURSOR_RE = re.compile(r"r([0-9]{1,18})")


@dataclass(frozen=True)
class PageRequest:
    """What the caller asked for: page size and where the previous page ended."""

    limit: int
    after: int | None  # rowid of the last record of the previous page


def page_request(request: Request, default_limit: int = DEFAULT_LIMIT) -> PageRequest:
    """Read `limit` (1-200) and `cursor` from the query string; 400 when malformed."""
    raw_limit = request.query_params.get("limit")
    limit = default_limit
    if raw_limit is not None:
        if not _LIMIT_RE.fullmatch(raw_limit.strip()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise ValidationFailed([{"param": "limit", "msg": "must be an integer from 1 to 200"}])
        limit = int(raw_limit)
    cursor = request.query_params.get("cursor")
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)


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


def scoped_page_query(
    org_id: str,
    req: PageRequest,
    workspace_id: str | None = None,
    filters: dict[str, str] | None = None,
) -> tuple[str, list[Any]]:
    """` WHERE ... ORDER BY rowid DESC LIMIT ?` and its params: one organization (optionally one
    workspace), exact-match column filters, the keyset page start and `limit + 1` rows."""
    where = ["org_id = ?"]
    params: list[Any] = [org_id]
    if workspace_id is not None:
        where.append("workspace_id = ?")
        params.append(workspace_id)
    for column, value in (filters or {}).items():
        where.append(f"{column} = ?")
        params.append(value)
    clause, extra = keyset_clause(req)
    sql = f" WHERE {' AND '.join(where)}{clause} ORDER BY rowid DESC LIMIT ?"
    return sql, [*params, *extra, req.limit + 1]


def keyset_clause(req: PageRequest) -> tuple[str, list[Any]]:
    """SQL fragment (` AND rowid < ?`) and params for the page start."""
    if req.after is None:
        return "", []
    return " AND rowid < ?", [req.after]


def envelope_json(records: Sequence[bytes], req: PageRequest, next_rowid: int | None) -> bytes:
    """The envelope as JSON, from records already rendered as JSON (same bytes as `envelope`
    rendered by orjson)."""
    head = orjson.dumps({"count": len(records), "limit": req.limit,
                         "next_cursor": None if next_rowid is None else encode_cursor(next_rowid)})
    return b"".join((head[:-1], b',"records":[', b",".join(records), b"]}"))
