"""Events, rule_events (with the durable due-time queue), attempts and the delivery sink."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from meshes_emulator.paging import PageRequest
from meshes_emulator.store.db import Row, Store, decode_json, where_equal
from meshes_emulator.store.lru import Cache
from meshes_emulator.store.paging import keyset_clause, scoped_page_query

TERMINAL = ("completed", "failed", "canceled")


# -- events ----------------------------------------------------------------------------------


def insert_events(store: Store, rows: list[Row]) -> None:
    """Insert event rows that all have the same keys (one executemany)."""
    store.insert_many("events", rows)


def get_event(store: Store, org_id: str, event_id: str) -> Row | None:
    return store.one("SELECT * FROM events WHERE id = ? AND org_id = ?", [event_id, org_id])


def get_event_any_org(store: Store, event_id: str) -> Row | None:
    return store.one("SELECT * FROM events WHERE id = ?", [event_id])


EVENT_LIST_COLUMNS = (
    "rowid AS _rowid, id, workspace_id, event, resource, resource_id, status, total_rules, "
    "completed_count, failed_count, started_at, completed_at, created_by, created_at"
)
# event rowid -> its list record as JSON bytes (services/events.py renders; updates forget
# entries). By rowid: a page's keys then come from the events_org index alone (no table look-up
# per event: 13.2 -> 8.7 us for a page of 25), and an event's rowid never changes (events are
# deleted only by a reset, a restore or an import, which forget every cache).
RENDERED_CACHE: Cache[dict[int, bytes]] = Cache("rendered_events", dict)


def list_event_keys(
    store: Store,
    org_id: str,
    req: PageRequest,
    *,
    workspace_id: str | None = None,
    filters: dict[str, str] | None = None,
) -> list[int]:
    """The rowids of a page of events, newest first, `limit + 1` of them (keyset pagination)."""
    where, params = scoped_page_query(org_id, req, workspace_id, filters)
    return [rowid for (rowid,) in store.tuples(f"SELECT rowid FROM events{where}", params)]


def events_by_rowid(store: Store, rowids: list[int]) -> list[Row]:
    """The list columns of the given events (any order; `_rowid` is their rowid)."""
    marks = ", ".join("?" for _ in rowids)
    return store.all(f"SELECT {EVENT_LIST_COLUMNS} FROM events WHERE rowid IN ({marks})", rowids)


def update_event(store: Store, event_id: str, changes: dict[str, Any]) -> None:
    sets = ", ".join(f"{column} = ?" for column in changes)
    store.execute(f"UPDATE events SET {sets} WHERE id = ?", [*changes.values(), event_id])
    forget_rendered(store, [event_id])


def forget_rendered(store: Store, event_ids: list[str]) -> None:
    """Drop the kept list records of these events (their rows changed)."""
    rendered = store.held(RENDERED_CACHE)
    if rendered and event_ids:
        marks = ", ".join("?" for _ in event_ids)
        for (rowid,) in store.tuples(f"SELECT rowid FROM events WHERE id IN ({marks})", event_ids):
            rendered.pop(rowid, None)


def rule_event_statuses(store: Store, event_id: str) -> list[str]:
    rows = store.all("SELECT status FROM rule_events WHERE event_id = ?", [event_id])
    return [row["status"] for row in rows]


# -- rule_events -----------------------------------------------------------------------------


RULE_EVENT_COLUMNS = (
    "id", "event_id", "rule_id", "org_id", "workspace_id", "connection_id", "integration_type",
    "action", "rule_metadata", "event", "resource", "resource_id", "due_at", "created_by",
    "created_at",
)
_INSERT_RULE_EVENTS = (
    f"INSERT INTO rule_events ({', '.join(RULE_EVENT_COLUMNS)}, status, attempt_count) "
    f"VALUES ({', '.join('?' for _ in RULE_EVENT_COLUMNS)}, 'pending', 0)"
)


def insert_rule_events(store: Store, rows: list[tuple[Any, ...]]) -> None:
    """Insert new (pending) rule_events: tuples in RULE_EVENT_COLUMNS order, one executemany."""
    if rows:
        with store.lock:
            store.conn.executemany(_INSERT_RULE_EVENTS, rows)


def rule_events_of(store: Store, event_id: str) -> list[Row]:
    return store.all("SELECT * FROM rule_events WHERE event_id = ? ORDER BY rowid", [event_id])


def get_rule_event(store: Store, event_id: str, rule_id: str) -> Row | None:
    return store.one("SELECT * FROM rule_events WHERE event_id = ? AND rule_id = ?", [event_id, rule_id])


def get_rule_event_by_id(store: Store, rule_event_id: str) -> Row | None:
    return store.one("SELECT * FROM rule_events WHERE id = ?", [rule_event_id])


def update_rule_event(store: Store, rule_event_id: str, changes: dict[str, Any]) -> None:
    sets = ", ".join(f"{column} = ?" for column in changes)
    store.execute(f"UPDATE rule_events SET {sets} WHERE id = ?", [*changes.values(), rule_event_id])


def next_due(store: Store, until: str) -> Row | None:
    """The earliest scheduled rule_event due at or before `until` (ties: creation order)."""
    return store.one(
        "SELECT * FROM rule_events WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, rowid LIMIT 1",
        [until],
    )


def due_batch(
    store: Store, until: str, limit: int, *, skip_connections: frozenset[str] = frozenset(),
    webhooks: bool = True,
) -> list[Row]:
    """Up to `limit` scheduled rule_events due at or before `until`, in queue order (due time, then
    creation order), each with its `_rowid`; optionally without webhooks or some connections."""
    where = "due_at IS NOT NULL AND due_at <= ?"
    params: list[Any] = [until]
    if not webhooks:
        where += " AND integration_type != 'webhook'"
    if skip_connections:
        where += f" AND connection_id NOT IN ({', '.join('?' for _ in skip_connections)})"
        params.extend(sorted(skip_connections))
    return store.all(
        f"SELECT rowid AS _rowid, * FROM rule_events WHERE {where} ORDER BY due_at, rowid LIMIT ?",
        [*params, limit],
    )


def event_rows_by_id(store: Store, event_ids: list[str]) -> dict[str, Row]:
    """Event rows by id (any organization)."""
    marks = ", ".join("?" for _ in event_ids)
    rows = store.all(f"SELECT * FROM events WHERE id IN ({marks})", event_ids)
    return {row["id"]: row for row in rows}


def statuses_by_event(store: Store, event_ids: list[str]) -> dict[str, dict[str, str]]:
    """event id -> {rule_event id: status} for every rule_event of those events."""
    marks = ", ".join("?" for _ in event_ids)
    found: dict[str, dict[str, str]] = {event_id: {} for event_id in event_ids}
    for rule_event_id, event_id, status in store.tuples(
        f"SELECT id, event_id, status FROM rule_events WHERE event_id IN ({marks})", event_ids
    ):
        found[event_id][rule_event_id] = status
    return found


RULE_EVENT_STATE = ("status", "attempt_count", "due_at", "next_trigger", "started_at", "completed_at",
                    "last_error")
EVENT_STATE = ("status", "total_rules", "completed_count", "failed_count", "started_at", "completed_at")


def write_attempt_batch(
    store: Store, attempts: list[Row], deliveries: list[Row], rule_events: list[Row], events: list[Row]
) -> None:
    """Write what a batch of attempts planned, one executemany per table (inside a transaction):
    attempt and sink rows inserted in order, rule_event and event state columns set."""
    store.insert_many("attempts", attempts)
    store.insert_many("deliveries", deliveries)
    write_states(store, rule_events, events)


ATTEMPT_OUTCOME = ("completed_at", "duration_ms", "outcome_code", "http_status", "message", "request",
                   "response")


def write_finished_batch(
    store: Store, attempts: list[Row], deliveries: list[Row], rule_events: list[Row], events: list[Row]
) -> None:
    """Write the outcomes of attempts claimed earlier (inside a transaction), one executemany per
    table: attempt outcome columns set (rows: `rule_event_id`, `attempt_number` and the
    ATTEMPT_OUTCOME columns), sink rows inserted, rule_event and event state set."""
    if attempts:  # an attempt is found by (rule_event_id, attempt_number): its id is unindexed
        sets = ", ".join(f"{column} = ?" for column in ATTEMPT_OUTCOME)
        with store.lock:
            store.conn.executemany(
                f"UPDATE attempts SET {sets} WHERE rule_event_id = ? AND attempt_number = ?",
                [(*(row[c] for c in ATTEMPT_OUTCOME), row["rule_event_id"], row["attempt_number"])
                 for row in attempts],
            )
    store.insert_many("deliveries", deliveries)
    write_states(store, rule_events, events)


def rule_events_by_id(store: Store, rule_event_ids: list[str]) -> dict[str, Row]:
    """Rule_event rows by id."""
    marks = ", ".join("?" for _ in rule_event_ids)
    rows = store.all(f"SELECT * FROM rule_events WHERE id IN ({marks})", rule_event_ids)
    return {row["id"]: row for row in rows}


_RULE_EVENT_STATE_SQL = (f"UPDATE rule_events SET {', '.join(f'{c} = ?' for c in RULE_EVENT_STATE)} "
                         "WHERE id = ?")
# A rule_event off the queue (completed, failed, in flight): no due time and no next trigger,
# written as NULL literals (sqlite3 runs its adapter lookup for every None it binds, ~1 us each)
_SETTLED = tuple(c for c in RULE_EVENT_STATE if c not in ("due_at", "next_trigger"))
_SETTLED_STATE_SQL = (f"UPDATE rule_events SET due_at = NULL, next_trigger = NULL, "
                      f"{', '.join(f'{c} = ?' for c in _SETTLED)} WHERE id = ?")
_EVENT_STATE_SQL = f"UPDATE events SET {', '.join(f'{c} = ?' for c in EVENT_STATE)} WHERE id = ?"
_rule_event_state = itemgetter(*RULE_EVENT_STATE, "id")  # rows read with every column
_settled_state = itemgetter(*_SETTLED, "id")
_event_state = itemgetter(*EVENT_STATE, "id")


def write_states(store: Store, rule_events: list[Row], events: list[Row]) -> None:
    """Set the state columns of these rule_events and events (one executemany each, two for
    rule_events when some are still scheduled; the rows carry every column, as read)."""
    settled: list[Row] = []
    scheduled: list[Row] = []
    for row in rule_events:
        (settled if row["due_at"] is None and row["next_trigger"] is None else scheduled).append(row)
    with store.lock:
        if settled:
            store.conn.executemany(_SETTLED_STATE_SQL, map(_settled_state, settled))
        if scheduled:
            store.conn.executemany(_RULE_EVENT_STATE_SQL, map(_rule_event_state, scheduled))
        if events:
            store.conn.executemany(_EVENT_STATE_SQL, map(_event_state, events))
    forget_rendered(store, [row["id"] for row in events])


def queue_stats(store: Store, now: str) -> Row:
    """How many rule_events are scheduled, how many are due now, and the next due time.

    Lookups on the partial index on `due_at`: the earliest and latest due times (one step each),
    the number scheduled (a count over the index: ~1 ms for a backlog of 60k), and the number due
    now counted only when `now` falls between the earliest and the latest (else it is none or
    all of them: with 40k due, 2.0 -> 0.5 ms; the benchmarks poll /_emulator/idle every 10 ms).
    A single query with a CASE over the rows reads every row: ~6 ms for 60k.
    """
    where = "FROM rule_events WHERE due_at IS NOT NULL"
    first = (store.one(f"SELECT MIN(due_at) AS at {where}") or {}).get("at")  # one query each:
    if first is None:  # SQLite takes MIN or MAX in one step only when it is alone
        return {"scheduled": 0, "due_now": 0, "next_due": None}
    last: str = (store.one(f"SELECT MAX(due_at) AS at {where}") or {}).get("at") or first
    scheduled = (store.one(f"SELECT COUNT(*) AS n {where}") or {}).get("n") or 0
    if first > now:
        due_now = 0
    elif last <= now:
        due_now = scheduled
    else:
        due_now = (store.one(f"SELECT COUNT(*) AS n {where} AND due_at <= ?", [now]) or {}).get("n") or 0
    return {"scheduled": scheduled, "due_now": due_now, "next_due": first}


def next_due_time(store: Store) -> str | None:
    row = store.one("SELECT MIN(due_at) AS next_due FROM rule_events WHERE due_at IS NOT NULL")
    return None if row is None else row["next_due"]


# -- attempts --------------------------------------------------------------------------------






def unfinished_attempts(store: Store) -> list[Row]:
    """Attempts started but never recorded (the process died mid-attempt)."""
    return store.all("SELECT * FROM attempts WHERE completed_at IS NULL ORDER BY rowid")


def list_attempts(store: Store, rule_event_id: str, req: PageRequest) -> list[Row]:
    clause, extra = keyset_clause(req)
    return store.all(
        "SELECT rowid AS _rowid, * FROM attempts WHERE rule_event_id = ? "
        f"AND completed_at IS NOT NULL{clause} ORDER BY rowid DESC LIMIT ?",
        [rule_event_id, *extra, req.limit + 1],
    )


def get_attempt(store: Store, rule_event_id: str, attempt_id: str) -> Row | None:
    """A finished attempt (found through its rule_event: attempt ids are not indexed)."""
    return store.one(
        "SELECT * FROM attempts WHERE id = ? AND rule_event_id = ? AND completed_at IS NOT NULL",
        [attempt_id, rule_event_id],
    )


# -- delivery sink ---------------------------------------------------------------------------




def list_deliveries(store: Store, filters: dict[str, str], limit: int) -> list[Row]:
    """Sink records oldest first, joined with their attempt's outcome."""
    where, params = where_equal({f"d.{column}": value for column, value in filters.items()})
    rows = store.all(
        "SELECT d.*, a.outcome_code, a.http_status, a.attempt_number FROM deliveries d "
        "LEFT JOIN attempts a ON a.rule_event_id = d.rule_event_id AND a.id = d.attempt_id "
        f"WHERE {where} "
        "ORDER BY d.rowid LIMIT ?",
        [*params, limit],
    )
    for row in rows:
        row["request"] = decode_json(row["request"])
    return rows
