"""Event status and counters from rule_event statuses (pure)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from meshes_emulator.engine.status import TERMINAL, event_changes, event_state


@pytest.mark.parametrize(
    ("statuses", "status", "terminal"),
    [
        ([], "completed", True),
        (["pending"], "pending", False),
        (["pending", "pending"], "pending", False),
        (["processing", "pending"], "processing", False),
        (["completed", "pending"], "processing", False),
        (["retrying"], "retrying", False),
        (["retrying", "completed"], "retrying", False),
        (["retrying", "pending"], "processing", False),
        (["retrying", "processing"], "processing", False),
        (["completed", "completed"], "completed", True),
        (["completed", "failed"], "failed", True),
        (["completed", "canceled"], "canceled", True),
        (["failed", "canceled"], "failed", True),
        (["canceled"], "canceled", True),
    ],
)
def test_event_state(statuses: list[str], status: str, terminal: bool) -> None:
    state = event_state(statuses)
    assert state.status == status
    assert state.terminal is terminal
    assert state.total_rules == len(statuses)


def test_counters_ignore_canceled() -> None:
    state = event_state(["completed", "failed", "failed", "canceled", "retrying"])
    assert (state.total_rules, state.completed_count, state.failed_count) == (5, 1, 2)
    assert state.started


def test_canceled_before_start_is_not_started() -> None:
    assert not event_state(["canceled", "pending"]).started
    assert not event_state(["pending"]).started


def _changes_as_before(event: dict[str, Any], statuses: list[str], now: str) -> dict[str, Any]:
    """event_changes as it was written first (every field computed, then filtered)."""
    state = event_state(statuses)
    changes: dict[str, Any] = {"status": state.status, "total_rules": state.total_rules,
                               "completed_count": state.completed_count,
                               "failed_count": state.failed_count}
    if state.started and not event.get("started_at"):
        changes["started_at"] = now
    if state.terminal:
        if not event.get("completed_at") or event.get("status") not in TERMINAL:
            changes["completed_at"] = now
    elif event.get("completed_at"):
        changes["completed_at"] = None
    return {k: v for k, v in changes.items() if event.get(k) != v}


def test_event_changes_holds_only_what_differs_and_applies_it() -> None:
    kinds = ["pending", "processing", "retrying", "completed", "failed", "canceled"]
    times = [None, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z"]
    now = "2026-01-01T00:00:01.000Z"
    for statuses in itertools.chain.from_iterable(
            itertools.product(kinds, repeat=n) for n in range(4)):
        for status, started, completed, total, done in itertools.product(
                ["pending", "processing", "completed", "failed"], times, times, [0, 3], [0, 1]):
            event = {"status": status, "started_at": started, "completed_at": completed,
                     "total_rules": total, "completed_count": done, "failed_count": 0}
            expected = _changes_as_before(event, list(statuses), now)
            applied = dict(event)
            assert event_changes(applied, iter(statuses), now) == expected
            assert applied == {**event, **expected}
