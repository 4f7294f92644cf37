"""Small helpers shared by the benchmark scripts: medians and ranges, printed plainly."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Run fn `repeat` times; return durations in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(name: str, samples: list[float], unit: str = "ms") -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{name:<44} median {statistics.median(samples):8.3f} {unit}   "
            f"min {ordered[0]:8.3f}   p99 {p99:8.3f}   max {ordered[-1]:8.3f}   (n={len(samples)})")


def machine() -> str:
    import os

    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{python}, {os.cpu_count()} cores, {platform.machine()}"
