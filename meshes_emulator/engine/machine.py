"""The attempt state machine: claim a due rule_event, decide the attempt, record its outcome.

A claim inserts the attempt row, marks the rule_event `processing` and counts the attempt; the
outcome completes the attempt row, writes the delivery sink (when something was sent), moves the
rule_event to `completed` / `retrying` (retry scheduled by the `RetryPolicy`) / `failed`, and
recomputes the event's status and counters. Nothing here decides *when* attempts run: that is
the dispatcher (engine/dispatcher.py) and its pacing (engine/pacing.py).

Two ways through it:

* `run_batch`: many due attempts in one transaction. Rows are planned in Python, in queue order,
  against an in-memory copy of the rule_events and events they touch (retries that fall due
  inside the batch run in their place), then written with one `executemany` per table. Each
  attempt's planning runs in its own savepoint: one that raises is left as it was (still due)
  and the others are recorded. Webhook attempts are claimed here and sent afterwards by the
  dispatcher, or (manual clock) end the batch so they run one at a time, in order.
* `claim` / `finish`: one attempt, for a webhook sent between two transactions and for recovery.

Attempt and sink ids are derived from the rule_event id and the attempt number (UUID v5, ids.py), so they
do not draw from the shared id stream: the ids of events and rule_events then do not depend on how
background attempts interleave with requests.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from meshes_emulator import ids, logs
from meshes_emulator.clock import isoformat, monotonic, parse_instant
from meshes_emulator.engine import webhook
from meshes_emulator.engine.attempts import AttemptContext, finished_at, mapping_schema, prepare
from meshes_emulator.engine.outcomes import Outcome, OutcomeCode, ResponseDetails
from meshes_emulator.engine.retry import RetryPolicy
from meshes_emulator.engine.status import event_changes, refresh_event
from meshes_emulator.store import events as event_store
from meshes_emulator.store import rules as rule_store
from meshes_emulator.store.db import Row, decode_json, encode_json

if TYPE_CHECKING:
    from meshes_emulator.context import Emulator

INTERRUPTED = "Attempt interrupted: the emulator stopped before it finished"
BATCH_SIZE = 128  # rule_events read per batch, at most
FIRST_ATTEMPT_COST = 0.0001  # seconds one simulated attempt is assumed to take until measured
WHOLE_BATCH_BUDGET = 0.005  # from this budget on, batches are sized by what a whole batch costs
MAX_LISTED = 1000  # attempts listed in one settle / clock-move answer (`ran` counts them all)


@dataclass
class AttemptSummary:
    """What one attempt did (listed by settle and clock moves)."""

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
    """How many attempts a drain ran, and the first MAX_LISTED of them when `keep` (the
    background worker keeps none: nothing reads them)."""

    ran: list[AttemptSummary] = field(default_factory=list)
    count: int = 0
    keep: bool = True

    def add(self, attempt: AttemptSummary | None) -> None:
        if attempt is None:
            return
        self.count += 1
        if self.keep and len(self.ran) < MAX_LISTED:
            self.ran.append(attempt)

    def listing(self) -> bool:
        """Whether the next attempt is listed (else it is only counted: its summary is not built)."""
        return self.keep and len(self.ran) < MAX_LISTED

    def as_dict(self) -> dict[str, Any]:
        return {"ran": self.count, "attempts": [asdict(a) for a in self.ran]}


@dataclass
class Claim:
    """A webhook attempt claimed and committed, to be sent with no transaction open."""

    context: AttemptContext
    request: webhook.WebhookRequest


@dataclass
class BatchResult:
    claims: list[Claim] = field(default_factory=list)  # webhooks to send (system clock)
    webhook: Row | None = None  # the webhook rule_event that ended the batch (sent inline)
    more: bool = False  # more may be due: run another batch
    failure: BaseException | None = None  # raised by one attempt's planning (the rest recorded)


@dataclass
class _Plan:
    """What one transaction's attempts read and will write."""

    events: dict[str, Row]
    statuses: dict[str, dict[str, str]]
    attempts: list[Row] = field(default_factory=list)
    deliveries: list[Row] = field(default_factory=list)
    rule_events: dict[str, Row] = field(default_factory=dict)
    touched: dict[str, Row] = field(default_factory=dict)


@dataclass
class _Memo:
    """Rows read (and JSON decoded) once per batch (one transaction: nothing else writes
    meanwhile); what is shared is only read by the attempts."""

    connections: dict[str, Row | None] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Row] = field(default_factory=dict)  # event id -> the event, payload decoded
    rule_metadata: dict[str | None, dict[str, Any]] = field(default_factory=dict)  # JSON -> decoded


@dataclass
class BatchLimits:
    """How far one batch may go."""

    until: datetime | None  # None: the clock's now
    budget: float  # seconds of work
    max_attempts: int | None = None
    inline_webhooks: bool = True  # manual clock: a webhook ends the batch
    admit: Callable[[Row], bool] | None = None  # a free slot for this webhook? (reserves it)
    skip_connections: frozenset[str] = frozenset()
    webhooks: bool = True  # False: every delivery slot is taken


class AttemptMachine:
    """Claims, decides and records attempts against one emulator's store."""

    def __init__(self, emulator: Emulator, policy: RetryPolicy) -> None:
        self.emulator = emulator
        self.policy = policy
        self.generation = 0
        self.attempt_cost = FIRST_ATTEMPT_COST  # seconds per attempt planned (moving average)
        self.batch_cost = FIRST_ATTEMPT_COST  # the same, reads, writes and commit included
        self._memo: _Memo | None = None  # set while a batch runs
        self._response: tuple[object, str | None] = (None, None)  # the last response encoded

    def reset(self, policy: RetryPolicy) -> None:
        self.generation += 1
        self.policy = policy

    # -- batches ------------------------------------------------------------------------------
    def run_batch(
        self, limits: BatchLimits, summary: DrainSummary, on_due: Callable[[datetime], None] | None
    ) -> BatchResult:
        """Run due attempts in one transaction, in queue order, for about `limits.budget` s."""
        db = self.emulator.store
        limit = isoformat(limits.until or self.emulator.clock.now())
        size = self.batch_size(limits)
        opened = monotonic()
        items = event_store.due_batch(db, limit, size, skip_connections=limits.skip_connections,
                                      webhooks=limits.webhooks)
        result = BatchResult()
        if not items:
            return result
        full = len(items) == size
        boundary = (items[-1]["due_at"], items[-1]["_rowid"]) if full else None
        queue = [(item["due_at"], item["_rowid"], n, item) for n, item in enumerate(items)]
        event_ids = list(dict.fromkeys(item["event_id"] for item in items))
        self._memo = _Memo()
        try:
            with db.transaction():
                events = event_store.event_rows_by_id(db, event_ids)
                plan = _Plan(events, event_store.statuses_by_event(db, event_ids))
                began, planned = monotonic(), summary.count
                result.more = self._plan_batch(plan, queue, boundary, limit, limits, summary, on_due,
                                               result)
                self._measure(monotonic() - began, summary.count - planned + len(result.claims))
                result.more = result.more or full
                self._write(plan)
            ran = summary.count - planned + len(result.claims)
            if ran > 0:
                self.batch_cost = 0.8 * self.batch_cost + 0.2 * max((monotonic() - opened) / ran, 1e-6)
        finally:
            self._memo = None
        return result

    def batch_size(self, limits: BatchLimits) -> int:
        """How many due rule_events to read: what the budget allows (reading 128 rows for a
        0.25 ms slice under a flood of requests would cost more than the slice itself).

        A long budget (an explicit drain's 10 ms, a quiet worker's) is divided by what a whole
        batch costs an attempt, its reads, writes and commit included: by the planning cost
        alone, a "10 ms" batch of 128 took 16-35 ms and held health probes that long. A short
        one keeps the planning cost (pacing.py leaves requests nine times what a slice took)."""
        cost = self.attempt_cost
        if limits.budget >= WHOLE_BATCH_BUDGET:
            cost = max(cost, self.batch_cost)
        wanted = int(limits.budget / cost) + 1
        if limits.max_attempts is not None:
            wanted = min(wanted, limits.max_attempts)
        return max(1, min(BATCH_SIZE, wanted))

    def _measure(self, seconds: float, attempts: int) -> None:
        if attempts > 0:
            self.attempt_cost = 0.8 * self.attempt_cost + 0.2 * max(seconds / attempts, 1e-6)

    def _plan_batch(
        self,
        plan: _Plan,
        queue: list[tuple[str, int, int, Row]],
        boundary: tuple[str, int] | None,
        limit: str,
        limits: BatchLimits,
        summary: DrainSummary,
        on_due: Callable[[datetime], None] | None,
        result: BatchResult,
    ) -> bool:
        """Plan attempts from `queue` (a heap) in order; returns True when stopped early."""
        started = monotonic()
        sequence = len(queue)
        store = self.emulator.store
        guarded = self._planning_writes()
        while queue:
            due, rowid, _, item = queue[0]
            if boundary is not None and (due, rowid) > boundary:
                return True  # the next batch reads it in its place
            if item["integration_type"] == "webhook":
                if limits.inline_webhooks:
                    result.webhook = item
                    return True
                if limits.admit is not None and not limits.admit(item):
                    heapq.heappop(queue)
                    continue  # its connection (or every slot) is busy: it stays due
            heapq.heappop(queue)
            if on_due is not None:
                on_due(parse_instant(due))
            try:
                if guarded:
                    with store.transaction():
                        rule_event = self._plan_one(plan, item, summary, result)
                else:  # nothing to roll back: planning wrote nothing
                    rule_event = self._plan_one(plan, item, summary, result)
            except Exception as exc:  # keep the others; this one stays as it was
                result.failure = result.failure or exc
                continue
            due_again: str | None = None if rule_event is None else rule_event["due_at"]
            if rule_event is not None and due_again is not None and due_again <= limit:
                sequence += 1  # a retry due within this batch runs in its place
                heapq.heappush(queue, (due_again, int(rule_event["_rowid"]), sequence, rule_event))
            if limits.max_attempts is not None and summary.count >= limits.max_attempts:
                return True
            if monotonic() - started >= limits.budget:
                return True
        return False

    def _planning_writes(self) -> bool:
        """Whether planning an attempt may write (a delivery fault's counters, a deactivated
        connection): then each attempt is planned in its own savepoint, so one that raises leaves
        nothing behind. Otherwise planning only reads and fills the plan (written at the end),
        and an attempt that raises leaves the plan as it was."""
        faults = self.emulator.faults
        return bool(faults.dirty or faults.has_delivery)

    def _plan_one(
        self, plan: _Plan, item: Row, summary: DrainSummary, result: BatchResult
    ) -> Row | None:
        """Claim, decide and (unless it is a webhook to send) record one attempt in `plan`."""
        event = plan.events.get(item["event_id"])
        if item["due_at"] is None or event is None:
            return None
        context = self._context(item, event)
        decided = self.prepare(context)
        if self._memo is not None and not (isinstance(decided, Outcome) and decided.ok):
            # a failing attempt may have changed its connection (a fault can mark it inactive)
            self._memo.connections.pop(context.connection_id, None)
        rule_event = context.rule_event
        statuses = plan.statuses.setdefault(event["id"], {})
        if isinstance(decided, webhook.WebhookRequest):
            plan.attempts.append(self._attempt_row(context))
            statuses[rule_event["id"]] = rule_event["status"]
            event_changes(event, statuses.values(), isoformat(context.started_at))
            result.claims.append(Claim(context, decided))
            plan.rule_events[rule_event["id"]] = rule_event
            plan.touched[event["id"]] = event
        else:
            attempt = self._attempt_row(context)
            listed = summary.listing()
            recorded = self._record(plan, rule_event, event, context, decided, attempt, listed)
            if listed:
                summary.add(recorded)
            else:
                summary.count += 1
        return rule_event

    def _context(self, item: Row, event: Row) -> AttemptContext:
        """The claim in memory: the attempt's context, its rule_event already `processing`."""
        rule_event = dict(item)
        now_dt = self.emulator.clock.now()
        number = int(rule_event["attempt_count"]) + 1
        trigger = rule_event.get("next_trigger") or "scheduled"
        if not rule_event["started_at"]:
            rule_event["started_at"] = isoformat(now_dt)
        rule_event["status"] = "processing"
        rule_event["attempt_count"] = number
        rule_event["due_at"] = rule_event["next_trigger"] = rule_event["completed_at"] = None
        connection = self._connection(rule_event["connection_id"])
        return AttemptContext(
            attempt_id=ids.attempt_id(rule_event["id"], number),
            attempt_number=number,
            trigger=trigger,
            rule_event=rule_event,
            event=self._event_view(event),
            connection=connection,
            rule_metadata=self._rule_metadata(rule_event["rule_metadata"]),
            started_at=now_dt,
            generation=self.generation,
        )

    def _connection(self, connection_id: str) -> Row | None:
        if self._memo is None:
            return rule_store.get_connection_any_org(self.emulator.store, connection_id)
        memo = self._memo.connections
        if connection_id not in memo:
            memo[connection_id] = rule_store.get_connection_any_org(self.emulator.store, connection_id)
        return memo[connection_id]

    def _event_view(self, event: Row) -> Row:
        """The event with its payload decoded, for the attempt to read (shared by the event's
        attempts in a batch: attempts read only its immutable columns, never change it)."""
        if self._memo is None:
            return {**event, "payload": decode_json(event["payload"])}
        memo = self._memo.events
        view = memo.get(event["id"])
        if view is None:
            view = memo[event["id"]] = {**event, "payload": decode_json(event["payload"])}
        return view

    def _rule_metadata(self, text: str | None) -> dict[str, Any]:
        """The rule's decoded metadata (shared by the attempts of a batch: read, never changed)."""
        if self._memo is None:
            return decode_json(text) or {}
        memo = self._memo.rule_metadata
        value = memo.get(text)
        if value is None:
            value = memo[text] = decode_json(text) or {}
        return value

    def mapping_schema(self, context: AttemptContext) -> Any:
        """The connection's default mapping schema, read once per batch."""
        if self._memo is None:
            return mapping_schema(self.emulator, context)
        memo = self._memo.mappings
        if context.connection_id not in memo:
            memo[context.connection_id] = mapping_schema(self.emulator, context)
        return memo[context.connection_id]

    def _write(self, plan: _Plan) -> None:
        rule_events, events = list(plan.rule_events.values()), list(plan.touched.values())
        db = self.emulator.store
        event_store.write_attempt_batch(db, plan.attempts, plan.deliveries, rule_events, events)

    # -- one attempt (webhooks sent between two transactions, recovery) ----------------------
    def claim(self, item: Row) -> AttemptContext | None:
        """Start an attempt: attempt row, rule_event and event `processing` (in a transaction)."""
        db = self.emulator.store
        event = event_store.get_event_any_org(db, item["event_id"])
        if item["due_at"] is None or event is None:
            return None
        context = self._context(item, event)
        db.insert("attempts", self._attempt_row(context))
        rule_event = context.rule_event
        state = {column: rule_event.get(column) for column in event_store.RULE_EVENT_STATE}
        event_store.update_rule_event(db, rule_event["id"], state)
        refresh_event(db, event, isoformat(context.started_at))
        return context

    def finish(self, context: AttemptContext, outcome: Outcome) -> AttemptSummary | None:
        """Record the outcome of a claimed attempt (re-reading its rows: requests may have changed
        them since the claim) and move the rule_event and event on (`finish_many` of one)."""
        (result,) = self.finish_many([(context, outcome)])
        if isinstance(result, BaseException):
            raise result
        return result

    def finish_many(
        self, answered: list[tuple[AttemptContext, Outcome]]
    ) -> list[AttemptSummary | BaseException | None]:
        """`finish` for many claimed attempts at once, inside the caller's transaction: their rows
        read together, the outcomes written with one executemany per table. An attempt whose
        recording raises stays unfinished (its exception in its place); the others are recorded."""
        db = self.emulator.store
        rule_events = event_store.rule_events_by_id(db, [c.rule_event["id"] for c, _ in answered])
        event_ids = list(dict.fromkeys(c.rule_event["event_id"] for c, _ in answered))
        plan = _Plan(event_store.event_rows_by_id(db, event_ids),
                     event_store.statuses_by_event(db, event_ids))
        results: list[AttemptSummary | BaseException | None] = []
        for context, outcome in answered:
            try:
                results.append(self._plan_finish(plan, rule_events, context, outcome))
            except Exception as exc:
                results.append(exc)
        event_store.write_finished_batch(db, plan.attempts, plan.deliveries,
                                         list(plan.rule_events.values()), list(plan.touched.values()))
        return results

    def _plan_finish(
        self, plan: _Plan, rule_events: dict[str, Row], context: AttemptContext, outcome: Outcome
    ) -> AttemptSummary | None:
        """One attempt of `finish_many`: its rows as re-read, its outcome planned into `plan`."""
        rule_event = rule_events.get(context.rule_event["id"])
        event = plan.events.get(context.rule_event["event_id"])
        if rule_event is None or event is None:
            return None
        attempt = {"id": context.attempt_id, "rule_event_id": rule_event["id"],
                   "attempt_number": context.attempt_number}
        return self._record(plan, rule_event, event, context, outcome, attempt)

    def _record(
        self, plan: _Plan, rule_event: Row, event: Row, context: AttemptContext, outcome: Outcome,
        attempt: Row, listed: bool = True,
    ) -> AttemptSummary | None:
        """An outcome planned into `plan` (both ways: a simulated attempt of a batch, a sent
        webhook): the attempt's outcome columns, the sink row, the rule_event's transition (one
        canceled meanwhile stays so) and the event's state. Its summary, when `listed`."""
        now_dt = finished_at(self.emulator.clock.now(), context)  # later with a latency fault
        now = isoformat(now_dt)
        request = encode_json(outcome.request)  # the attempt and the sink record the same text
        attempt |= self._outcome_columns(context, outcome, now_dt, now, request)
        canceled = rule_event["status"] == "canceled"
        next_due = self._transition(rule_event, context, outcome, now_dt, now)
        statuses = plan.statuses.setdefault(event["id"], {})
        if not canceled:
            statuses[rule_event["id"]] = rule_event["status"]
            plan.rule_events[rule_event["id"]] = rule_event
        plan.attempts.append(attempt)
        if request is not None:
            plan.deliveries.append(self._sink_row(context, request, attempt.get("started_at")))
        event_changes(event, statuses.values(), now)
        plan.touched[event["id"]] = event
        logs.attempt_finished(context, rule_event, outcome, next_due)
        return self._summary(context, rule_event, outcome, next_due) if listed else None

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
                self.finish(context, Outcome(OutcomeCode.INTERNAL_ERROR, INTERRUPTED))
        return len(interrupted)

    # -- the pieces ---------------------------------------------------------------------------
    def prepare(self, context: AttemptContext) -> Outcome | webhook.WebhookRequest:
        """Decide without network I/O; a bug must not wedge the queue (it fails the test)."""
        try:
            decided = prepare(self.emulator, context, self.mapping_schema)
        except Exception as exc:
            self.emulator.capture("DISPATCHER", f"attempt {context.attempt_id}", exc)
            return Outcome(OutcomeCode.INTERNAL_ERROR, f"Internal error: {type(exc).__name__}")
        if isinstance(decided, webhook.WebhookRequest) and context.integration_type != "webhook":
            return Outcome(OutcomeCode.INTERNAL_ERROR, "Internal error: unexpected request")
        return decided

    @staticmethod
    def _attempt_row(context: AttemptContext) -> Row:
        rule_event = context.rule_event
        return {
            "id": context.attempt_id,
            "rule_event_id": rule_event["id"],
            "event_id": rule_event["event_id"],
            "rule_id": rule_event["rule_id"],
            "attempt_number": context.attempt_number,
            "trigger": context.trigger,
            "started_at": isoformat(context.started_at),
            "completed_at": None,
            "duration_ms": None,
            "outcome_code": None,
            "http_status": None,
            "message": None,
            "request": None,
            "response": None,
        }

    def _outcome_columns(
        self, context: AttemptContext, outcome: Outcome, now_dt: datetime, now: str, request: str | None
    ) -> Row:
        return {
            "completed_at": now,
            "duration_ms": max(0, int((now_dt - context.started_at).total_seconds() * 1000)),
            "outcome_code": str(outcome.code),  # a plain str binds without sqlite3's adapter lookup
            "http_status": outcome.http_status,
            "message": outcome.message,
            "request": request,
            "response": self._response_json(outcome.response),
        }

    def _response_json(self, response: ResponseDetails | None) -> str | None:
        """The response column: encoded once for a response shared by many outcomes (every
        simulated attempt answers connectors.SIMULATED_RESPONSE)."""
        if response is None:
            return None
        last, encoded = self._response
        if response is not last:
            encoded = encode_json(_shallow(response))
            self._response = (response, encoded)
        return encoded

    def _transition(
        self, rule_event: Row, context: AttemptContext, outcome: Outcome, now_dt: datetime, now: str
    ) -> str | None:
        """The rule_event's new status after an attempt (applied to `rule_event`); returns the
        next due time if any. A rule_event canceled while the attempt was in flight stays so."""
        if rule_event["status"] == "canceled":
            return None
        changes: dict[str, Any]
        next_due: str | None = None
        if outcome.ok:
            changes = {"status": "completed", "completed_at": now, "due_at": None}
        else:
            due = self.policy.next_due(now_dt, context.attempt_number, outcome)
            if due is None:
                changes = {"status": "failed", "completed_at": now, "due_at": None}
            else:
                next_due = isoformat(due)
                changes = {"status": "retrying", "due_at": next_due}
            changes["last_error"] = f"{outcome.code}: {outcome.message or outcome.code}"
        rule_event.update(changes)
        return next_due

    @staticmethod
    def _sink_row(context: AttemptContext, request: str, started: str | None) -> Row:
        """The sink row; `started`: the attempt's start as text when it is at hand."""
        rule_event = context.rule_event
        return {
            "id": ids.delivery_id(context.attempt_id),
            "attempt_id": context.attempt_id,
            "rule_event_id": rule_event["id"],
            "org_id": rule_event["org_id"],
            "workspace_id": rule_event["workspace_id"],
            "connection_id": rule_event["connection_id"],
            "event_id": rule_event["event_id"],
            "rule_id": rule_event["rule_id"],
            "integration_type": rule_event["integration_type"],
            "action": context.action,
            "request": request,
            "created_at": started or isoformat(context.started_at),
        }

    @staticmethod
    def _summary(
        context: AttemptContext, rule_event: Row, outcome: Outcome, next_due: str | None
    ) -> AttemptSummary:
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


def _shallow(value: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, without `asdict`'s deep copies (it is encoded at once)."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}
