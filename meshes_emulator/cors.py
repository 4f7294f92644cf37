"""CORS on the two ingestion routes (behavior §1.3, evidence-2 "Ingestion from browsers").

`POST /api/v1/events` and `POST /api/v1/events/bulk` are meant for browsers (publishable keys).
The preflight (`OPTIONS`, routes.cors_preflight) answers with PREFLIGHT_HEADERS; every actual
response of those two POSTs -- 201, 207, every 4xx (auth, 413...), API faults and the catch-all's
500 -- gets RESPONSE_HEADERS from app.EdgeMiddleware, which adds them outside everything else it
does. Management routes get no CORS header (the real API has none there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import Message, Scope

ALLOW_ORIGIN = "*"
INGEST_PATHS = frozenset({"/api/v1/events", "/api/v1/events/bulk"})
EXPOSED_HEADERS = ("Retry-After", "X-Meshes-Emulator-Warning", "X-Meshes-Emulator-Fault")

PREFLIGHT_HEADERS: Mapping[str, str] = {
    "Access-Control-Allow-Origin": ALLOW_ORIGIN,
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, X-Meshes-Publishable-Key, "
    "X-Meshes-Client, Authorization",
    "Access-Control-Max-Age": "600",
}
RESPONSE_HEADERS: Mapping[str, str] = {
    "Access-Control-Allow-Origin": ALLOW_ORIGIN,
    "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
}
_RAW_HEADERS = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in RESPONSE_HEADERS.items()]
_RAW_NAMES = frozenset(name for name, _ in _RAW_HEADERS)


def is_ingest_request(scope: Scope) -> bool:
    """An actual (non-preflight) request to one of the two ingestion routes."""
    return (scope["type"] == "http" and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/") in INGEST_PATHS)


def with_cors_headers(message: Message) -> Message:
    """The http.response.start message with RESPONSE_HEADERS (replacing any earlier values)."""
    headers: list[Any] = [(name, value) for name, value in message.get("headers", [])
                          if bytes(name).lower() not in _RAW_NAMES]
    return {**message, "headers": [*headers, *_RAW_HEADERS]}
