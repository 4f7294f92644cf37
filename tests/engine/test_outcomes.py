"""Outcome codes, retryability and HTTP/exception classification."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from meshes_emulator.engine import outcomes
from meshes_emulator.engine.outcomes import Outcome, OutcomeCode

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_sixteen_codes_match_reference() -> None:
    assert set(outcomes.ALL_CODES) == {
        "delivered",
        "rejected_client_error",
        "rejected_server_error",
        "rate_limited",
        "auth_failed",
        "timeout",
        "network_error",
        "mapping_error",
        "internal_error",
        "invalid_request",
        "validation_failed",
        "destination_not_found",
        "destination_conflict",
        "destination_gone",
        "destination_timeout",
        "payload_too_large",
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (200, "delivered"),
        (201, "delivered"),
        (204, "delivered"),
        (301, "delivered"),
        (302, "delivered"),
        (399, "delivered"),
        (400, "invalid_request"),
        (401, "auth_failed"),
        (403, "auth_failed"),
        (404, "destination_not_found"),
        (405, "rejected_client_error"),
        (408, "destination_timeout"),
        (409, "destination_conflict"),
        (410, "destination_gone"),
        (413, "payload_too_large"),
        (418, "rejected_client_error"),
        (422, "validation_failed"),
        (429, "rate_limited"),
        (500, "rejected_server_error"),
        (502, "rejected_server_error"),
        (503, "rejected_server_error"),
        (504, "destination_timeout"),
        (100, "rejected_server_error"),
    ],
)
def test_code_for_status(status: int, code: str) -> None:
    assert outcomes.code_for_status(status) == code


def test_retryable_set() -> None:
    retryable = {c for c in outcomes.ALL_CODES if outcomes.is_retryable(c)}
    assert retryable == {
        "rejected_server_error",
        "rate_limited",
        "timeout",
        "destination_timeout",
        "network_error",
        "internal_error",
    }
    assert Outcome("rate_limited").retryable
    assert not Outcome("auth_failed").retryable
    assert not Outcome("delivered").retryable
    assert Outcome("delivered").ok and not Outcome("timeout").ok


def test_code_for_exception() -> None:
    assert outcomes.code_for_exception(aiohttp.ServerTimeoutError("t")) == "timeout"
    assert outcomes.code_for_exception(TimeoutError()) == "timeout"
    assert outcomes.code_for_exception(aiohttp.ClientOSError(111, "x")) == "network_error"
    assert outcomes.code_for_exception(aiohttp.ServerDisconnectedError()) == "network_error"
    assert outcomes.code_for_exception(aiohttp.ClientPayloadError("cut")) == "network_error"
    assert outcomes.code_for_exception(aiohttp.InvalidURL("x")) == "internal_error"
    assert outcomes.code_for_exception(ConnectionRefusedError()) == "network_error"
    assert outcomes.code_for_exception(ValueError("bug")) == "internal_error"


def test_failure_refuses_success_and_unknown_codes() -> None:
    assert outcomes.failure("timeout", "slow").code == OutcomeCode.TIMEOUT
    with pytest.raises(ValueError, match="not a failure"):
        outcomes.failure("delivered", "x")
    with pytest.raises(ValueError, match="not a failure"):
        outcomes.failure("exploded", "x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 2.5 ", 2.5),
        ("-4", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("Thu, 01 Jan 2026 00:01:00 GMT", 60.0),
        ("Wed, 31 Dec 2025 23:59:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert outcomes.parse_retry_after(value, NOW) == expected


def test_truncate_body() -> None:
    assert outcomes.truncate_body("abc", 5) == "abc"
    assert outcomes.truncate_body(None) is None
    cut = outcomes.truncate_body("x" * 10, 4)
    assert cut is not None and cut.startswith("xxxx") and cut.endswith("[truncated]")
