"""Moving the manual clock: every attempt that falls due runs at its own due instant, in order.

`advance_to(emulator, instant)` steps the clock to each due time in turn (never backwards),
runs the attempts due then (retries they schedule before `instant` run too), and finally leaves
the clock at `instant`. So a retry schedule of hours runs in milliseconds with the same
timestamps it would have had in real time.
"""

from __future__ import annotations

from datetime import datetime

from meshes_emulator.clock import ManualClock
from meshes_emulator.context import Emulator
from meshes_emulator.engine import dispatcher
from meshes_emulator.engine.dispatcher import DrainSummary
from meshes_emulator.errors import Conflict


def manual_clock(emulator: Emulator) -> ManualClock:
    clock = emulator.clock
    if not isinstance(clock, ManualClock):
        raise Conflict("Clock is not manual",
                       detail="Start the emulator with --clock manual (or reset with clock: manual) "
                       "to move time")  # fmt: skip
    return clock


async def advance_to(emulator: Emulator, instant: datetime) -> DrainSummary:
    """Move a manual clock to `instant`, running every attempt due on the way at its due time."""
    clock = manual_clock(emulator)

    def step(due: datetime) -> None:
        if due > clock.now():
            clock.set(min(due, instant))

    summary = await dispatcher.get(emulator).drain(until=instant, on_due=step)
    if instant > clock.now():
        clock.set(instant)
    await emulator.run_due_work()
    return summary
