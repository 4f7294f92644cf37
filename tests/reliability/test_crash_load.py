"""Crash and load, bounded for CI: scripts/crash_load.py with three SIGKILLs under three clients.

The script holds the whole scenario and every check (see its docstring); `scripts/crash_load.py
--kills 20 --clients 6` is the longer run for release checks. Kills happen after a seeded number
of acknowledged events (and every other one while a webhook delivery is in flight), so no sleep.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "crash_load.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_load", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_multiple_sigkills_under_load_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    crash_load = load_script()
    config = crash_load.Config(kills=3, clients=3, seed=7, min_acks=5, max_acks=15,
                               workdir=str(tmp_path))
    summary = crash_load.run(config)
    assert summary.problems == []
    assert summary.kills_survived == 3 and summary.lives == 4
    assert summary.events_acknowledged >= 15
    checks = summary.checks
    assert checks["events_checked"] >= summary.events_acknowledged
    assert checks["attempts_checked"] > checks["events_checked"]  # retries and faults happened
    assert summary.refused == {}  # no client was ever turned away
    assert {"completed", "failed"} <= set(checks["event_statuses"])
    assert summary.webhook_requests.get("/down", 0) > 0


def test_the_checks_catch_a_lost_event(tmp_path: Path) -> None:
    """The verifier is not vacuous: an acknowledged event deleted behind its back is reported."""
    import sqlite3

    crash_load = load_script()
    summary = crash_load.run(crash_load.Config(kills=1, clients=2, seed=3, min_acks=3,
                                               max_acks=6, workdir=str(tmp_path)))
    assert summary.problems == []
    db = tmp_path / "crash.db"
    ledger = crash_load.Ledger()
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT id, payload FROM events").fetchall()
    import json

    for event_id, payload in rows:
        ledger.acked[json.loads(payload)["marker"]] = event_id
    assert crash_load.verify(db, ledger)["problems"] == []
    victim = rows[0][0]
    with conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM events WHERE id = ?", [victim])
        conn.execute("UPDATE rule_events SET attempt_count = attempt_count + 1 "
                     "WHERE rowid = (SELECT MIN(rowid) FROM rule_events)")
    conn.close()
    problems = crash_load.verify(db, ledger)["problems"]
    assert any(victim in p and "stored 0 times" in p for p in problems)
    assert any("attempt_count" in p for p in problems)
