"""How the background delivery worker shares the event loop with requests (scheduling heuristics).

A drain by the background worker starts with FIRST_SLICE_SECONDS of work (an event's attempts
usually fit), then yields to the event loop. When requests arrived meanwhile (the server's request
count moved, or requests in flight kept that yield longer than BUSY_YIELD_SECONDS: a closed-loop
client's next request comes only after the answer the yield sent; under another server than
FastServer: the yield took longer than BUSY_YIELD_SECONDS),
the worker leaves them the loop until the server is quiet -- none in flight and none received for
a QUIET_STEP_SECONDS step -- or for at most BUSY_PAUSE_SECONDS, or nine times what the slice
actually took, times the requests in flight it held up, when that is longer (a batch's reads,
writes and commit come on top of its budget: a 0.25 ms slice lasts ~0.6 ms; at most
LONGEST_PAUSE_SECONDS; with another server, always that long), then works SLICE_SECONDS; each
quiet yield doubles the slice again (up to GROUP_SECONDS). Under a flood of requests (a
closed-loop client answers each response with a new request within microseconds, so "none in
flight" alone is true between every two requests) the worker thus keeps about FLOOD_SHARE of the
loop under one client and about FLOOD_SHARE / n under n concurrent ones (a slice delays every
request in flight: ~1/70 of the loop at c=8, so ~3% of the requests meet a slice instead of
~17%): deliveries still progress, catch up when the flood stops,
and no request waits behind more than one short slice; a trickle of requests (a health probe, a
test's calls) costs the worker about one step. A lone request after a quiet slice (a poll of
/_emulator/idle while a backlog drains), answered within LONE_REQUEST_SECONDS with none other
coming, costs less: the worker goes on with half its slice and no quiet step (a poll every 10 ms
made a drain of 18,000 attempts ~20% slower: each cut the slice to 0.25 ms, ~3 attempts a batch,
and idled a 1 ms step). The waits are real sleeps of at least 1 ms (uvloop's
timers have millisecond resolution: a shorter sleep is a busy loop that burns the core). A group of
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
QUIET_STEP_SECONDS = 0.001
FLOOD_SHARE = 0.1  # under a flood the worker has at most this share of the loop
LONGEST_PAUSE_SECONDS = 0.05  # the longest one turn left to a flood of requests
GROUP_SECONDS = 0.02  # the longest one slice lasts
LONE_REQUEST_SECONDS = 0.001  # a lone request answered within this leaves the worker half its slice
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
        self._began = monotonic()
        self._quiet = False  # the last slice saw no request arrive
        self._seen = -1  # the request count at the last look

    def requests_received(self) -> int:
        count = self.emulator.requests_received
        return -1 if count is None else int(count())

    def requests_arrived(self, received: int, yielded_at: float) -> bool:
        """Whether requests came in during the last slice and yield: the server's request count
        moved (serving.FastServer), or requests in flight ran during a yield that took long
        enough for that (a closed-loop client's next requests arrive only after the answers the
        yield sent: a count unchanged across one yield is no quiet), or else (another server)
        the yield took long enough for requests to have run."""
        long_yield = monotonic() - yielded_at > BUSY_YIELD_SECONDS
        if received < 0:
            return long_yield
        if self.requests_received() != received:
            return True
        in_flight = self.emulator.requests_in_flight
        return long_yield and in_flight is not None and in_flight() > 0

    async def before_slice(self) -> None:
        """Let a group of events waiting for its commit go first, then note the request count."""
        if self.background:
            while self.ingest_waiting():
                await asyncio.sleep(0)
        self._received = self.requests_received()
        self._began = monotonic()

    async def after_slice(self) -> None:
        """Yield to the event loop; the background worker then adapts its next slice."""
        began = monotonic()
        ran = began - self._began
        await asyncio.sleep(0)
        if not self.background:
            return
        seen, self._seen = self._seen, self.requests_received()
        if not self.requests_arrived(self._received, began):
            self.budget = min(GROUP_SECONDS, self.budget * 2)
            self._quiet = True
            return
        if self._quiet and await self._served_alone(seen):
            self.budget = max(SLICE_SECONDS, self.budget / 2)  # a lone request: a poll, a probe
            self._quiet = False
            return
        self._quiet = False
        self.budget = SLICE_SECONDS  # requests first; quiet yields double it again
        # a slice that ran past its budget (a batch's reads, writes and commit) buys requests
        # a longer turn, and so does each request it held up: under a flood of one client the
        # worker keeps about FLOOD_SHARE of the loop, under n concurrent ones about 1/n of that
        turn = ran * self.requests_held() * (1 - FLOOD_SHARE) / FLOOD_SHARE
        await self._until_quiet(max(BUSY_PAUSE_SECONDS, min(LONGEST_PAUSE_SECONDS, turn)))

    async def _served_alone(self, seen: int) -> bool:
        """After a quiet slice, whether one request at most came in since the last look (`seen`:
        the count then) and it was answered within LONE_REQUEST_SECONDS with no other arriving
        (a poll of /_emulator/idle, a health probe): then the worker goes on without a quiet
        step. Anything more is left to the flood rules."""
        in_flight = self.emulator.requests_in_flight
        answered = self._seen  # (the server counts requests once answered)
        if in_flight is None or answered < 0 or answered - seen > 1 or in_flight() > 1:
            return False
        deadline = monotonic() + LONE_REQUEST_SECONDS
        while in_flight() > 0:
            if monotonic() > deadline:
                return False
            await asyncio.sleep(0)  # the request runs
        return self.requests_received() - seen <= 1

    def requests_held(self) -> int:
        """How many requests the last slice held up (those in flight after it; at least one)."""
        in_flight = self.emulator.requests_in_flight
        return max(1, in_flight() if in_flight is not None else 1)

    async def _until_quiet(self, longest: float) -> None:
        """Leave the loop to requests until a QUIET_STEP_SECONDS step saw none in flight and none
        arrive, for at most `longest` seconds."""
        in_flight = self.emulator.requests_in_flight
        if in_flight is None:
            await asyncio.sleep(longest)
            return
        deadline = monotonic() + longest
        received = self.requests_received()
        while monotonic() < deadline:
            await asyncio.sleep(QUIET_STEP_SECONDS)
            now = self.requests_received()
            if now == received and in_flight() == 0:
                return
            received = now
