"""Read a page request (`limit`, `cursor`) from the query string; the envelope is in paging.py."""

from __future__ import annotations

import re

from starlette.requests import Request

from meshes_emulator.errors import ValidationFailed
from meshes_emulator.http import query_params
from meshes_emulator.paging import DEFAULT_LIMIT, MAX_LIMIT, PageRequest, decode_cursor

# ASCII digits only (str.isdigit() also takes superscripts and other scripts' digits).
_LIMIT_RE = re.compile(r"[0-9]{1,4}")


def page_request(request: Request, default_limit: int = DEFAULT_LIMIT) -> PageRequest:
    """Read `limit` (1-200) and `cursor` from the query string; 400 when malformed."""
    query = query_params(request)
    raw_limit = query.get("limit")
    limit = default_limit
    if raw_limit is not None:
        if not _LIMIT_RE.fullmatch(raw_limit.strip()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise ValidationFailed([{"param": "limit", "msg": "must be an integer from 1 to 200"}])
        limit = int(raw_limit)
    cursor = query.get("cursor")
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)
