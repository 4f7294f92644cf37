"""The dispatcher in-process: queue order, the on_due hook, crash recovery, reset, no worker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from meshes_emulator.clock import DEFAULT_START, ManualClock
from meshes_emulator.engine.dispatcher import INTERRUPTED
from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import Harness, run_harness


def run(test: Callable[[Harness], Awaitable[None]], db: str = ":memory:", background: bool = False) -> None:
    run_harness(test, db_path=db, clock="manual", background_dispatcher=background)


def test_without_worker_nothing_runs_until_drained() -> None:
    async def scenario(h: Harness) -> None:
        slack = await h.connection("slack", "chat")
        await h.rule(slack, "a", action="send_message", id="C", template="x")
        event_id = await h.emit("a")
        assert (await h.get(f"/events/{event_id}"))["status"] == "pending"
        summary = await h.dispatcher.drain()
        assert [a.outcome_code for a in summary.ran] == ["delivered"]
        assert (await h.get(f"/events/{event_id}"))["status"] == "completed"

    run(scenario)


def test_queue_runs_in_due_order_and_reports_due_times() -> None:
    async def scenario(h: Harness) -> None:
        with Receiver() as rx:
            rx.replies["/down"] = Reply(500)
            hook = await h.connection("webhook", "down", url=rx.url + "/down")
            slack = await h.connection("slack", "chat")
            down_rule = await h.rule(hook, "a", action="send_webhook")
            slack_rule = await h.rule(slack, "b", action="send_message", id="C", template="x")
            first = await h.emit("a")
            clock = h.emulator.clock
            assert isinstance(clock, ManualClock)
            clock.advance(0.5)
            second = await h.emit("b")
            # first event's attempt 1 (t0), then second's (t0+0.5)
            ran = (await h.dispatcher.drain()).ran
            assert [(a.event_id, a.attempt_number) for a in ran] == [(first, 1), (second, 1)]
            assert ran[0].next_due == "2026-01-01T00:00:01.500Z"  # failed at t0+0.5, +1 s
            seen: list[datetime] = []

            def step(due: datetime) -> None:
                seen.append(due)
                clock.set(due)

            later = DEFAULT_START + timedelta(seconds=60)
            ran = (await h.dispatcher.drain(until=later, on_due=step)).ran
            assert [a.attempt_number for a in ran] == [2, 3, 4]
            assert [d - DEFAULT_START for d in seen] == [
                timedelta(seconds=1.5), timedelta(seconds=3.5), timedelta(seconds=7.5)]
            assert ran[-1].status == "failed"
            assert {a.rule_id for a in ran} == {down_rule}
            assert slack_rule

    run(scenario)


def test_drain_max_attempts() -> None:
    async def scenario(h: Harness) -> None:
        slack = await h.connection("slack", "chat")
        await h.rule(slack, "a", action="send_message", id="C", template="x")
        for _ in range(3):
            await h.emit("a")
        assert len((await h.dispatcher.drain(max_attempts=2)).ran) == 2
        assert len((await h.dispatcher.drain()).ran) == 1

    run(scenario)


def test_interrupted_attempt_is_recovered_after_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "crash.db")
    ids: dict[str, str] = {}

    async def crash(h: Harness) -> None:
        slack = await h.connection("slack", "chat")
        ids["rule"] = await h.rule(slack, "a", action="send_message", id="C", template="x")
        ids["event"] = await h.emit("a")
        item = h.emulator.store.one("SELECT * FROM rule_events")
        assert item is not None
        with h.emulator.store.transaction():
            assert h.dispatcher.machine.claim(item) is not None  # the process "dies" here

    run(crash, db)

    async def restart(h: Harness) -> None:
        event = await h.get(f"/events/{ids['event']}")
        (state,) = event["rule_events"]
        assert state["status"] == "retrying" and state["attempt_count"] == 1
        assert state["last_error"] == f"internal_error: {INTERRUPTED}"
        page = await h.get(f"/events/{ids['event']}/rules/{ids['rule']}/attempts")
        assert [a["outcome_code"] for a in page["records"]] == ["internal_error"]
        clock = h.emulator.clock
        assert isinstance(clock, ManualClock)
        clock.advance(1)
        ran = (await h.dispatcher.drain()).ran
        assert [(a.attempt_number, a.outcome_code) for a in ran] == [(2, "delivered")]
        assert (await h.get(f"/events/{ids['event']}"))["status"] == "completed"

    run(restart, db)


def test_reset_while_a_webhook_is_in_flight() -> None:
    async def scenario(h: Harness) -> None:
        release = threading.Event()
        with Receiver() as rx:
            rx.replies["/slow"] = Reply(200, block=release)
            hook = await h.connection("webhook", "slow", url=rx.url + "/slow")
            await h.rule(hook, "a", action="send_webhook")
            await h.emit("a")
            task = asyncio.create_task(h.dispatcher.drain())
            await asyncio.to_thread(rx.arrived.wait, 10)
            assert h.dispatcher.stats()["idle"] is False
            response = await h.client.post("/_emulator/reset", json={})
            assert response.status_code == 200
            release.set()
            summary = await task
            assert summary.ran == []
            assert h.emulator.store.one("SELECT COUNT(*) AS n FROM attempts") == {"n": 0}
            assert h.dispatcher.stats()["idle"] is True

    run(scenario)


def test_worker_runs_due_work_after_ingest() -> None:
    async def scenario(h: Harness) -> None:
        slack = await h.connection("slack", "chat")
        await h.rule(slack, "a", action="send_message", id="C", template="x")
        event_id = await h.emit("a")
        async with h.dispatcher.lock:  # the kicked worker has finished when the lock is free
            pass
        for _ in range(100):
            if (await h.get(f"/events/{event_id}"))["status"] == "completed":
                break
            await asyncio.sleep(0)
        assert (await h.get(f"/events/{event_id}"))["status"] == "completed"

    run(scenario, background=True)
