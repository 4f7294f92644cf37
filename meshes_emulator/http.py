"""Request parsing and JSON responses shared by every handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message

from meshes_emulator.errors import BadRequest, PayloadTooLarge, ValidationFailed

JSON_TYPES = ("application/json", "application/merge-patch+json", "text/json")
# Deeper documents are refused with 400: orjson parses up to 1024 levels but writes only ~254,
# so anything deeper could be accepted and then never stored or answered (docs/reliability.md).
MAX_JSON_DEPTH = 128


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response rendered with orjson."""
    return Response(orjson.dumps(data), status_code=status, headers=headers,
                    media_type="application/json")


def json_bytes_response(body: bytes, status: int = 200) -> Response:
    """A response whose JSON body is already rendered."""
    return Response(body, status_code=status, media_type="application/json")


# A UTF-8 byte order mark before the JSON is skipped (RFC 8259 §8.1 allows a parser to ignore
# it; Node's body parsers strip it), so .NET and PowerShell clients that write one are accepted.
UTF8_BOM = b"\xef\xbb\xbf"


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 past the emulator's size limit.

    The one body reader of every route and credential kind: the body is kept in the request's
    state (`request.state.raw_body`), so a second call (the session policy, then the handler)
    reads it once and checks the limit once.
    """
    limit: int = request.app.state.emulator.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(detail=f"Request body exceeds {limit} bytes")
    state: dict[str, Any] = request.scope.setdefault("state", {})  # request.state's own dict
    body: bytes | None = state.get("raw_body")  # already read (no AttributeError raised to see)
    if body is None:
        message = await request.receive()  # usually the whole body, in one message
        if message["type"] != "http.request" or message.get("more_body", False):
            body = await _chunked_body(request, message, limit)
        else:
            body = message.get("body", b"")
    if len(body) > limit:
        raise PayloadTooLarge(detail=f"Request body exceeds {limit} bytes")
    state["raw_body"] = body
    return body


async def _chunked_body(request: Request, message: Message, limit: int) -> bytes:
    """A body sent in several messages, refused with 413 once past `limit`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in _rest_of_body(request, message):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(detail=f"Request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _rest_of_body(request: Request, first: Message) -> AsyncIterator[bytes]:
    """The body's chunks, from the first message already received."""
    message = first
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
        message = await request.receive()


async def read_json(request: Request, *, required: bool = True) -> Any:
    """Parse a JSON body. Empty body: None when not required, else 400."""
    body = await read_body(request)
    if not body.strip():
        if required:
            raise BadRequest(detail="A JSON request body is required")
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in JSON_TYPES and not content_type.endswith("+json"):
        raise BadRequest(detail="Content-Type must be application/json")
    try:
        data = orjson.loads(body.removeprefix(UTF8_BOM))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(detail=f"Malformed JSON body: {exc}") from None
    # a body with few brackets cannot nest deeply: skip the walk (bytes.count runs in C)
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and too_deep(data, MAX_JSON_DEPTH):
        raise BadRequest(detail=f"JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    return data


def too_deep(value: Any, limit: int) -> bool:
    """True when arrays/objects nest more than `limit` levels (iterative: no recursion)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [child for item in level
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, dict | list)]
    return False


QUERY_KEY = "meshes.query"  # where a request's parsed query string is kept, in its scope


def query_params(request: Request) -> dict[str, str]:
    """The query string's parameters, parsed once per request: the last value of a repeated
    name, as `request.query_params[name]` gives. A query string with neither '%' nor '+' (what
    clients send for limit, cursor and filters) is split as it is; any other goes through
    urllib's `parse_qsl`, as Starlette's (which costs ~6 us a request, ~5% of a page of 25)."""
    parsed: dict[str, str] | None = request.scope.get(QUERY_KEY)
    if parsed is None:
        parsed = request.scope[QUERY_KEY] = parse_query(request.scope["query_string"])
    return parsed


def parse_query(raw: bytes) -> dict[str, str]:
    """`name=value&...` (latin-1, as Starlette decodes it; blank values kept)."""
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    parsed: dict[str, str] = {}
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            parsed[name] = value
    return parsed


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = query_params(request).get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ValidationFailed([{"param": name, "msg": "must be true or false"}])
