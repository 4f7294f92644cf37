"""The retry schedule: max attempts, due times, Retry-After, parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meshes_emulator.engine.outcomes import Outcome
from meshes_emulator.engine.retry import DEFAULT_POLICY, REALISTIC_DELAYS, RetryPolicy

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FAIL = Outcome("rejected_server_error", "HTTP 500")


def test_default_schedule_fails_within_ten_seconds() -> None:
    policy = DEFAULT_POLICY
    assert policy.max_attempts == 4
    now, attempts = NOW, 1
    while (due := policy.next_due(now, attempts, FAIL)) is not None:
        now, attempts = due, attempts + 1
    assert attempts == 4
    assert now - NOW <= timedelta(seconds=10)


def test_next_due_follows_delays_then_stops() -> None:
    policy = RetryPolicy((1, 2, 4))
    assert policy.next_due(NOW, 1, FAIL) == NOW + timedelta(seconds=1)
    assert policy.next_due(NOW, 2, FAIL) == NOW + timedelta(seconds=2)
    assert policy.next_due(NOW, 3, FAIL) == NOW + timedelta(seconds=4)
    assert policy.next_due(NOW, 4, FAIL) is None


def test_success_and_permanent_failures_are_not_retried() -> None:
    assert DEFAULT_POLICY.next_due(NOW, 1, Outcome("delivered")) is None
    assert DEFAULT_POLICY.next_due(NOW, 1, Outcome("auth_failed", "no")) is None
    assert DEFAULT_POLICY.next_due(NOW, 1, Outcome("validation_failed", "no")) is None


def test_retry_after_wins_only_when_longer() -> None:
    policy = RetryPolicy((1, 2))
    slow = Outcome("rate_limited", "429", retry_after=30)
    fast = Outcome("rate_limited", "429", retry_after=0.5)
    assert policy.next_due(NOW, 1, slow) == NOW + timedelta(seconds=30)
    assert policy.next_due(NOW, 1, fast) == NOW + timedelta(seconds=1)
    assert policy.next_due(NOW, 3, slow) is None


@pytest.mark.parametrize(
    ("text", "delays"),
    [
        ("1,2,4", (1.0, 2.0, 4.0)),
        (" 0.5 , 3 ", (0.5, 3.0)),
        ("30s,2m,10m,1h", REALISTIC_DELAYS),
        ("realistic", REALISTIC_DELAYS),
        ("REALISTIC", REALISTIC_DELAYS),
        ("short", (1.0, 2.0, 4.0)),
        ("none", ()),
        ("250ms", (0.25,)),
        ("0", (0.0,)),
    ],
)
def test_parse(text: str, delays: tuple[float, ...]) -> None:
    assert RetryPolicy.parse(text).delays == delays


@pytest.mark.parametrize("text", ["", "1,,2", "-1", "a,b", "1;2", "1d", ",".join(["1"] * 51)])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        RetryPolicy.parse(text)


def test_none_schedule_means_single_attempt() -> None:
    policy = RetryPolicy.parse("none")
    assert policy.max_attempts == 1
    assert policy.next_due(NOW, 1, FAIL) is None
    assert policy.describe() == "none"
    assert RetryPolicy((1, 2.5)).describe() == "1,2.5"


def test_constructor_validates() -> None:
    with pytest.raises(ValueError):
        RetryPolicy((float("nan"),))
    with pytest.raises(ValueError):
        RetryPolicy((-1.0,))
