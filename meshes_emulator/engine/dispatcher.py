"""The dispatcher: runs attempts from the durable due-time queue in SQLite, one at a time.

The queue is `rule_events.due_at` (non-null = an attempt is scheduled). `drain(until)` takes the
earliest due rule_event (ties in creation order), claims it (attempt row inserted, rule_event
`processing`, `attempt_count` + 1), runs the attempt, then records the outcome: attempt row
completed, delivery sink written, rule_event `completed` / `retrying` (retry scheduled by the
`RetryPolicy`) / `failed`, event status and counters recomputed. Attempts without network I/O run
in one transaction; a webhook attempt is claimed in one transaction, sent with no transaction
open, and recorded in a second. Everything happens under one asyncio.Lock, so outcomes and
timestamps never depend on how requests interleave.

A process killed mid-attempt leaves an attempt row without `completed_at`: at the next start
it is recorded as `internal_error` ("interrupted") and the retry policy decides what follows.

Triggers: `kick()` after ingest / retry (a worker task drains what is due now); under the system
clock the worker also wakes when the next attempt falls due; `emulator.on_work` (after the
manual clock moves) drains synchronously for the caller.

Speed: attempts without network I/O run in groups, one transaction per group (each attempt in its
own savepoint, so a failing attempt still leaves the ones before it recorded); a group ends after
GROUP_SECONDS of work. The background worker yields to the event loop after each group, so
requests keep being answered while a backlog drains (under a flood of events the queue grows and
catches up once the flood stops); explicit drains (settle, clock moves) run to the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from meshes_emulator import logs
from meshes_emulator.clock import isoformat, monotonic, parse_instant
from meshes_emulator.engine import webhook
from meshes_emulator.engine.attempts import AttemptContext, finished_at, prepare
from meshes_emulator.engine.outcomes import Outcome, OutcomeCode
from meshes_emulator.engine.retry import RetryPolicy
from meshes_emulator.engine.status import refresh_event
from meshes_emulator.store import events as event_store
from meshes_emulator.store import rules as rule_store
from meshes_emulator.store.db import Row, decode_json, encode_json

if TYPE_CHECKING:  # imported by `client()`, when the first webhook is sent (~80 ms to import)
    import httpx

# Attempt and sink ids are derived from the rule_event id and the attempt number (UUID v5), so
# they do not draw from the shared id stream: the ids of events and rule_events then do not
# depend on how background attempts interleave with requests.
ID_NAMESPACE = uuid.UUID("5b0c7d2e-8a41-4f3e-9c6b-2d7e1f0a9b34")
INTERRUPTED = "Attempt interrupted: the emulator stopped before it finished"
MAX_IDLE_WAIT = 1.0  # seconds between queue checks under the system clock
# Background worker: a drain starts with FIRST_SLICE_SECONDS of work (an event's attempts usually
# fit), then yields to the event loop. When requests arrived meanwhile (the server's request
# count moved; under another server than FastServer: the yield took longer than
# BUSY_YIELD_SECONDS), the worker leaves them the loop for BUSY_PAUSE_SECONDS and works
# SLICE_SECONDS at a time, so under a flood of requests deliveries take about a tenth of the
# time and catch up when it stops. A quiet yield doubles the slice (up to GROUP_SECONDS).
# A group of events waiting for its commit (services/group_commit.py) always goes first.
FIRST_SLICE_SECONDS = 0.002
SLICE_SECONDS = 0.00025
BUSY_YIELD_SECONDS = 0.0001
BUSY_PAUSE_SECONDS = 0.0025
GROUP_SECONDS = 0.02  # the longest one transaction lasts (explicit drains: settle, clock moves)
_EMPTY: Row = {}  # `_run_group`'s answer when nothing is due


@dataclass
class AttemptSummary:
    """What one attempt did (returned by drain, for the admin API and issue-5 tooling)."""

    attempt_id: str
    event_id: str
    rule_id: str
    rule_event_id: str
    attempt_number: int
    outcome_code: str
    status: str
    started_at: str
    next_due: str | None = None
    message: str | None = None


@dataclass
class DrainSummary:
    ran: list[AttemptSummary] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ran": len(self.ran), "attempts": [asdict(a) for a in self.ran]}


class Dispatcher:
    """Owns the queue worker, the retry policy and the webhook HTTP client of one emulator."""

    def __init__(self, emulator: Any, policy: RetryPolicy | None = None) -> None:
        self.emulator = emulator
        self.policy = policy or RetryPolicy(emulator.settings.retry_delays or RetryPolicy().delays)
        self.default_policy = self.policy
        self.webhook_timeout = webhook.DEFAULT_TIMEOUT
        self.generation = 0
        self.in_flight: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._event_rows: dict[str, Row] = {}  # attempt id -> event row, claim to finish
        self._explicit_waiting = 0  # explicit drains (settle, clock moves) waiting for the lock

    # -- loop-bound objects ---------------------------------------------------------------
    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._lock = asyncio.Lock()
            self._wake = asyncio.Event()
            self._worker = None
            self._client = None
            self._explicit_waiting = 0
        return loop

    @property
    def lock(self) -> asyncio.Lock:
        self._bind()
        assert self._lock is not None
        return self._lock

    def client(self) -> httpx.AsyncClient:
        self._bind()
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    # -- triggers -------------------------------------------------------------------------
    def kick(self) -> None:
        """Wake the worker (started on demand) to run whatever is due now."""
        if not self.emulator.settings.background_dispatcher:
            return
        try:
            loop = self._bind()
        except RuntimeError:  # no running loop: the next drain will pick the work up
            return
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work(), name="meshes-dispatcher")
        assert self._wake is not None
        self._wake.set()

    async def _work(self) -> None:
        while True:
            assert self._wake is not None
            self._wake.clear()
            timeout: float | None = MAX_IDLE_WAIT
            try:
                await self.drain(pause=True)
                timeout = self._idle_wait()
            except sqlite3.ProgrammingError:  # the store was closed: this emulator is gone
                return
            except Exception as exc:  # never let the worker die
                self.emulator.capture("DISPATCHER", "drain", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _idle_wait(self) -> float | None:
        """Seconds until the next due attempt (system clock), or None (manual clock: wait)."""
        if self.emulator.clock.mode == "manual":
            return None
        now = self.emulator.clock.now()
        next_due = event_store.next_due_time(self.emulator.store)
        if not next_due:
            return MAX_IDLE_WAIT
        delay: float = (parse_instant(next_due) - now).total_seconds()
        return min(MAX_IDLE_WAIT, max(0.001, delay))

    async def stop(self) -> None:
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
        self._worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self) -> None:
        """Forget in-flight work (the tables were emptied) and restore the default policy."""
        self.generation += 1
        self._event_rows.clear()
        self.policy = self.default_policy
        self.webhook_timeout = webhook.DEFAULT_TIMEOUT

    # -- the queue ------------------------------------------------------------------------
    async def drain(
        self,
        until: datetime | None = None,
        on_due: Callable[[datetime], None] | None = None,
        max_attempts: int | None = None,
        *,
        pause: bool = False,
    ) -> DrainSummary:
        """Run every attempt due at or before `until` (default: the clock's now), in order.

        `on_due(due_time)` is called before each attempt (a virtual clock can move to it).
        `pause`: yield to the event loop between groups of attempts (the background worker).
        """
        summary = DrainSummary()
        budget = FIRST_SLICE_SECONDS if pause else GROUP_SECONDS
        lock = self.lock
        waiting = not pause and lock.locked()
        if waiting:  # the background worker gives way to this drain at its next pause
            self._explicit_waiting += 1
        try:
            async with lock:
                if waiting:
                    self._explicit_waiting -= 1
                    waiting = False
                await self._drain_locked(summary, until, on_due, max_attempts, budget, pause)
        finally:
            if waiting:
                self._explicit_waiting -= 1
        return summary

    async def _drain_locked(
        self,
        summary: DrainSummary,
        until: datetime | None,
        on_due: Callable[[datetime], None] | None,
        max_attempts: int | None,
        budget: float,
        pause: bool,
    ) -> None:
        while max_attempts is None or len(summary.ran) < max_attempts:
            if pause:
                await self._after_waiting_ingest()
                received = self._requests_received()
            item = self._run_group(summary, until, on_due, max_attempts, budget)
            if item is _EMPTY:
                break
            if item is not None:  # a webhook attempt: sent outside any transaction
                result = await self._run(item)
                if result is not None:
                    summary.ran.append(result)
            if pause:  # let requests in; work longer next time if none were waiting
                if self._give_way():
                    break
                began = monotonic()
                await asyncio.sleep(0)
                if self._requests_arrived(received, began):
                    await asyncio.sleep(BUSY_PAUSE_SECONDS)
                    budget = SLICE_SECONDS
                else:
                    budget = min(GROUP_SECONDS, budget * 2)
                if self._give_way():
                    break

    def _requests_received(self) -> int:
        count = self.emulator.requests_received
        return -1 if count is None else count()

    def _requests_arrived(self, received: int, yielded_at: float) -> bool:
        """Whether requests came in during the last group and yield: the server's request count
        moved (serving.FastServer), or else the yield took long enough for requests to have run."""
        if received >= 0:
            return self._requests_received() != received
        return monotonic() - yielded_at > BUSY_YIELD_SECONDS

    async def _after_waiting_ingest(self) -> None:
        """Let a group of events waiting for its commit (services/group_commit.py) go first: its
        requests are answered before the worker starts a group of attempts."""
        commit = self.emulator.extensions.get("group_commit")
        while commit is not None and commit.waiting():
            await asyncio.sleep(0)

    def _give_way(self) -> bool:
        """True when a settle or clock move waits for the lock: it runs the rest at full speed
        (the worker looks again afterwards)."""
        if not self._explicit_waiting:
            return False
        if self._wake is not None:
            self._wake.set()
        return True

    def _run_group(
        self,
        summary: DrainSummary,
        until: datetime | None,
        on_due: Callable[[datetime], None] | None,
        max_attempts: int | None,
        budget: float,
    ) -> Row | None:
        """Run due attempts that need no network I/O in one transaction, for about `budget` s.

        Returns the due webhook rule_event that ended the group (`on_due` already called for
        it), `_EMPTY` when nothing more is due, or None (budget or `max_attempts` reached).
        """
        store = self.emulator.store
        item = self._next_due(until)
        if item is None:
            return _EMPTY
        started = monotonic()
        failure: BaseException | None = None
        with store.transaction():
            while True:
                if on_due is not None:
                    on_due(parse_instant(item["due_at"]))
                if item["integration_type"] == "webhook":
                    return item
                try:
                    with store.transaction():
                        result = self._run_local(item)
                except BaseException as exc:  # keep the attempts before it, then raise
                    failure = exc
                    break
                if result is not None:
                    summary.ran.append(result)
                if max_attempts is not None and len(summary.ran) >= max_attempts:
                    break
                if monotonic() - started >= budget:
                    break
                item = self._next_due(until)
                if item is None:
                    break
        if failure is not None:
            raise failure
        return None if item is not None else _EMPTY

    def _next_due(self, until: datetime | None) -> Row | None:
        limit = until or self.emulator.clock.now()
        return event_store.next_due(self.emulator.store, isoformat(limit))

    def _run_local(self, item: Row) -> AttemptSummary | None:
        """One attempt without network I/O (inside the caller's transaction)."""
        context = self._claim(item, publish=False)
        if context is None:
            return None
        decided = self._prepare(context)
        if not isinstance(decided, Outcome):  # only webhooks send requests (never here)
            decided = Outcome(OutcomeCode.INTERNAL_ERROR, "Internal error: unexpected request")
        return self._finish(context, decided, fresh=False)

    async def _run(self, item: Row) -> AttemptSummary | None:
        emulator = self.emulator
        generation = self.generation
        # Only a webhook attempt spans two transactions; then `processing` must be visible.
        io = item["integration_type"] == "webhook"
        with emulator.store.transaction():
            context = self._claim(item, publish=io)
            if context is None:
                return None
            decided = self._prepare(context)
            if isinstance(decided, Outcome):
                return self._finish(context, decided, fresh=io)
        self.in_flight = context.rule_event["id"]
        try:
            outcome = await webhook.send_webhook(
                self.client(), decided, self.webhook_timeout, now=context.started_at
            )
        finally:
            self.in_flight = None
        if generation != self.generation:
            return None  # the emulator was reset while the request was in flight
        with emulator.store.transaction():
            return self._finish(context, outcome)

    def _prepare(self, context: AttemptContext) -> Outcome | webhook.WebhookRequest:
        try:
            return prepare(self.emulator, context)
        except Exception as exc:  # a bug must not wedge the queue; it fails the test instead
            self.emulator.capture("DISPATCHER", f"attempt {context.attempt_id}", exc)
            return Outcome(OutcomeCode.INTERNAL_ERROR, f"Internal error: {type(exc).__name__}")

    def _claim(self, item: Row, publish: bool = True) -> AttemptContext | None:
        """Start an attempt: attempt row, rule_event `processing` (and the event when `publish`).

        `item` is the rule_event row just read from the queue (under the lock).
        """
        db = self.emulator.store
        rule_event = dict(item)
        if rule_event["due_at"] is None:
            return None
        event = event_store.get_event_any_org(db, rule_event["event_id"])
        if event is None:
            return None
        now_dt = self.emulator.clock.now()
        now = isoformat(now_dt)
        number = int(rule_event["attempt_count"]) + 1
        trigger = rule_event.get("next_trigger") or "scheduled"
        attempt_id = derived_id(rule_event["id"], "attempt", number)
        event_store.insert_attempt(
            db,
            {
                "id": attempt_id,
                "rule_event_id": rule_event["id"],
                "event_id": event["id"],
                "rule_id": rule_event["rule_id"],
                "attempt_number": number,
                "trigger": trigger,
                "started_at": now,
            },
        )
        changes = {
            "status": "processing",
            "attempt_count": number,
            "due_at": None,
            "next_trigger": None,
            "completed_at": None,
        }
        if not rule_event["started_at"]:
            changes["started_at"] = now
        event_store.update_rule_event(db, rule_event["id"], changes)
        rule_event.update(changes)
        if publish:
            refresh_event(db, event, now)
        connection = rule_store.get_connection_any_org(db, rule_event["connection_id"])
        payload_event = {**event, "payload": decode_json(event["payload"])}
        self._event_rows[attempt_id] = event
        return AttemptContext(
            attempt_id=attempt_id,
            attempt_number=number,
            trigger=trigger,
            rule_event=rule_event,
            event=payload_event,
            connection=connection,
            rule_metadata=decode_json(rule_event["rule_metadata"]) or {},
            started_at=now_dt,
            generation=self.generation,
        )

    def _finish(self, context: AttemptContext, outcome: Outcome, fresh: bool = True) -> AttemptSummary | None:
        """Record the outcome and move the rule_event and event on.

        `fresh`: re-read the rows (another request may have changed them since the claim);
        False only inside the claim's own transaction.
        """
        db = self.emulator.store
        cached = self._event_rows.pop(context.attempt_id, None)
        if fresh or cached is None:
            rule_event = event_store.get_rule_event_by_id(db, context.rule_event["id"])
            event = event_store.get_event_any_org(db, context.rule_event["event_id"])
        else:
            rule_event, event = context.rule_event, cached
        if rule_event is None or event is None:
            return None
        now_dt = finished_at(self.emulator.clock.now(), context)  # later with a latency fault
        now = isoformat(now_dt)
        duration = max(0, int((now_dt - context.started_at).total_seconds() * 1000))
        event_store.update_attempt(
            db,
            context.attempt_id,
            {
                "completed_at": now,
                "duration_ms": duration,
                "outcome_code": outcome.code,
                "http_status": outcome.http_status,
                "message": outcome.message,
                "request": encode_json(outcome.request),
                "response": encode_json(_shallow(outcome.response) if outcome.response else None),
            },
        )
        if outcome.request is not None:
            self._sink(context, outcome)
        next_due = self._transition(rule_event, context, outcome, now_dt)
        logs.attempt_finished(context, rule_event, outcome, next_due)
        refresh_event(db, event, now)
        return AttemptSummary(
            attempt_id=context.attempt_id,
            event_id=rule_event["event_id"],
            rule_id=rule_event["rule_id"],
            rule_event_id=rule_event["id"],
            attempt_number=context.attempt_number,
            outcome_code=outcome.code,
            status=rule_event["status"],
            started_at=isoformat(context.started_at),
            next_due=next_due,
            message=outcome.message,
        )

    def _transition(
        self, rule_event: Row, context: AttemptContext, outcome: Outcome, now_dt: datetime
    ) -> str | None:
        """The rule_event's new status after an attempt; returns the next due time if any."""
        now = isoformat(now_dt)
        if rule_event["status"] == "canceled":  # canceled while in flight: stays canceled
            return None
        changes: dict[str, Any]
        next_due: str | None = None
        if outcome.ok:
            changes = {"status": "completed", "completed_at": now, "due_at": None}
        else:
            due = self.policy.next_due(now_dt, context.attempt_number, outcome)
            message = outcome.message or outcome.code
            if due is None:
                changes = {"status": "failed", "completed_at": now, "due_at": None}
            else:
                next_due = isoformat(due)
                changes = {"status": "retrying", "due_at": next_due}
            changes["last_error"] = f"{outcome.code}: {message}"
        event_store.update_rule_event(self.emulator.store, rule_event["id"], changes)
        rule_event.update(changes)
        return next_due

    def _sink(self, context: AttemptContext, outcome: Outcome) -> None:
        rule_event = context.rule_event
        event_store.insert_delivery(
            self.emulator.store,
            {
                "id": derived_id(context.attempt_id, "delivery"),
                "attempt_id": context.attempt_id,
                "rule_event_id": rule_event["id"],
                "org_id": rule_event["org_id"],
                "workspace_id": rule_event["workspace_id"],
                "connection_id": rule_event["connection_id"],
                "event_id": rule_event["event_id"],
                "rule_id": rule_event["rule_id"],
                "integration_type": rule_event["integration_type"],
                "action": context.action,
                "request": encode_json(outcome.request),
                "created_at": isoformat(context.started_at),
            },
        )

    # -- crash recovery -------------------------------------------------------------------
    def recover(self) -> int:
        """Record attempts a killed process left unfinished; returns how many."""
        db = self.emulator.store
        interrupted = event_store.unfinished_attempts(db)
        now_dt = self.emulator.clock.now()
        for attempt in interrupted:
            with db.transaction():
                rule_event = event_store.get_rule_event_by_id(db, attempt["rule_event_id"])
                if rule_event is None:
                    continue
                context = AttemptContext(
                    attempt_id=attempt["id"],
                    attempt_number=attempt["attempt_number"],
                    trigger=attempt["trigger"],
                    rule_event=rule_event,
                    event={},
                    connection=None,
                    rule_metadata=decode_json(rule_event["rule_metadata"]) or {},
                    started_at=min(parse_instant(attempt["started_at"]), now_dt),
                )
                self._finish(context, Outcome(OutcomeCode.INTERNAL_ERROR, INTERRUPTED))
        return len(interrupted)

    def stats(self) -> dict[str, Any]:
        """Queue state for /_emulator/idle."""
        now = isoformat(self.emulator.clock.now())
        stats = event_store.queue_stats(self.emulator.store, now)
        in_flight = 1 if self.in_flight is not None else 0
        busy = in_flight or (self._lock is not None and self._lock.locked())
        return {
            "idle": not busy and stats["due_now"] == 0,
            "in_flight": in_flight,
            "due_now": stats["due_now"],
            "scheduled": stats["scheduled"],
            "next_due": stats["next_due"],
            "now": now,
        }


def derived_id(*parts: object) -> str:
    """A stable UUID (v5) for an engine record, from the ids it belongs to.

    The same value as `str(uuid.uuid5(ID_NAMESPACE, name))`, computed without UUID objects.
    """
    name = ":".join(str(part) for part in parts)
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def _shallow(value: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, without `asdict`'s deep copies (it is encoded at once)."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def get(emulator: Any) -> Dispatcher:
    """The emulator's dispatcher (installed at create_app)."""
    dispatcher: Dispatcher = emulator.extensions["dispatcher"]
    return dispatcher


def install(emulator: Any) -> None:
    """Attach the dispatcher: recovery now, worker on startup, drain on clock moves."""
    dispatcher = Dispatcher(emulator)
    emulator.extensions["dispatcher"] = dispatcher
    dispatcher.recover()

    async def run_due() -> None:
        await dispatcher.drain()

    async def start() -> None:
        if emulator.settings.background_dispatcher:
            dispatcher.kick()

    async def stop() -> None:
        await dispatcher.stop()

    emulator.on_work.append(run_due)
    emulator.on_reset.append(dispatcher.reset)
    emulator.extensions.setdefault("on_startup", []).append(start)
    emulator.extensions.setdefault("on_shutdown", []).append(stop)
