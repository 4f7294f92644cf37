"""Events: ingestion with fan-out, reads, manual retry, cancel, attempts (reference §10).

An accepted event, its rule_events and its catalog entries are written in one transaction, so a
2xx answer means the event and its queued deliveries are on disk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from meshes_emulator.auth import Principal
from meshes_emulator.clock import isoformat, parse_instant
from meshes_emulator.context import Emulator
from meshes_emulator.engine.fanout import rule_events_for
from meshes_emulator.engine.matching import connection_inactive_reason
from meshes_emulator.engine.status import TERMINAL, refresh_event
from meshes_emulator.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    PayloadTooLarge,
    TooEarly,
    UnprocessableEntity,
    ValidationFailed,
    not_found,
)
from meshes_emulator.paging import PageRequest, envelope_json
from meshes_emulator.schemas import events as wire
from meshes_emulator.schemas.common import lower_id
from meshes_emulator.schemas.events import EventIn, PayloadTooLargeProblem, parse_event
from meshes_emulator.services import workspaces
from meshes_emulator.services.rules import register_catalogs
from meshes_emulator.services.session_scope import implied_event
from meshes_emulator.store import events as store
from meshes_emulator.store import rules as rule_store
from meshes_emulator.store.db import Row

MAX_BULK = 100
IMMINENT_SECONDS = 1.0
FILTERS = ("event", "resource", "resource_id", "status")


# -- ingestion -------------------------------------------------------------------------------


# What the credentials imply: a publishable key its workspace (`_workspace_for`, after the body is
# parsed); an embed session its workspace and, a resource session, its resource
# (`session_scope.implied_event`, before, as the session's values are checked like the body's).


def _workspace_for(emulator: Emulator, who: Principal, item: EventIn, prefix: str) -> str:
    """The workspace an event goes to, from the key or the body (see behaviour-events.md)."""
    if who.kind == "publishable":
        assert who.workspace_id is not None
        if item.workspace is not None and item.workspace != who.workspace_id:
            raise Forbidden(
                "Forbidden",
                detail=f"The publishable key belongs to another workspace than {prefix}workspace",
            )
        return who.workspace_id
    if item.workspace is None and who.workspace_id is not None:
        return who.workspace_id  # a machine token sent with a publishable key (auth.py)
    if item.workspace is None:
        raise ValidationFailed(
            [{"param": prefix + "workspace", "msg": "is required when authenticating with a machine token"}]
        )
    workspaces.get(emulator, who.org_id, item.workspace)
    return item.workspace


def _parse(emulator: Emulator, item: Any, prefix: str) -> EventIn:
    """The checked event (400/413); inferred problems refuse it in strict mode, else warn."""
    try:
        parsed = parse_event(item, prefix, emulator.leniency.strict)
    except PayloadTooLargeProblem as exc:
        raise PayloadTooLarge("Payload Too Large", detail=f"{prefix}{exc}") from None
    if isinstance(parsed, list):
        raise ValidationFailed(parsed)
    if parsed.warnings:
        emulator.leniency.warn(parsed.warnings)
    return parsed


def _insert(
    emulator: Emulator, who: Principal, workspace_id: str, item: EventIn, event_id: str | None = None
) -> Row:
    """Insert one event with its rule_events and catalog entries (inside a transaction)."""
    planned = _Planned()
    row = planned.add(emulator, who, workspace_id, item, event_id)
    planned.write(emulator)
    return row


def _plan(
    emulator: Emulator, who: Principal, workspace_id: str, item: EventIn, event_id: str | None = None
) -> tuple[Row, list[tuple[Any, ...]]]:
    """The event row and its rule_event rows (tuples, see fanout.py), not written yet.

    Event and rule_event ids are time-ordered (UUID v7 from the emulator clock); the rule_events
    are planned first so the event row is written once, with its final counters.
    """
    db = emulator.store
    now_dt = emulator.clock.now()
    now = isoformat(now_dt)
    row: Row = {
        "id": event_id or emulator.ids.uuid7(now_dt),
        "org_id": who.org_id,
        "workspace_id": workspace_id,
        "event": item.event,
        "resource": item.resource,
        "resource_id": item.resource_id,
        "payload": item.payload_json,
        "status": "pending",
        "total_rules": 0,
        "completed_count": 0,
        "failed_count": 0,
        "started_at": None,
        "completed_at": None,
        "created_by": who.created_by,
        "created_at": now,
    }
    rule_events = rule_events_for(db, row, lambda: emulator.ids.uuid7(now_dt))
    if rule_events:
        row["total_rules"] = len(rule_events)
    else:
        row.update({"status": "completed", "started_at": now, "completed_at": now})
    return row, rule_events


def create(emulator: Emulator, who: Principal, body: Any) -> Row:
    """Ingest one event (201 body source), in a transaction of its own."""
    item = _parse(emulator, implied_event(who, body), "")
    with emulator.store.transaction():
        workspace_id = _workspace_for(emulator, who, item, "")
        return _insert(emulator, who, workspace_id, item)


def parse_one(emulator: Emulator, who: Principal, body: Any) -> EventIn:
    """The body of POST /events, checked (400/413 before anything is queued or written).

    Runs in the request's task, so its warnings reach the response (the group commit does not).
    """
    return _parse(emulator, implied_event(who, body), "")


def create_group(emulator: Emulator, batch: list[tuple[Principal, EventIn]]) -> list[Row | ApiError]:
    """Ingest the events of several single-event requests in one transaction (group commit).

    Each request gets its own answer: the event row, or the error that refused it (a refusal
    writes nothing). The accepted events go in with one executemany, in the order given.
    """
    answers: list[Row | ApiError] = []
    with emulator.store.transaction():
        planned = _Planned()
        for who, item in batch:
            try:
                workspace_id = _workspace_for(emulator, who, item, "")
            except ApiError as exc:
                answers.append(exc)
                continue
            answers.append(planned.add(emulator, who, workspace_id, item))
        planned.write(emulator)
    return answers


class _Planned:
    """Events planned for one transaction, written together (two executemany calls)."""

    def __init__(self) -> None:
        self.events: list[Row] = []
        self.rule_events: list[tuple[Any, ...]] = []
        self.catalogs: list[tuple[str, str, str | None, str]] = []

    def add(
        self, emulator: Emulator, who: Principal, workspace_id: str, item: EventIn,
        event_id: str | None = None,
    ) -> Row:
        row, rule_events = _plan(emulator, who, workspace_id, item, event_id)
        self.events.append(row)
        self.rule_events.extend(rule_events)
        self.catalogs.append((workspace_id, item.event, item.resource, who.created_by))
        return row

    def write(self, emulator: Emulator) -> None:
        store.insert_events(emulator.store, self.events)
        store.insert_rule_events(emulator.store, self.rule_events)
        for workspace_id, event, resource, created_by in self.catalogs:
            register_catalogs(emulator, workspace_id, event, resource, created_by)


def create_bulk(emulator: Emulator, who: Principal, body: Any) -> tuple[int, dict[str, Any]]:
    """Ingest 1-100 events; returns (201 or 207, BulkEventResult)."""
    if not isinstance(body, list):
        raise BadRequest(detail="The request body must be a JSON array of events")
    if not body:
        raise ValidationFailed([{"param": "body", "msg": "must contain at least one event"}])
    if len(body) > MAX_BULK:
        raise ValidationFailed([{"param": "body", "msg": f"must contain at most {MAX_BULK} events"}])
    records: list[dict[str, Any]] = []
    errors = 0
    with emulator.store.transaction():
        # Every item is checked and planned first (nothing is written before a refusal), then
        # the accepted events and their rule_events go in with one executemany each.
        planned = _Planned()
        for index, raw in enumerate(body):
            prefix = f"[{index}]."
            try:
                item = _parse(emulator, implied_event(who, raw), prefix)
                workspace_id = _workspace_for(emulator, who, item, prefix)
            except ApiError as exc:
                errors += 1
                records.append(exc.body())
                continue
            records.append(wire.created_event(planned.add(emulator, who, workspace_id, item)))
        planned.write(emulator)
    emulator.dispatcher.work_due()
    result: dict[str, Any] = {"count": len(records), "records": records}
    if errors:
        result["error_count"] = errors
        return 207, result
    return 201, result


# -- reads -----------------------------------------------------------------------------------


def get(emulator: Emulator, org_id: str, event_id: str) -> Row:
    row = store.get_event(emulator.store, org_id, event_id)
    if row is None:
        raise not_found("Event")
    return row


def rule_events(emulator: Emulator, event_id: str) -> list[Row]:
    return store.rule_events_of(emulator.store, event_id)


MAX_RENDERED = 50_000  # list records kept rendered; past that the cache starts again


def list_page_json(
    emulator: Emulator,
    org_id: str,
    req: PageRequest,
    filters: dict[str, str] | None = None,
    workspace_id: str | None = None,
) -> bytes:
    """A page of events, newest first, as the response body (the same bytes `envelope` would
    give, rendered by orjson).

    Each event's record is rendered once per state and kept (`store.RENDERED_CACHE`, by rowid): a
    page costs a query of its rowids (the index alone), plus the columns of events not rendered
    yet or changed since (every event update forgets its record; a rollback or reset forgets
    them all).
    """
    if workspace_id is not None:
        workspaces.get(emulator, org_id, workspace_id)
    db = emulator.store
    keys = store.list_event_keys(db, org_id, req, workspace_id=workspace_id, filters=filters)
    page = keys[: req.limit]
    rendered = db.cached(store.RENDERED_CACHE)
    if len(rendered) > MAX_RENDERED:  # start again
        db.forget(store.RENDERED_CACHE)
        rendered = db.cached(store.RENDERED_CACHE)
    missing = [rowid for rowid in page if rowid not in rendered]
    if missing:
        for row in store.events_by_rowid(db, missing):
            # a copy of exactly its length: the bytes orjson returns keep the capacity of its
            # working buffer (~4 KiB a record held, for ~390 bytes of JSON)
            rendered[row["_rowid"]] = memoryview(orjson.dumps(wire.event(row))).tobytes()
    next_rowid = page[-1] if len(keys) > req.limit and page else None
    return envelope_json([rendered[rowid] for rowid in page], req, next_rowid)


def filters_from(query: Any) -> dict[str, str]:
    """Exact-match filters of getWorkspaceEvents; 400 for an unknown status."""
    filters = {name: query[name] for name in FILTERS if query.get(name)}
    status = filters.get("status")
    if status is not None and status not in wire.STATUSES:
        raise ValidationFailed([{"param": "status", "msg": "must be one of " + ", ".join(wire.STATUSES)}])
    return filters


def get_rule_event(emulator: Emulator, org_id: str, event_id: str, rule_id: str) -> Row:
    get(emulator, org_id, event_id)
    row = store.get_rule_event(emulator.store, event_id, rule_id)
    if row is None:
        raise not_found("Rule event")
    return row


# -- manual retry and cancel -----------------------------------------------------------------


def retry(emulator: Emulator, org_id: str, event_id: str, rule_id: str) -> Row:
    """Force the next attempt of one rule for one event (§10.6)."""
    db = emulator.store
    with db.transaction():
        event = get(emulator, org_id, event_id)
        rule_event = get_rule_event(emulator, org_id, event_id, rule_id)
        now_dt = emulator.clock.now()
        status = rule_event["status"]
        if status == "processing":
            raise TooEarly("Too Early", detail="A delivery attempt is already in flight")
        if status in ("pending", "retrying") and rule_event["due_at"] is not None:
            due = parse_instant(rule_event["due_at"])
            if due <= now_dt + timedelta(seconds=IMMINENT_SECONDS):
                raise TooEarly(
                    "Too Early", detail=f"A scheduled attempt is imminent (due {rule_event['due_at']})"
                )
        if status in ("completed", "canceled"):
            raise Conflict("Conflict", detail=f"The rule event is already {status}")
        if rule_store.get_rule(db, org_id, rule_id) is None:
            raise UnprocessableEntity(
                "Unprocessable Entity", detail="The rule was deleted; it cannot be retried"
            )
        connection = rule_store.get_connection(db, org_id, rule_event["connection_id"])
        reason = connection_inactive_reason(connection)
        if reason is not None:
            raise UnprocessableEntity(
                "Unprocessable Entity", detail=f"The connection cannot deliver ({reason})"
            )
        now = isoformat(now_dt)
        changes = {
            "status": "retrying" if rule_event["attempt_count"] else "pending",
            "due_at": now,
            "completed_at": None,
            "next_trigger": "manual",
        }
        store.update_rule_event(db, rule_event["id"], changes)
        rule_event.update(changes)
        refresh_event(db, event, now)
    emulator.dispatcher.work_due()
    return rule_event


def cancel_rule(emulator: Emulator, org_id: str, event_id: str, rule_id: str) -> Row:
    """Stop further delivery of one rule for one event (§10.10)."""
    db = emulator.store
    with db.transaction():
        event = get(emulator, org_id, event_id)
        rule_event = get_rule_event(emulator, org_id, event_id, rule_id)
        if rule_event["status"] in TERMINAL:
            raise Conflict("Conflict", detail=f"The rule event is already {rule_event['status']}")
        now = isoformat(emulator.clock.now())
        _cancel(emulator, rule_event, now)
        refresh_event(db, event, now)
        return rule_event


def cancel_event(emulator: Emulator, org_id: str, event_id: str) -> tuple[Row, list[Row]]:
    """Stop further delivery of every non-terminal rule of the event (§10.11)."""
    db = emulator.store
    with db.transaction():
        event = get(emulator, org_id, event_id)
        rows = store.rule_events_of(db, event_id)
        open_rows = [r for r in rows if r["status"] not in TERMINAL]
        if not open_rows:
            raise Conflict("Conflict", detail="The event has no delivery left to cancel")
        now = isoformat(emulator.clock.now())
        for row in open_rows:
            _cancel(emulator, row, now)
        refresh_event(db, event, now)
        return event, rows


def _cancel(emulator: Emulator, rule_event: Row, now: str) -> None:
    changes = {"status": "canceled", "due_at": None, "next_trigger": None, "completed_at": now}
    store.update_rule_event(emulator.store, rule_event["id"], changes)
    rule_event.update(changes)


# -- attempts --------------------------------------------------------------------------------


def list_attempts(
    emulator: Emulator, org_id: str, event_id: str, rule_id: str, req: PageRequest
) -> list[Row]:
    rule_event = get_rule_event(emulator, org_id, event_id, rule_id)
    return store.list_attempts(emulator.store, rule_event["id"], req)


def get_attempt(emulator: Emulator, org_id: str, event_id: str, rule_id: str, attempt_id: str) -> Row:
    rule_event = get_rule_event(emulator, org_id, event_id, rule_id)
    row = store.get_attempt(emulator.store, rule_event["id"], attempt_id)
    if row is None:
        raise not_found("Attempt")
    return row


# -- seed files ------------------------------------------------------------------------------


def load_seed_events(
    emulator: Emulator, org_id: str, workspace: Row, items: list[Any], refs: dict[str, str]
) -> None:
    """The `events:` section of a workspace: ingested like POST /events (rules fan out)."""
    for index, item in enumerate(items):
        where = f"workspace '{workspace['name']}' events[{index}]"
        try:
            if not isinstance(item, dict):
                raise BadRequest(detail="must be a mapping")
            event_id = lower_id(item.get("id"))
            if event_id is not None and (not isinstance(event_id, str) or not wire.UUID_RE.match(event_id)):
                raise BadRequest(detail="id: must be a UUID")
            if event_id is not None and store.get_event_any_org(emulator.store, event_id):
                continue  # already loaded
            body = {k: v for k, v in item.items() if k not in ("id", "created_by", "ref")}
            parsed = _parse(emulator, {**body, "workspace": workspace["id"]}, "")
            who = Principal(kind="machine", org_id=org_id,
                            created_by=str(item.get("created_by") or "fixture"))
            row = _insert(emulator, who, workspace["id"], parsed, event_id)
        except ApiError as exc:
            detail = exc.detail or exc.message
            if exc.data:
                detail = "; ".join(f"{d['param']}: {d['msg']}" for d in exc.data)
            raise BadRequest(detail=f"{where}: {detail}") from None
        if item.get("ref"):
            refs[f"event:{item['ref']}"] = row["id"]

