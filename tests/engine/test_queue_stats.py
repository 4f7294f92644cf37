"""`queue_stats` (what /_emulator/idle reports) counts the due rule_events exactly, whether
`now` is before, inside or after the range of scheduled due times (it skips the count of the due
ones when the answer is none or all of them)."""

from __future__ import annotations

import pytest

from meshes_emulator.store import events as event_store
from meshes_emulator.store.db import Store

DUE = ["2026-01-01T00:00:10.000Z", "2026-01-01T00:00:20.000Z", "2026-01-01T00:00:20.000Z",
       "2026-01-01T00:00:30.000Z"]


def _store(due: list[str | None]) -> Store:
    store = Store()
    store.conn.execute("PRAGMA foreign_keys = OFF")  # rule_events alone, without their events
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO rule_events (id, event_id, rule_id, org_id, workspace_id, connection_id, "
            "integration_type, event, status, due_at, created_by, created_at) "
            "VALUES (?, ?, 'r', 'o', 'w', 'c', 'slack', 'e', 'pending', ?, 'k', 'x')",
            [(f"re{n}", f"ev{n}", at) for n, at in enumerate(due)],
        )
    return store


@pytest.mark.parametrize(("now", "due_now"), [
    ("2026-01-01T00:00:00.000Z", 0),  # before the first
    ("2026-01-01T00:00:10.000Z", 1),  # on the first
    ("2026-01-01T00:00:20.000Z", 3),  # inside the range
    ("2026-01-01T00:00:29.999Z", 3),
    ("2026-01-01T00:00:30.000Z", 4),  # on the last
    ("2027-01-01T00:00:00.000Z", 4),  # after the last
])
def test_due_now_is_counted_exactly(now: str, due_now: int) -> None:
    store = _store([*DUE, None, None])  # two not scheduled
    assert event_store.queue_stats(store, now) == {
        "scheduled": 4, "due_now": due_now, "next_due": "2026-01-01T00:00:10.000Z"}


def test_nothing_scheduled() -> None:
    store = _store([None])
    assert event_store.queue_stats(store, "2026-01-01T00:00:00.000Z") == {
        "scheduled": 0, "due_now": 0, "next_due": None}
