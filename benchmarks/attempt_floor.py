"""What a simulated attempt costs, and the least its SQL alone can cost (issue 14).

    .venv/bin/python benchmarks/attempt_floor.py [--events 10000] [--rounds 3]

The sustained target of benchmarks/deliveries.py (deliveries end to end >= 0.8x single ingest,
three simulated rules an event) leaves each attempt at most a twelfth of what ingesting one event
costs the server: 20k events ingested at rate R and their 60k attempts done at 0.8 R means
1/R + 3 a <= 1.25/R, so a <= 1/(12 R). This script measures both sides in the same run:

* ingest: a `meshes-emulator serve` subprocess on a WAL file with the three rules of ingest.py
  takes single events at c=8 (benchmarks/loadgen.py): its CPU per event, and 1/12 of it, the
  budget of one attempt;
* attempts: in this process (`meshes_emulator.testing.Running`, a WAL file, manual clock),
  EVENTS events with the same three rules, then `POST /_emulator/settle` until nothing is due:
  wall time per attempt (the drain is all the process does). Every SQL statement the drain
  sends to SQLite is recorded, with its parameters;
* SQL floor: those statements replayed on a copy of the database taken before the drain, by a
  bare sqlite3 connection with the emulator's pragmas, reads fetched, no Python planning at all:
  the least the same rows cost to read and write (checkpoints are left out: the emulator runs
  them on another thread). When that alone is over the budget, no
  amount of work on the Python side meets the target with this storage layout.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import EVENT, RULES, Serve, header, ingest_headers, load, median

from meshes_emulator.testing import Running


class Recorder:
    """A stand-in for the store's sqlite3 connection that records every statement sent."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.statements: list[tuple[str, str, Any]] = []  # (kind, sql, parameters)

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        self.statements.append(("execute", sql, parameters))
        return self._conn.execute(sql, parameters)

    def executemany(self, sql: str, rows: Iterable[Any]) -> Any:
        rows = list(rows)
        self.statements.append(("executemany", sql, rows))
        return self._conn.executemany(sql, rows)

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self._conn.cursor(), self.statements)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_conn", "statements"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._conn, name, value)


class RecordingCursor:
    def __init__(self, cursor: sqlite3.Cursor, statements: list[tuple[str, str, Any]]) -> None:
        object.__setattr__(self, "_cursor", cursor)
        object.__setattr__(self, "_statements", statements)

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        self._statements.append(("execute", sql, parameters))
        return self._cursor.execute(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._cursor, name, value)


def replay(path: str, statements: list[tuple[str, str, Any]]) -> dict[str, float]:
    """Seconds the statements take on the database at `path`, reads fetched, by statement
    kind (`kind`)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL",
                   "busy_timeout = 5000", "wal_autocheckpoint = 0"):
        conn.execute(f"PRAGMA {pragma}")
    seconds: dict[str, float] = {}
    clock = time.perf_counter
    for many, sql, parameters in statements:
        began = clock()
        if many == "executemany":
            conn.executemany(sql, parameters)
        else:
            conn.execute(sql, parameters).fetchall()
        name = kind(sql)
        seconds[name] = seconds.get(name, 0.0) + clock() - began
    conn.close()
    return seconds


def kind(sql: str) -> str:
    """`INSERT attempts`, `UPDATE rule_events`, `SELECT rule_events`, `COMMIT`..."""
    words = sql.split()
    verb = words[0].upper()
    if verb in ("INSERT", "DELETE"):
        return f"{verb} {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if verb == "SELECT":
        return f"SELECT {words[words.index('FROM') + 1]}" if "FROM" in words else "SELECT"
    return verb if verb in ("BEGIN", "COMMIT") else "SAVEPOINT/RELEASE/other"


def populate(handle: Any, events: int) -> None:
    """Three simulated rules (as in ingest.py), then `events` events, bulk-ingested."""
    workspace, key = handle.create_workspace("floor")
    with handle.client() as api:
        for kind, metadata, rule_metadata in RULES:
            connection = api.post("/connections", json={
                "workspace": workspace, "type": kind, "name": kind, "metadata": metadata,
            }).json()["connection"]
            api.post("/rules", json={"workspace": workspace, "event": EVENT,
                                     "connection": connection["id"], "metadata": rule_metadata
                                     }).raise_for_status()
    with handle.ingest_client(key) as ingest:
        for start in range(0, events, 100):
            batch = [{"event": EVENT, "payload": {"email": f"user{n}@example.com",
                                                  "first_name": f"User{n}"}}
                     for n in range(start, min(events, start + 100))]
            ingest.post("/events/bulk", json=batch).raise_for_status()


def attempts_round(directory: str, events: int, index: int) -> tuple[float, dict[str, float], int]:
    """(wall seconds per attempt of the drain, seconds per attempt of its SQL replayed by kind,
    attempts)."""
    path = f"{directory}/floor-{index}.db"
    with Running(db_path=path, clock="manual") as handle:
        populate(handle, events)
        emulator = handle.emulator
        assert emulator is not None  # in this process
        store = emulator.store
        copy = sqlite3.connect(f"{path}.copy")
        with store.lock:  # no transaction is open while it is held
            store.conn.backup(copy)
            before = store.conn.execute("SELECT COUNT(*) AS n FROM attempts").fetchone()["n"]
            recorder = Recorder(store.conn)
            store.conn = recorder  # type: ignore[assignment]  # it records, then passes on
        copy.close()
        began = time.perf_counter()
        while True:
            body = handle.admin("POST", "/settle")
            if body["due_now"] == 0 and not body["in_flight"]:
                break
        drain = time.perf_counter() - began
        with store.lock:
            store.conn = recorder._conn
            # every attempt recorded meanwhile, the background worker's few included
            ran = store.conn.execute("SELECT COUNT(*) AS n FROM attempts").fetchone()["n"] - before
    statements = [s for s in recorder.statements if not s[1].lstrip().upper().startswith("PRAGMA")]
    sql = replay(f"{path}.copy", statements)
    return drain / ran, {name: value / ran for name, value in sql.items()}, ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0, help="single-ingest round, seconds")
    args = parser.parse_args()
    header("a simulated attempt against its budget (issue 14)", events=args.events,
           rounds=args.rounds)
    ingest_us: list[float] = []
    attempt_us: list[float] = []
    sql_us: list[float] = []
    kinds: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for index in range(args.rounds):
            with Serve(f"{directory}/ingest-{index}.db") as server:
                server.add_rules()
                result = load(server, connections=8, duration=args.duration, method="POST",
                              path="/api/v1/events", headers=ingest_headers(server), body="event")
            ingest_us.append(result["server_cpu_us"])
            per_attempt, per_sql, ran = attempts_round(directory, args.events, index)
            attempt_us.append(per_attempt * 1e6)
            sql_us.append(sum(per_sql.values()) * 1e6)
            for name, value in per_sql.items():
                kinds.setdefault(name, []).append(value * 1e6)
            print(f"  round {index + 1}: ingest {result['rps']:,.0f} ev/s, server CPU "
                  f"{ingest_us[-1]:.0f} us an event; drain of {ran:,} attempts "
                  f"{attempt_us[-1]:.1f} us an attempt, its SQL replayed {sql_us[-1]:.1f} us")
    budget = median(ingest_us) / 12
    print(f"  ingest, server CPU an event (median)       {median(ingest_us):8.1f} us")
    print(f"  budget of one attempt for 0.8x (1/12)       {budget:8.1f} us")
    print(f"  a simulated attempt, in a drain (median)    {median(attempt_us):8.1f} us")
    print(f"  its SQL alone, replayed (median)            {median(sql_us):8.1f} us "
          f"({median(sql_us) / median(attempt_us):.0%} of an attempt), of which:")
    for name, values in sorted(kinds.items(), key=lambda item: -median(item[1])):
        print(f"      {name:32s} {median(values):6.1f} us")
    for name, cost in (("as measured", median(attempt_us)), ("with no Python planning", median(sql_us))):
        ceiling = median(ingest_us) / (median(ingest_us) + 3 * cost)
        print(f"  sustained ratio the costs allow, {name:24s} {ceiling:.2f}x   target >= 0.8x")


if __name__ == "__main__":
    main()
