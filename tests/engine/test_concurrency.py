"""Concurrent webhook delivery (system clock): slots per connection, the whole-attempt deadline,
the answer cap; in order, one at a time, under the manual clock; long drains list a bounded
number of attempts."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from meshes_emulator.engine import machine, webhook, webhook_client
from tests.engine.aio import run_async
from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import EVENT, SENT, Harness, meta, send
from tests.helpers import run_harness as run


def test_one_slow_receiver_takes_at_most_its_connections_slots() -> None:
    release = threading.Event()

    async def scenario(h: Harness) -> None:
        with Receiver() as rx:
            rx.replies["/slow"] = Reply(200, block=release)
            slow = await h.connection("webhook", "slow", url=rx.url + "/slow")
            fast = await h.connection("webhook", "fast", url=rx.url + "/fast")
            await h.rule(slow, "a", action="send_webhook")
            await h.rule(fast, "b", action="send_webhook")
            for _ in range(5):
                await h.emit("a")
            for _ in range(3):
                await h.emit("b")
            await h.dispatcher.drain(pause=True)  # claims and sends; does not wait for answers
            assert await asyncio.to_thread(rx.wait_for, "/fast", 3, 10)
            assert await asyncio.to_thread(rx.wait_for, "/slow", 3, 10)
            assert len(rx.on("/slow")) == 3  # the connection's cap: 3 of the 6 slots
            store = h.emulator.store
            waiting = store.one("SELECT count(*) AS n FROM rule_events WHERE due_at IS NOT NULL")
            assert waiting == {"n": 2}
            release.set()
            summary = await h.dispatcher.drain()  # waits for those in flight, runs the rest
            assert len(rx.on("/slow")) == 5 and rx.most_busy <= 6
            assert summary.count >= 2
            done = store.one("SELECT count(*) AS n FROM rule_events WHERE status = 'completed'")
            assert done == {"n": 8}
            assert h.dispatcher.stats()["idle"] is True

    run(scenario, delivery_concurrency=6, delivery_connection_limit=3)


async def _held_webhooks(h: Harness, rx: Receiver, release: threading.Event, count: int) -> None:
    """A webhook rule whose receiver holds every answer until `release`, and `count` events for
    it, every one sent (in flight) when this returns."""
    rx.replies["/hook"] = Reply(200, block=release)
    hook = await h.connection("webhook", "hook", url=rx.url + "/hook")
    await h.rule(hook, "a", action="send_webhook")
    for _ in range(count):
        await h.emit("a")
    await h.dispatcher.drain(pause=True)
    assert await asyncio.to_thread(rx.wait_for, "/hook", count, 10)


def test_many_webhooks_in_flight_at_once() -> None:
    release = threading.Event()

    async def scenario(h: Harness) -> None:
        with Receiver() as rx:
            await _held_webhooks(h, rx, release, 12)  # all 12 at once
            assert h.dispatcher.stats()["in_flight"] == 12
            release.set()
            await h.dispatcher.drain()
            assert rx.most_busy == 12

    run(scenario)


def test_concurrent_webhooks_share_a_few_kept_alive_connections() -> None:
    async def scenario(h: Harness) -> None:
        with Receiver() as rx:
            hook = await h.connection("webhook", "hook", url=rx.url + "/hook")
            await h.rule(hook, "a", action="send_webhook")
            for _ in range(40):
                await h.emit("a")
            summary = await h.dispatcher.drain()
            assert summary.count == 40 and len(rx.on("/hook")) == 40
            assert len(rx.peers("/hook")) <= 4  # at most one socket per slot, each kept alive

    run(scenario, delivery_concurrency=4)


def test_a_dripping_receiver_is_cut_at_the_whole_attempts_deadline() -> None:
    async def scenario(h: Harness) -> None:
        with Receiver() as rx:
            rx.replies["/drip"] = Reply(200, body=b"x" * 40, drip=0.05)  # a byte well within
            hook = await h.connection("webhook", "drip", url=rx.url + "/drip")  # any read timeout
            await h.rule(hook, "a", action="send_webhook")
            event_id = await h.emit("a")
            began = time.monotonic()
            await h.dispatcher.drain()
            elapsed = time.monotonic() - began
            (state,) = (await h.get(f"/events/{event_id}"))["rule_events"]
            assert state["last_error"] == "timeout: Webhook request timed out after 0.3s"
            assert elapsed < 0.3 + 1

    run(scenario, webhook_timeout=0.3)


def test_send_reads_at_most_the_answer_cap() -> None:
    with Receiver() as receiver:
        receiver.replies["/big"] = Reply(500, {"Content-Type": "text/plain"}, b"y" * (8 * 1024 * 1024))
        request = webhook.build_request(meta(url=receiver.url + "/big"), EVENT, SENT)

        async def capped() -> Any:
            async with webhook_client.WebhookClient(4) as client:
                return await webhook_client.send_webhook(client, request, 5.0, max_answer=1000)

        outcome = run_async(capped())
    assert outcome.code == "rejected_server_error" and outcome.http_status == 500
    assert outcome.response is not None and outcome.response.body == "y" * 1000


def test_send_deadline_covers_every_read() -> None:
    with Receiver() as receiver:
        receiver.replies["/drip"] = Reply(200, body=b"z" * 40, drip=0.05)
        request = webhook.build_request(meta(url=receiver.url + "/drip"), EVENT, SENT)
        began = time.monotonic()
        outcome = send(request, 0.3)
        elapsed = time.monotonic() - began
    assert outcome.code == "timeout" and outcome.message == "Webhook request timed out after 0.3s"
    assert elapsed < 0.3 + 1


def test_manual_clock_sends_one_at_a_time_in_queue_order() -> None:
    async def scenario(h: Harness) -> None:
        with Receiver() as rx:
            hook = await h.connection("webhook", "hook", url=rx.url + "/hook")
            await h.rule(hook, "a", action="send_webhook")
            ids = [await h.emit("a", n=n) for n in range(10)]
            summary = await h.dispatcher.drain()
            assert [a.event_id for a in summary.ran] == ids
            import orjson

            assert [orjson.loads(r.body)["uuid"] for r in rx.on("/hook")] == ids
            assert rx.most_busy == 1

    run(scenario, clock="manual")


def test_a_drain_lists_a_bounded_number_of_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "MAX_LISTED", 4)

    async def scenario(h: Harness) -> None:
        slack = await h.connection("slack", "chat")
        await h.rule(slack, "a", action="send_message", id="C", template="x")
        for _ in range(10):
            await h.emit("a")
        answer = (await h.client.post("/_emulator/settle")).json()
        assert answer["ran"] == 10 and len(answer["attempts"]) == 4

    run(scenario, clock="manual")


def test_answers_of_one_loop_turn_are_recorded_together_and_one_failure_stays_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Webhooks answered together are recorded in one transaction; an outcome that fails to be
    recorded leaves only its own attempt unfinished (captured), the others are recorded."""
    release = threading.Event()
    transactions: list[int] = []

    async def scenario(h: Harness) -> None:
        real_plan = h.dispatcher.machine._plan_finish
        victims: list[str] = []

        def plan_finish(plan: Any, rows: Any, context: Any, outcome: Any) -> Any:
            if not victims:
                victims.append(context.attempt_id)
                raise RuntimeError("recording failed")
            return real_plan(plan, rows, context, outcome)

        monkeypatch.setattr(h.dispatcher.machine, "_plan_finish", plan_finish)
        real_record = h.dispatcher._record_answered

        def counting() -> None:
            transactions.append(len(h.dispatcher._answered))
            real_record()

        monkeypatch.setattr(h.dispatcher, "_record_answered", counting)
        with Receiver() as rx:
            await _held_webhooks(h, rx, release, 8)
            release.set()  # the 8 answers arrive together
            await h.dispatcher.drain()
            store = h.emulator.store
            done = store.one("SELECT count(*) AS n FROM attempts WHERE completed_at IS NOT NULL")
            assert done == {"n": 7}
            (unfinished,) = store.all("SELECT id FROM attempts WHERE completed_at IS NULL")
            assert unfinished["id"] == victims[0]
            assert [e.error for e in h.emulator.errors] == ["RuntimeError('recording failed')"]
            h.emulator.errors.clear()

    run(scenario)
    assert sum(transactions) == 8 and len(transactions) < 8  # grouped, not one per answer
