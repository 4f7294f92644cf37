"""Time for the emulator: one clock object that every domain timestamp comes from.

`SystemClock` reads real time; `ManualClock` starts at a fixed instant and only moves when told
(`set`, `advance`). JWT checks always use `wall_clock()` (real time), see docs/behaviour.md.
This is the only module that reads the system time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_START = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)


class Clock(Protocol):
    """Anything with `now()` returning an aware UTC datetime."""

    mode: str

    def now(self) -> datetime: ...


class SystemClock:
    """Real time, in UTC."""

    mode = "system"

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A frozen clock that moves only through `set` and `advance`."""

    mode = "manual"

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant

    def advance(self, seconds: float) -> datetime:
        self._now = self._now + timedelta(seconds=seconds)
        return self._now


def wall_clock() -> float:
    """Real seconds since the epoch (for JWT checks and measurements)."""
    return time.time()


def monotonic() -> float:
    """A monotonic counter in seconds (durations only)."""
    return time.perf_counter()


def isoformat(instant: datetime) -> str:
    """RFC 3339 UTC with milliseconds, e.g. 2026-01-01T00:00:00.000Z (sorts as text)."""
    global _last_format, _last_second
    last = _last_format  # one (instant, text) pair: a request formats the same instant often
    if last[0] == instant:
        return last[1]
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    # the text up to the second is kept while that second lasts (an attempt formats two
    # instants): 1.2 -> 0.3 us a call
    second = (instant.second, instant.minute, instant.hour, instant.day, instant.month, instant.year)
    kept = _last_second  # read once: another thread may replace it
    if kept[0] != second:
        kept = _last_second = (second, instant.isoformat(timespec="seconds")[:-6])  # drop "+00:00"
    text = kept[1] + _MILLIS[instant.microsecond // 1000]
    _last_format = (instant, text)
    return text


_MILLIS = tuple(f".{n:03d}Z" for n in range(1000))
_last_second: tuple[tuple[int, ...], str] = ((), "")
_last_format: tuple[datetime, str] = (DEFAULT_START, "2026-01-01T00:00:00.000Z")


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (Z or offset); naive values are taken as UTC.

    RFC 3339 allows a lower-case `t` and `z` (§5.6 note); Python's parser wants upper case.
    """
    value = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
