"""The dispatcher: runs attempts from the durable due-time queue in SQLite.

The queue is `rule_events.due_at` (non-null = an attempt is scheduled). `drain(until)` runs what
is due at or before `until` (default: the clock's now) in batches (engine/machine.py: claimed,
decided and recorded in one transaction each, in queue order), yielding to the event loop between
batches (engine/pacing.py), so requests keep being answered during a drain of any size.

Webhooks, under the system clock, are sent concurrently: claimed in a batch, then sent with no
transaction open by tasks that record their outcome when the answer (or the deadline) comes, at
most `Settings.delivery_concurrency` in flight (default 64) and at most
`Settings.delivery_connection_limit` (default 48) to one connection, so a slow receiver cannot
take every slot. Under the manual clock (the pytest fixture's default) they run one at a time in
queue order inside the drain, so records, ids and timestamps stay deterministic.

A process killed mid-attempt leaves an attempt row without `completed_at`: at the next start
it is recorded as `internal_error` ("interrupted") and the retry policy decides what follows.

Triggers: `work_due()` is the one "work is due" signal: services call it after they made work
due (ingest, retry, a snapshot restore, an import) and the lifespan at start-up; it wakes the
worker task (started on demand), which drains what is due now. Under the system clock the worker
also wakes itself when the next attempt falls due and when a webhook finishes. A manual clock
move does not signal: it drains for the caller (services/clockwork.py).

Built by `app.build_parts` as `emulator.dispatcher`; `recover()` runs then, `work_due()` at
start-up (the lifespan), `stop()` at shutdown, `reset()` on every reset (`Emulator.reset_parts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from meshes_emulator.clock import isoformat, parse_instant
from meshes_emulator.engine import webhook, webhook_client
from meshes_emulator.engine.machine import (
    INTERRUPTED,
    AttemptMachine,
    AttemptSummary,
    BatchLimits,
    Claim,
    DrainSummary,
)
from meshes_emulator.engine.outcomes import Outcome
from meshes_emulator.engine.pacing import Pacer, nothing_waiting
from meshes_emulator.engine.retry import RetryPolicy
from meshes_emulator.store import events as event_store
from meshes_emulator.store.db import Row

if TYPE_CHECKING:
    from meshes_emulator.context import Emulator

__all__ = ["INTERRUPTED", "AttemptSummary", "Dispatcher", "DrainSummary"]

MAX_IDLE_WAIT = 1.0  # seconds between queue checks under the system clock


class Dispatcher:
    """Owns the queue worker, the retry policy and the webhook HTTP client of one emulator."""

    def __init__(self, emulator: Emulator, policy: RetryPolicy | None = None, *,
                 ingest_waiting: Callable[[], bool] = nothing_waiting) -> None:
        self.emulator = emulator
        self.ingest_waiting = ingest_waiting  # events waiting for their group commit go first
        settings = emulator.settings
        self.default_policy = policy or RetryPolicy(settings.retry_delays or RetryPolicy().delays)
        self.machine = AttemptMachine(emulator, self.default_policy)
        self.webhook_timeout: float = settings.webhook_timeout
        self.concurrency = max(1, settings.delivery_concurrency)
        self.per_connection = max(1, min(settings.delivery_connection_limit, self.concurrency))
        self.in_flight: str | None = None  # the webhook rule_event sent inline (manual clock)
        self._sending: dict[str, int] = {}  # connection id -> delivery slots taken
        self._taken = 0  # delivery slots taken (webhooks claimed or in flight)
        self._reserved: list[str] = []  # slots taken by the batch being planned
        self._tasks: set[asyncio.Task[None]] = set()
        # concurrent webhooks answered and waiting to be recorded (one transaction per loop turn)
        self._answered: list[tuple[Claim, Outcome, asyncio.Future[AttemptSummary | None]]] = []
        self._active = 0  # webhooks being sent concurrently (a task ends a moment after)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._done: asyncio.Event | None = None  # set whenever a concurrent webhook finishes
        self._worker: asyncio.Task[None] | None = None
        self._client = webhook_client.WebhookClient(self.concurrency)  # its session: made on first send
        self._explicit_waiting = 0  # explicit drains (settle, clock moves) waiting for the lock
        self.recovered = 0  # attempts the last `recover` recorded (at start: a killed process's)

    @property
    def policy(self) -> RetryPolicy:
        return self.machine.policy

    @policy.setter
    def policy(self, policy: RetryPolicy) -> None:
        self.machine.policy = policy

    @property
    def generation(self) -> int:
        return self.machine.generation

    # -- loop-bound objects ---------------------------------------------------------------
    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._lock = asyncio.Lock()
            self._wake = asyncio.Event()
            self._done = asyncio.Event()
            self._worker = None
            self._explicit_waiting = 0
            self._tasks = set()
            self._answered = []
            self._active = 0
            self._sending = {}
            self._taken = 0
        return loop

    @property
    def lock(self) -> asyncio.Lock:
        self._bind()
        assert self._lock is not None
        return self._lock

    def client(self) -> webhook_client.WebhookClient:
        """The webhook HTTP client (its session belongs to the running loop: a new loop, a new one)."""
        self._bind()
        return self._client

    # -- triggers -------------------------------------------------------------------------
    def work_due(self) -> None:
        """Work is due: wake the worker (started on demand) to run whatever is due now (the
        background worker only; without it, the next explicit drain runs it)."""
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
        """Stop the worker and every webhook in flight (their attempts are recovered at the next
        start on the same database, as after a crash)."""
        tasks = [task for task in (self._worker, *self._tasks) if task is not None and not task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._worker = None
        self._tasks.clear()
        self._active = 0
        self._sending.clear()
        self._taken = 0
        await self._client.close()

    def reset(self) -> None:
        """Forget in-flight work (the tables were emptied) and restore the default policy."""
        self.machine.reset(self.default_policy)
        self.webhook_timeout = self.emulator.settings.webhook_timeout

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
        `pause`: the background worker (gives way to requests and to explicit drains, keeps no
        list of attempts, does not wait for webhooks in flight). An explicit drain waits for the
        webhooks in flight and runs what they make due now.
        """
        summary = DrainSummary(keep=not pause)
        pacer = Pacer(self.emulator, background=pause, ingest_waiting=self.ingest_waiting)
        lock = self.lock
        waiting = not pause and lock.locked()
        if waiting:  # the background worker gives way to this drain at its next pause
            self._explicit_waiting += 1
        try:
            async with lock:
                if waiting:
                    self._explicit_waiting -= 1
                    waiting = False
                await self._drain_locked(summary, until, on_due, max_attempts, pacer)
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
        pacer: Pacer,
    ) -> None:
        background = pacer.background
        while max_attempts is None or summary.count < max_attempts:
            await pacer.before_slice()
            self._reserved.clear()
            try:
                limits = self._limits(until, pacer.budget, max_attempts)
                result = self.machine.run_batch(limits, summary, on_due)
            except BaseException:  # rolled back: nothing was claimed
                for connection in self._reserved:
                    self._release(connection)
                raise
            for claim in result.claims:
                self._launch(claim, None if background else summary)
            if result.failure is not None:
                raise result.failure
            if result.webhook is not None:
                await self._send_inline(result.webhook, on_due, summary)
            elif not result.more and (background or not await self._wait_for_webhooks()):
                break
            if background and self._give_way():
                break
            await pacer.after_slice()
            if background and self._give_way():
                break

    def _limits(self, until: datetime | None, budget: float, max_attempts: int | None) -> BatchLimits:
        inline = not self._concurrent()
        full = frozenset(c for c, n in self._sending.items() if n >= self.per_connection)
        return BatchLimits(
            until=until,
            budget=budget,
            max_attempts=max_attempts,
            inline_webhooks=inline,
            admit=None if inline else self._admit,
            skip_connections=full,
            webhooks=inline or self._taken < self.concurrency,
        )

    def _concurrent(self) -> bool:
        """Webhooks are sent concurrently under the system clock (in order under the manual one)."""
        return bool(self.emulator.clock.mode != "manual" and self.concurrency > 1)

    def _give_way(self) -> bool:
        """True when a settle or clock move waits for the lock: it runs the rest at full speed
        (the worker looks again afterwards)."""
        if not self._explicit_waiting:
            return False
        if self._wake is not None:
            self._wake.set()
        return True

    # -- webhooks -------------------------------------------------------------------------
    async def _send_inline(
        self, item: Row, on_due: Callable[[datetime], None] | None, summary: DrainSummary
    ) -> None:
        """One webhook attempt inside the drain (manual clock): claim, send, record, in order."""
        if on_due is not None:
            on_due(parse_instant(item["due_at"]))
        machine = self.machine
        with self.emulator.store.transaction():
            context = machine.claim(item)
            if context is None:
                return
            decided = machine.prepare(context)
            if not isinstance(decided, webhook.WebhookRequest):
                summary.add(machine.finish(context, decided))
                return
        self.in_flight = context.rule_event["id"]
        try:
            summary.add(await self._send(Claim(context, decided)))
        finally:
            self.in_flight = None

    async def _send(self, claim: Claim) -> AttemptSummary | None:
        """Send a claimed webhook and record its outcome (unless the emulator was reset)."""
        outcome = await self._request(claim)
        if claim.context.generation != self.machine.generation:
            return None  # the emulator was reset while the request was in flight
        with self.emulator.store.transaction():
            return self.machine.finish(claim.context, outcome)

    async def _request(self, claim: Claim) -> Outcome:
        return await webhook_client.send_webhook(
            self.client(), claim.request, self.webhook_timeout, now=claim.context.started_at,
            max_answer=self.emulator.settings.webhook_answer_limit,
        )

    def _record(self, claim: Claim, outcome: Outcome) -> asyncio.Future[AttemptSummary | None]:
        """Record a webhook's outcome together with the others answered in the same turn of the
        event loop: one transaction for all of them (each in its own savepoint)."""
        loop = self._bind()
        future: asyncio.Future[AttemptSummary | None] = loop.create_future()
        self._answered.append((claim, outcome, future))
        if len(self._answered) == 1:
            loop.call_soon(self._record_answered)
        return future

    def _record_answered(self) -> None:
        answered, self._answered = self._answered, []
        generation = self.machine.generation
        live = [(claim.context, outcome) for claim, outcome, _ in answered
                if claim.context.generation == generation]  # else reset while in flight: dropped
        recorded: list[AttemptSummary | BaseException | None] = []
        try:
            with self.emulator.store.transaction():
                recorded = self.machine.finish_many(live) if live else []
        except Exception as exc:  # nothing was recorded: every attempt is recovered at restart
            recorded = [exc] * len(live)
        results = iter(recorded)
        for claim, _, future in answered:
            result = next(results) if claim.context.generation == generation else None
            if future.done():  # its task was cancelled (the dispatcher stopped)
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _admit(self, item: Row) -> bool:
        """Take a delivery slot for this webhook if its connection and the total allow it."""
        connection = item["connection_id"]
        taken = self._sending.get(connection, 0)
        if taken >= self.per_connection or self._taken >= self.concurrency:
            return False
        self._sending[connection] = taken + 1
        self._taken += 1
        self._reserved.append(connection)
        return True

    def _release(self, connection: str) -> None:
        left = self._sending.get(connection, 1) - 1
        if left > 0:
            self._sending[connection] = left
        else:
            self._sending.pop(connection, None)
        self._taken = max(0, self._taken - 1)

    def _launch(self, claim: Claim, summary: DrainSummary | None) -> None:
        """Send a webhook claimed by a batch in its own task (its slot is already taken)."""
        loop = self._bind()
        task = loop.create_task(self._deliver(claim, summary), name="meshes-webhook")
        self._active += 1
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, claim: Claim, summary: DrainSummary | None) -> None:
        connection = claim.context.connection_id
        try:
            result = await self._record(claim, await self._request(claim))
            if summary is not None:
                summary.add(result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recorded as a captured error; the attempt is recovered at restart
            self.emulator.capture("DISPATCHER", f"attempt {claim.context.attempt_id}", exc)
        finally:
            self._active -= 1
            self._release(connection)
            if self._done is not None:
                self._done.set()
            if self._wake is not None:
                self._wake.set()

    async def _wait_for_webhooks(self) -> bool:
        """Wait until at least one webhook in flight finishes; False when none is in flight."""
        if not self._active:
            return False
        assert self._done is not None
        self._done.clear()
        await self._done.wait()
        return True

    # -- crash recovery and state ---------------------------------------------------------
    def recover(self) -> int:
        """Record attempts a killed process left unfinished; returns how many (kept in
        `recovered`: `serve` says at start how many a kill cut off)."""
        self.recovered = self.machine.recover()
        return self.recovered

    def stats(self) -> dict[str, Any]:
        """Queue state for /_emulator/idle."""
        now = isoformat(self.emulator.clock.now())
        stats = event_store.queue_stats(self.emulator.store, now)
        in_flight = self._active + (1 if self.in_flight is not None else 0)
        busy = in_flight or (self._lock is not None and self._lock.locked())
        return {
            "idle": not busy and stats["due_now"] == 0,
            "in_flight": in_flight,
            "due_now": stats["due_now"],
            "scheduled": stats["scheduled"],
            "next_due": stats["next_due"],
            "now": now,
        }
