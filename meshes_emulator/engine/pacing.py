"""How the background delivery worker shares the event loop with requests (scheduling heuristics).

A drain by the background worker starts with FIRST_SLICE_SECONDS of work (an event's attempts
usually fit), then yields to the event loop. When requests arrived meanwhile (the server's request
count moved; under another server than FastServer: the yield took longer than BUSY_YIELD_SECONDS),
the worker leaves them the loop until none is in flight any more (at most BUSY_PAUSE_SECONDS; with
another server, always that long). Under a flood of requests some are always in flight: the worker
then works SLICE_SECONDS at a time, so deliveries take about a tenth of the time and catch up when
the flood stops; a trickle of requests (a health probe, a test's calls) costs the worker only the
time those requests take. A quiet yield doubles the slice (up to GROUP_SECONDS). A group of
events waiting for its commit (services/group_commit.py) always goes first. Explicit drains
(settle, clock moves) work EXPLICIT_SLICE_SECONDS at a time and yield between slices, so health
probes and other requests are answered while they run.

None of this changes which attempts run, in which order, or what they record: only when, in
real time, they run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from meshes_emulator.clock import monotonic

if TYPE_CHECKING:
    from meshes_emulator.context import Emulator

FIRST_SLICE_SECONDS = 0.002
SLICE_SECONDS = 0.00025
BUSY_YIELD_SECONDS = 0.0001
BUSY_PAUSE_SECONDS = 0.0025
IN_FLIGHT_POLL_SECONDS = 0.0001
GROUP_SECONDS = 0.02  # the longest one slice lasts
EXPLICIT_SLICE_SECONDS = 0.01  # settle and clock moves: work this long, then let requests in


def nothing_waiting() -> bool:
    return False


class Pacer:
    """The slice budget of one drain and the signals it reads to decide the next one.

    `ingest_waiting()`: whether a group of events waits for its commit (the dispatcher's, given
    by app.build_parts: services/group_commit.py).
    """

    def __init__(self, emulator: Emulator, background: bool,
                 ingest_waiting: Callable[[], bool] = nothing_waiting) -> None:
        self.emulator = emulator
        self.background = background
        self.ingest_waiting = ingest_waiting
        self.budget = FIRST_SLICE_SECONDS if background else EXPLICIT_SLICE_SECONDS
        self._received = -1

    def requests_received(self) -> int:
        count = self.emulator.requests_received
        return -1 if count is None else int(count())

    def requests_arrived(self, received: int, yielded_at: float) -> bool:
        """Whether requests came in during the last slice and yield: the server's request count
        moved (serving.FastServer), or else the yield took long enough for requests to have run."""
        if received >= 0:
            return self.requests_received() != received
        return monotonic() - yielded_at > BUSY_YIELD_SECONDS

    async def before_slice(self) -> None:
        """Let a group of events waiting for its commit go first, then note the request count."""
        if self.background:
            while self.ingest_waiting():
                await asyncio.sleep(0)
        self._received = self.requests_received()

    async def after_slice(self) -> None:
        """Yield to the event loop; the background worker then adapts its next slice."""
        began = monotonic()
        await asyncio.sleep(0)
        if not self.background:
            return
        if not self.requests_arrived(self._received, began):
            self.budget = min(GROUP_SECONDS, self.budget * 2)
        elif await self._requests_finished():
            self.budget = max(FIRST_SLICE_SECONDS, self.budget / 2)
        else:  # a flood: requests first
            self.budget = SLICE_SECONDS

    async def _requests_finished(self) -> bool:
        """Let the requests in flight finish, for at most BUSY_PAUSE_SECONDS; whether they did."""
        in_flight = self.emulator.requests_in_flight
        if in_flight is None:
            await asyncio.sleep(BUSY_PAUSE_SECONDS)
            return False
        deadline = monotonic() + BUSY_PAUSE_SECONDS
        while in_flight() > 0:
            if monotonic() >= deadline:
                return False
            await asyncio.sleep(IN_FLIGHT_POLL_SECONDS)
        return True
