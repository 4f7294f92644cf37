"""Deliveries run in batches, one transaction each: same results and order; a failing attempt in
the middle of a batch leaves the others recorded."""

from __future__ import annotations

from typing import Any

import pytest

from meshes_emulator import Settings, create_app
from meshes_emulator.clock import monotonic
from meshes_emulator.engine import pacing
from meshes_emulator.engine.machine import AttemptMachine, BatchLimits
from meshes_emulator.engine.pacing import (
    BUSY_PAUSE_SECONDS,
    GROUP_SECONDS,
    LONGEST_PAUSE_SECONDS,
    SLICE_SECONDS,
    Pacer,
)
from tests.engine.aio import run_async
from tests.helpers import slack_rule_with_events


def _app(tmp_path: Any) -> Any:
    return create_app(Settings(db_path=str(tmp_path / "groups.db"), clock="manual",
                               background_dispatcher=False))


def _attempted(app: Any) -> list[str]:
    """Event ids of the attempts, in the order they were recorded."""
    rows = app.state.emulator.store.all("SELECT event_id FROM attempts ORDER BY rowid")
    return [row["event_id"] for row in rows]


@pytest.mark.parametrize("pause", [False, True])
def test_every_due_attempt_runs_in_order(tmp_path: Any, pause: bool) -> None:
    app = _app(tmp_path)
    ids = run_async(slack_rule_with_events(app, 300))
    summary = run_async(app.state.emulator.dispatcher.drain(pause=pause))
    assert summary.count == 300
    assert [attempt.event_id for attempt in summary.ran] == ([] if pause else ids)  # the worker lists none
    assert _attempted(app) == ids
    store = app.state.emulator.store
    assert store.one("SELECT count(*) AS n FROM events WHERE status = 'completed'") == {"n": 300}
    assert store.one("SELECT count(*) AS n FROM deliveries") == {"n": 300}


def test_a_failing_attempt_in_a_batch_leaves_the_others_recorded(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(tmp_path)
    ids = run_async(slack_rule_with_events(app, 5))
    dispatcher = app.state.emulator.dispatcher
    original = AttemptMachine._transition
    calls = 0

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("boom")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AttemptMachine, "_transition", failing)
    with pytest.raises(RuntimeError, match="boom"):
        run_async(dispatcher.drain())
    store = app.state.emulator.store
    done = store.all("SELECT event_id FROM rule_events WHERE status = 'completed' ORDER BY rowid")
    assert [row["event_id"] for row in done] == ids[:2] + ids[3:]  # the third alone is left due
    assert _attempted(app) == ids[:2] + ids[3:]
    assert store.one("SELECT count(*) AS n FROM rule_events WHERE due_at IS NOT NULL") == {"n": 1}
    monkeypatch.setattr(AttemptMachine, "_transition", original)
    summary = run_async(dispatcher.drain())
    assert [attempt.event_id for attempt in summary.ran] == [ids[2]]
    assert store.one("SELECT count(*) AS n FROM events WHERE status = 'completed'") == {"n": 5}


def test_the_background_worker_gives_way_to_a_settle(tmp_path: Any) -> None:
    """A settle arriving while the worker drains a backlog takes over at the worker's next pause
    and runs the rest; every attempt runs exactly once, in order."""
    import asyncio

    app = _app(tmp_path)
    ids = run_async(slack_rule_with_events(app, 400))
    dispatcher = app.state.emulator.dispatcher

    async def both() -> tuple[Any, Any]:
        background = asyncio.create_task(dispatcher.drain(pause=True))
        await asyncio.sleep(0)  # the worker runs its first slice, then yields
        explicit = asyncio.create_task(dispatcher.drain())
        return await background, await explicit

    background, explicit = run_async(both())
    assert background.count and explicit.count
    assert background.count + explicit.count == 400
    assert _attempted(app) == ids


def test_the_worker_sees_requests_arriving_by_the_servers_count(tmp_path: Any) -> None:
    emulator = _app(tmp_path).state.emulator
    pacer = Pacer(emulator, background=True)
    received = [7]
    emulator.requests_received = lambda: received[0]
    seen = pacer.requests_received()
    assert seen == 7
    assert not pacer.requests_arrived(seen, yielded_at=0.0)  # however long the yield took
    received[0] += 1
    assert pacer.requests_arrived(seen, yielded_at=float("inf"))  # however short
    emulator.requests_received = None  # another server than FastServer: judged by time
    assert pacer.requests_received() == -1
    assert pacer.requests_arrived(-1, yielded_at=0.0)
    assert not pacer.requests_arrived(-1, yielded_at=float("inf"))


def _paced(tmp_path: Any, count: Any, in_flight: int = 0) -> Pacer:
    """A background pacer reading the given request count (and `in_flight` requests)."""
    emulator = _app(tmp_path).state.emulator
    emulator.requests_received = count
    emulator.requests_in_flight = lambda: in_flight
    return Pacer(emulator, background=True)


async def _one_slice(pacer: Pacer) -> None:
    await pacer.before_slice()
    await pacer.after_slice()


def test_a_flood_of_requests_leaves_the_worker_short_slices(tmp_path: Any) -> None:
    """Requests that keep arriving -- a closed-loop client: none in flight between two of them --
    keep the loop for BUSY_PAUSE_SECONDS, then the worker works SLICE_SECONDS (not a longer slice
    because "none in flight" was seen for an instant)."""
    received = [0]

    def count() -> int:
        received[0] += 1  # every look sees a new request
        return received[0]

    pacer = _paced(tmp_path, count)
    pacer.budget = GROUP_SECONDS
    began = monotonic()
    run_async(_one_slice(pacer))
    assert pacer.budget == SLICE_SECONDS
    assert monotonic() - began >= BUSY_PAUSE_SECONDS


def test_a_trickle_costs_the_worker_one_quiet_step(tmp_path: Any) -> None:
    """One request during the slice, none after it: the worker resumes after one quiet step (the
    count is read once more), with a short slice that quiet yields double again."""
    reads = [0]
    arrived = [0]

    def count() -> int:
        reads[0] += 1
        return arrived[0]

    pacer = _paced(tmp_path, count)

    async def slice_with_a_request() -> None:
        await pacer.before_slice()
        arrived[0] += 1  # a request came in during the slice
        await pacer.after_slice()

    run_async(slice_with_a_request())
    # before the slice, after the yield (the last look, and whether requests arrived), at the
    # start of the wait, after one quiet step
    assert reads[0] == 5
    assert pacer.budget == SLICE_SECONDS
    run_async(_one_slice(pacer))  # nothing arrived: the slice doubles
    assert pacer.budget == 2 * SLICE_SECONDS


def test_requests_in_flight_keep_the_loop(tmp_path: Any) -> None:
    """A request still in flight (a slow handler) keeps the loop for BUSY_PAUSE_SECONDS."""
    arrived = [0]

    def count() -> int:
        arrived[0] = min(arrived[0] + 1, 2)  # one request arrives, then none
        return arrived[0]

    pacer = _paced(tmp_path, count, in_flight=1)
    began = monotonic()
    run_async(_one_slice(pacer))
    assert pacer.budget == SLICE_SECONDS
    assert monotonic() - began >= BUSY_PAUSE_SECONDS


@pytest.mark.parametrize(("yield_seconds", "doubled"), [(0.0005, False), (0.00001, True)])
def test_requests_answered_during_the_yield_are_a_flood_too(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, yield_seconds: float, doubled: bool) -> None:
    """A closed-loop client sends its next request only once the yield after a slice has answered
    the last one, so the count has not moved yet: requests in flight that kept the yield busy
    still leave the worker a short slice (it doubled to 20 ms under a c=8 flood); a request
    parked in flight (a short yield: a handler waiting on something else) does not."""
    now = [100.0]

    def tick() -> float:  # the pacer's clock: each look sees `yield_seconds` more
        now[0] += yield_seconds
        return now[0]

    monkeypatch.setattr(pacing, "monotonic", tick)
    pacer = _paced(tmp_path, lambda: 5, in_flight=8)
    pacer.budget = SLICE_SECONDS
    run_async(_one_slice(pacer))
    assert pacer.budget == (2 * SLICE_SECONDS if doubled else SLICE_SECONDS)


@pytest.mark.parametrize(("in_flight", "held"), [(0, 1), (1, 1), (4, 4)])
def test_a_slice_that_ran_long_leaves_a_flood_a_longer_turn(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, in_flight: int, held: int) -> None:
    """Under a flood of one client the worker keeps about a tenth of the loop: a slice that lasted
    1 ms (a batch's reads, writes and commit come on top of its budget) is followed by ~9 ms left
    to the requests; a slice that held up four requests in flight buys them four times that
    (~36 ms: about a fortieth of the loop under a c=8 flood); never more than
    LONGEST_PAUSE_SECONDS (an inline webhook's wait)."""
    now = [100.0]

    def tick() -> float:  # the pacer's clock: moves 0.5 ms at each look
        now[0] += 0.0005
        return now[0]

    received = [0]

    def count() -> int:
        received[0] += 1  # every look sees a new request: a flood
        return received[0]

    monkeypatch.setattr(pacing, "monotonic", tick)
    pacer = _paced(tmp_path, count, in_flight=in_flight)
    for ran in (0.001, 1.0):
        run_async(pacer.before_slice())
        now[0] += ran
        began = now[0]
        run_async(pacer.after_slice())
        turn = now[0] - began
        wanted = 9 * (ran + 0.0005) * held  # the slice as measured: one more look of the clock
        assert min(wanted, LONGEST_PAUSE_SECONDS) <= turn <= min(wanted + 0.01,
                                                                 LONGEST_PAUSE_SECONDS + 0.005)
        assert pacer.budget == SLICE_SECONDS


def test_a_long_budget_is_divided_by_what_a_whole_batch_costs(tmp_path: Any) -> None:
    """A drain's 10 ms batch is sized by the cost of an attempt with the batch's reads, writes and
    commit (by the planning cost alone it read 128 rows and ran 16-35 ms); a flood's 0.25 ms
    slice keeps the planning cost."""
    app = _app(tmp_path)
    machine: AttemptMachine = app.state.emulator.dispatcher.machine
    run_async(slack_rule_with_events(app, 300))
    run_async(app.state.emulator.dispatcher.drain())
    assert machine.batch_cost > machine.attempt_cost  # both measured; writes and commit cost too
    machine.attempt_cost, machine.batch_cost = 0.00004, 0.0002  # 40 us planned, 200 us in all
    assert machine.batch_size(BatchLimits(until=None, budget=0.01)) == 51  # 10 ms / 200 us, + 1
    flood = BatchLimits(until=None, budget=SLICE_SECONDS)
    assert machine.batch_size(flood) == int(SLICE_SECONDS / 0.00004) + 1


def test_a_lone_request_after_quiet_slices_costs_the_worker_half_its_slice(tmp_path: Any) -> None:
    """A poll of /_emulator/idle or a health probe while a backlog drains: one request answered
    after quiet slices leaves the worker half its slice and no quiet step; a second one right
    after it, or two at once, are left to the flood rules (a short slice, then a quiet wait)."""
    answered = [0]  # the server counts requests once answered
    pacer = _paced(tmp_path, lambda: answered[0])
    waits: list[float] = []

    async def until_quiet(longest: float) -> None:
        waits.append(longest)

    pacer._until_quiet = until_quiet  # type: ignore[method-assign]

    async def slice_with(requests: int) -> None:
        await pacer.before_slice()
        answered[0] += requests
        await pacer.after_slice()

    run_async(slice_with(0))
    run_async(slice_with(0))
    quiet_budget = pacer.budget
    run_async(slice_with(1))
    assert (pacer.budget, waits) == (quiet_budget / 2, [])
    run_async(slice_with(1))  # not after a quiet slice: the flood rules
    assert pacer.budget == SLICE_SECONDS and len(waits) == 1
    run_async(slice_with(0))
    run_async(slice_with(2))  # two at once after a quiet slice
    assert pacer.budget == SLICE_SECONDS and len(waits) == 2
