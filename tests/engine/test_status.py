"""Event status and counters from rule_event statuses (pure)."""

from __future__ import annotations

import pytest

from meshes_emulator.engine.status import event_state


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
