"""The automatic retry schedule (behavior §3.5; the real numbers are not published).

A `RetryPolicy` is a tuple of delays: attempt N (1-based) that fails with a retryable outcome is
followed by attempt N+1 after `delays[N-1]` seconds, so `max_attempts == len(delays) + 1`.
No jitter, so runs are reproducible. A destination's `Retry-After` (rate limits) wins when it asks
for a longer wait than the schedule.

Named schedules:

* `short` (the default): 1 s, 2 s, 4 s -> 4 attempts, a failing delivery is `failed` after ~7 s.
* `realistic`: 30 s, 2 min, 10 min, 1 h -> 5 attempts over ~1 h 12 min (behavior §3.5 suggestion).
* `none`: no automatic retries (1 attempt).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from meshes_emulator.engine.outcomes import Outcome

SHORT_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
REALISTIC_DELAYS: tuple[float, ...] = (30.0, 120.0, 600.0, 3600.0)
NAMED_SCHEDULES: dict[str, tuple[float, ...]] = {
    "short": SHORT_DELAYS,
    "default": SHORT_DELAYS,
    "realistic": REALISTIC_DELAYS,
    "none": (),
}
MAX_RETRIES = 50
_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DELAY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


@dataclass(frozen=True)
class RetryPolicy:
    """Delays (seconds) between consecutive attempts of one rule_event."""

    delays: tuple[float, ...] = SHORT_DELAYS

    def __post_init__(self) -> None:
        if len(self.delays) > MAX_RETRIES:
            raise ValueError(f"at most {MAX_RETRIES} retry delays")
        for delay in self.delays:
            if not math.isfinite(delay) or delay < 0:
                raise ValueError(f"retry delay must be a finite number >= 0, got {delay!r}")

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(self, attempt_number: int) -> float | None:
        """Seconds to wait after failed attempt `attempt_number`, or None when it was the last."""
        if attempt_number < 1 or attempt_number > len(self.delays):
            return None
        return self.delays[attempt_number - 1]

    def next_due(self, now: datetime, attempt_number: int, outcome: Outcome) -> datetime | None:
        """When the next attempt runs, or None when the rule_event is finished (done or failed)."""
        if outcome.ok or not outcome.retryable:
            return None
        delay = self.delay_after(attempt_number)
        if delay is None:
            return None
        if outcome.retry_after is not None and outcome.retry_after > delay:
            delay = outcome.retry_after
        return now + timedelta(seconds=delay)

    def describe(self) -> str:
        """The schedule as the CLI would accept it (e.g. `1,2,4`)."""
        return ",".join(f"{d:g}" for d in self.delays) or "none"

    @classmethod
    def parse(cls, text: str) -> RetryPolicy:
        """Parse `--retry-delays`: a schedule name or comma-separated delays (`1,2,4`, `30s,2m,1h`).

        Raises ValueError with a readable message on anything else.
        """
        name = text.strip().lower()
        if name in NAMED_SCHEDULES:
            return cls(NAMED_SCHEDULES[name])
        if not name:
            raise ValueError("empty retry schedule (use 'none' for no retries)")
        delays: list[float] = []
        for part in name.split(","):
            match = _DELAY_RE.match(part)
            if not match:
                raise ValueError(
                    f"bad retry delay {part.strip()!r}: use seconds like 1,2,4 or 30s,2m,1h, "
                    f"or one of {', '.join(sorted(NAMED_SCHEDULES))}"
                )
            delays.append(float(match.group(1)) * _UNITS[match.group(2) or ""])
        return cls(tuple(delays))


DEFAULT_POLICY = RetryPolicy()
