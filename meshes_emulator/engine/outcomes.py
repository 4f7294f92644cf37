"""Attempt outcomes: the 16 `outcome_code` values (reference §13.7) and how failures map to them.

Choices where the reference is silent (documented in docs/behaviour.md):

* HTTP status -> code: 2xx/3xx `delivered`; 400 `invalid_request`; 401/403 `auth_failed`;
  404 `destination_not_found`; 408 `destination_timeout`; 409 `destination_conflict`;
  410 `destination_gone`; 413 `payload_too_large`; 422 `validation_failed`; 429 `rate_limited`;
  any other 4xx `rejected_client_error`; 504 `destination_timeout`; any other 5xx
  `rejected_server_error`; anything else (1xx, >599) `rejected_server_error`.
* `timeout` is *our* request timing out; `destination_timeout` is the destination saying it timed
  out (408, 504).
* Retryable (behavior §3.5 suggestion, extended to the 7 newer codes): `rejected_server_error`,
  `rate_limited`, `timeout`, `destination_timeout`, `network_error`, `internal_error`. Every other
  failure is permanent: retrying the same request cannot change a 4xx-class answer.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any


class OutcomeCode(StrEnum):
    """Every `outcome_code` an attempt can end with (reference §13.7)."""

    DELIVERED = "delivered"
    REJECTED_CLIENT_ERROR = "rejected_client_error"
    REJECTED_SERVER_ERROR = "rejected_server_error"
    RATE_LIMITED = "rate_limited"
    AUTH_FAILED = "auth_failed"
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network_error"
    MAPPING_ERROR = "mapping_error"
    INTERNAL_ERROR = "internal_error"
    INVALID_REQUEST = "invalid_request"
    VALIDATION_FAILED = "validation_failed"
    DESTINATION_NOT_FOUND = "destination_not_found"
    DESTINATION_CONFLICT = "destination_conflict"
    DESTINATION_GONE = "destination_gone"
    DESTINATION_TIMEOUT = "destination_timeout"
    PAYLOAD_TOO_LARGE = "payload_too_large"


ALL_CODES: tuple[str, ...] = tuple(code.value for code in OutcomeCode)

RETRYABLE_CODES: frozenset[str] = frozenset(
    {
        OutcomeCode.REJECTED_SERVER_ERROR,
        OutcomeCode.RATE_LIMITED,
        OutcomeCode.TIMEOUT,
        OutcomeCode.DESTINATION_TIMEOUT,
        OutcomeCode.NETWORK_ERROR,
        OutcomeCode.INTERNAL_ERROR,
    }
)

_STATUS_CODES: dict[int, OutcomeCode] = {
    400: OutcomeCode.INVALID_REQUEST,
    401: OutcomeCode.AUTH_FAILED,
    403: OutcomeCode.AUTH_FAILED,
    404: OutcomeCode.DESTINATION_NOT_FOUND,
    408: OutcomeCode.DESTINATION_TIMEOUT,
    409: OutcomeCode.DESTINATION_CONFLICT,
    410: OutcomeCode.DESTINATION_GONE,
    413: OutcomeCode.PAYLOAD_TOO_LARGE,
    422: OutcomeCode.VALIDATION_FAILED,
    429: OutcomeCode.RATE_LIMITED,
    504: OutcomeCode.DESTINATION_TIMEOUT,
}

# How much of a response body is kept for response-details.
MAX_BODY_CHARS = 4096


@dataclass(frozen=True)
class ResponseDetails:
    """What the destination answered (for `.../attempts/{id}/response-details`)."""

    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    provider_error_code: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery attempt.

    `request` is what was sent (webhooks) or would have been sent (simulated connectors);
    `retry_after` (seconds) is a destination's rate-limit hint honoured by the retry policy.
    """

    code: str
    message: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    response: ResponseDetails | None = None
    request: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.code == OutcomeCode.DELIVERED

    @property
    def retryable(self) -> bool:
        return is_retryable(self.code)

    def with_request(self, request: dict[str, Any] | None) -> Outcome:
        return replace(self, request=request)


def is_retryable(code: str) -> bool:
    """True when a later attempt may succeed where this one failed."""
    return code in RETRYABLE_CODES


def delivered(message: str | None = None, **kwargs: Any) -> Outcome:
    return Outcome(code=OutcomeCode.DELIVERED, message=message, **kwargs)


def failure(code: str, message: str, **kwargs: Any) -> Outcome:
    """A failed outcome; `code` must be one of the 16 codes."""
    if code not in ALL_CODES or code == OutcomeCode.DELIVERED:
        raise ValueError(f"not a failure outcome code: {code!r}")
    return Outcome(code=code, message=message, **kwargs)


def code_for_status(status: int) -> str:
    """The outcome code for an HTTP status answered by a destination."""
    if 200 <= status < 400:
        return OutcomeCode.DELIVERED
    if status in _STATUS_CODES:
        return _STATUS_CODES[status]
    if 400 <= status < 500:
        return OutcomeCode.REJECTED_CLIENT_ERROR
    return OutcomeCode.REJECTED_SERVER_ERROR


def code_for_exception(exc: BaseException) -> str:
    """The outcome code for a transport error; anything else is internal.

    Timeouts (ours, or aiohttp's `ServerTimeoutError`) -> `timeout`; refused, reset, DNS and other
    socket errors (`OSError`, which aiohttp's connector errors are) and aiohttp's connection,
    payload and protocol errors -> `network_error`; an invalid URL or a bug -> `internal_error`.
    """
    if isinstance(exc, TimeoutError):
        return OutcomeCode.TIMEOUT
    if isinstance(exc, OSError):
        return OutcomeCode.NETWORK_ERROR
    client = sys.modules.get("aiohttp")  # an aiohttp error means it is imported: no import here
    if client is not None and isinstance(exc, client.ClientError) and not isinstance(exc, client.InvalidURL):
        return OutcomeCode.NETWORK_ERROR
    return OutcomeCode.INTERNAL_ERROR


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def truncate_body(text: str | None, limit: int = MAX_BODY_CHARS) -> str | None:
    """Keep at most `limit` characters of a response body (marking the cut)."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "…[truncated]"
