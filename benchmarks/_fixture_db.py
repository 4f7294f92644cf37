"""Build a database holding many events fast: raw sqlite3 executemany, not HTTP.

`build(path, events)` starts `serve` once on a fresh file (schema, bootstrap organization and
workspace, the three simulated rules of the ingest benchmarks, added through the API), stops it,
then inserts `events` completed events of that workspace, each with its three completed
rule_events (no attempt or delivery rows), with time-ordered (UUID v7) ids and creation times one
millisecond apart, ending a day before now.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from _util import EVENT, Serve

CHUNK = 20_000
EVENT_COLUMNS = ("id", "org_id", "workspace_id", "event", "resource", "resource_id", "payload",
                 "status", "total_rules", "completed_count", "failed_count", "started_at",
                 "completed_at", "created_by", "created_at")
RULE_EVENT_COLUMNS = ("id", "event_id", "rule_id", "org_id", "workspace_id", "connection_id",
                      "integration_type", "action", "rule_metadata", "event", "resource",
                      "resource_id", "status", "attempt_count", "started_at", "completed_at",
                      "last_error", "due_at", "created_by", "created_at")


def _uuid7(ms: int, rng: random.Random) -> str:
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def build(path: str, events: int, *, with_rules: bool = True) -> dict[str, Any]:
    """Create the database at `path`; returns the serve banner info and the build seconds."""
    began = time.perf_counter()
    with Serve(path) as server:
        if with_rules:
            server.add_rules()
        info = server.info
        rules = server.api("GET", f"/workspaces/{server.workspace}/rules?limit=100")["records"]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    org, workspace = info["org_id"], info["workspaces"][0]["id"]
    rule_rows = [(r["id"], r["connection"], r["type"], r["metadata"]) for r in rules]
    now_ms = int(time.time() * 1000) - 86_400_000
    first_ms = now_ms - events
    rng = random.Random(7)

    def chunks() -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        event_rows: list[tuple[Any, ...]] = []
        rule_event_rows: list[tuple[Any, ...]] = []
        for n in range(events):
            ms = first_ms + n
            stamp = _iso(ms)
            event_id = _uuid7(ms, rng)
            payload = f'{{"email":"user{n}@example.com","first_name":"Ada","n":{n}}}'
            event_rows.append((event_id, org, workspace, EVENT, "global", None, payload,
                               "completed", len(rule_rows), len(rule_rows), 0, stamp, stamp,
                               "Default publishable key", stamp))
            for rule_id, connection_id, kind, metadata in rule_rows:
                rule_event_rows.append((_uuid7(ms, rng), event_id, rule_id, org, workspace,
                                        connection_id, kind, metadata.get("action"),
                                        json.dumps(metadata), EVENT, "global", None, "completed",
                                        1, stamp, stamp, None, None, "Default publishable key",
                                        stamp))
            if len(event_rows) >= CHUNK:
                yield event_rows, rule_event_rows
                event_rows, rule_event_rows = [], []
        if event_rows:
            yield event_rows, rule_event_rows

    event_sql = (f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
                 f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})")
    rule_event_sql = (f"INSERT INTO rule_events ({', '.join(RULE_EVENT_COLUMNS)}) "
                      f"VALUES ({', '.join('?' for _ in RULE_EVENT_COLUMNS)})")
    conn.execute("BEGIN")
    for event_rows, rule_event_rows in chunks():
        conn.executemany(event_sql, event_rows)
        conn.executemany(rule_event_sql, rule_event_rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.sync()  # else the server's first checkpoint fsync waits for the whole build to reach disk
    return {"info": info, "seconds": time.perf_counter() - began}
