"""Moving the manual clock: every attempt that falls due runs at its own due instant, in order.

`advance_to(emulator, instant)` steps the clock to each due time in turn (never backwards),
runs the attempts due then (retries they schedule before `instant` run too), and finally leaves
the clock at `instant`. So a retry schedule of hours runs in milliseconds with the same
timestamps it would have had in real time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from meshes_emulator.clock import ManualClock, isoformat
from meshes_emulator.context import Emulator
from meshes_emulator.engine.dispatcher import DrainSummary
from meshes_emulator.errors import Conflict


def manual_clock(emulator: Emulator) -> ManualClock:
    clock = emulator.clock
    if not isinstance(clock, ManualClock):
        raise Conflict("Clock is not manual",
                       detail="Start the emulator with --clock manual (or reset with clock: manual) "
                       "to move time")
    return clock


async def advance_to(emulator: Emulator, instant: datetime) -> DrainSummary:
    """Move a manual clock to `instant`, running every attempt due on the way at its due time."""
    clock = manual_clock(emulator)

    def step(due: datetime) -> None:
        if due > clock.now():
            clock.set(min(due, instant))

    summary = await emulator.dispatcher.drain(until=instant, on_due=step)
    if instant > clock.now():
        clock.set(instant)
    await emulator.dispatcher.drain()  # what is due at `instant` itself
    return summary


# -- the admin API's clock and queue controls (admin/clock.py, admin/engine.py) -------------------


def require_settable(emulator: Emulator) -> ManualClock:
    """The manual clock `POST /_emulator/clock` sets; 409 under the system clock."""
    if not isinstance(emulator.clock, ManualClock):
        raise Conflict("Clock is not manual",
                       detail="Start the emulator with --clock manual to set the time")
    return emulator.clock


async def set_now(emulator: Emulator, instant: datetime) -> None:
    """Move a manual clock to `instant` (409 backwards); due attempts run at their due instants."""
    clock = require_settable(emulator)
    if instant < clock.now():
        raise Conflict("Clock cannot go backwards", detail=f"now is {isoformat(clock.now())}")
    await advance_to(emulator, instant)


async def advance(emulator: Emulator, seconds: float) -> dict[str, Any]:
    """Move a manual clock forward by `seconds` -> `{from, ran, attempts, <queue state>}`."""
    start = manual_clock(emulator).now()
    summary = await advance_to(emulator, start + timedelta(seconds=seconds))
    return {"from": isoformat(start), **summary.as_dict(), **queue_state(emulator)}


async def settle(emulator: Emulator) -> dict[str, Any]:
    """Run every attempt due now (waits for one in flight) -> `{ran, attempts, <queue state>}`."""
    engine = emulator.dispatcher
    summary = await engine.drain()
    return {**summary.as_dict(), **engine.stats()}


def queue_state(emulator: Emulator) -> dict[str, Any]:
    """`{idle, in_flight, due_now, scheduled, next_due, now}`."""
    return emulator.dispatcher.stats()
