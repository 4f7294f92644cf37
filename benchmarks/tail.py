"""Where single-ingest tail latency comes from: the loop's pauses during a c=8 ingest run.

    .venv/bin/python benchmarks/tail.py [--rounds 3] [--duration 3] [--db file|memory|both]

The emulator runs in this process (the server thread `meshes_emulator.running` starts, system
clock, background deliveries, the three simulated rules of the ingest benchmarks); loadgen.py
sends single events at c=8 from its own process. The start-up heap is frozen first, as `serve`
does (serving.py). Each round runs twice, with CPython's GC thresholds and with a young
generation of 50,000 allocations instead of 700 (`tune_gc`), and prints p50/p99 beside what
paused the loop meanwhile: garbage collections (by generation, from gc.callbacks), SQLite commits
(WAL checkpoints included) and the background delivery worker's batches (their reads, planning,
writes and commit), timed in place.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import LOADGEN, RULES, median, percentile, run_per_database

import meshes_emulator

YOUNG_THRESHOLD = 50_000  # CPython's default is 700: a gen-0 collection every few requests


def tune_gc() -> None:
    """What a server process could also do: collect the young generation every YOUNG_THRESHOLD
    allocations."""
    gc.set_threshold(YOUNG_THRESHOLD, 20, 100)


class Pauses:
    """Collections (gc.callbacks) and their durations while a run lasts."""

    def __init__(self) -> None:
        self.started = 0.0
        self.collections: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.collections[info["generation"]].append((time.perf_counter() - self.started) * 1000)

    def report(self) -> str:
        parts = []
        for generation, samples in self.collections.items():
            if samples:
                parts.append(f"gen{generation} {len(samples)}x p50 {median(samples):.2f} "
                             f"max {max(samples):.2f} ms")
        return ", ".join(parts) or "no collection"


def timed_commits(store: Any) -> list[float]:
    """Wrap the store's transaction so each commit's duration is recorded."""
    samples: list[float] = []
    original = store.transaction

    from contextlib import contextmanager

    @contextmanager
    def transaction(*args: Any, **kwargs: Any) -> Any:
        outer = store._depth == 0
        with original(*args, **kwargs) as conn:
            yield conn
            began = time.perf_counter()
        if outer:
            samples.append((time.perf_counter() - began) * 1000)

    store.transaction = transaction
    return samples


def timed_batches(machine: Any) -> list[float]:
    """Wrap the delivery machine's `run_batch` so each batch's duration is recorded (ms)."""
    samples: list[float] = []
    original = machine.run_batch

    def run_batch(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            samples.append((time.perf_counter() - began) * 1000)

    machine.run_batch = run_batch
    return samples


def batch_report(batches: list[float], seconds: float) -> str:
    if not batches:
        return "worker batches: none"
    share = sum(batches) / 1000 / seconds
    return (f"worker batches {len(batches)}x p50 {median(batches):.2f} p90 "
            f"{percentile(batches, 0.9):.2f} max {max(batches):.2f} ms ({share:.1%} of the run)")


def loadgen(port: int, key: str, duration: float, start: int) -> dict[str, Any]:
    command = [sys.executable, str(LOADGEN), "--port", str(port), "--connections", "8",
               "--duration", str(duration), "--method", "POST", "--path", "/api/v1/events",
               "--body", "event", "--start", str(start), "--header",
               f"X-Meshes-Publishable-Key: {key}"]
    result: dict[str, Any] = json.loads(subprocess.run(command, capture_output=True, text=True,
                                                       check=True).stdout)
    return result


def run(kind: str, args: Any, directory: str) -> None:
    db = f"{directory}/tail.db" if kind == "file" else ":memory:"
    print(f"-- {kind}")
    with meshes_emulator.running(db_path=db, clock="system") as emulator:
        with emulator.client() as api:
            for integration, metadata, rule_metadata in RULES:
                connection = api.post("/connections", json={
                    "workspace": emulator.workspace_id, "type": integration, "name": integration,
                    "metadata": metadata}).json()["connection"]
                api.post("/rules", json={"workspace": emulator.workspace_id, "event": "bench.signup",
                                         "connection": connection["id"], "metadata": rule_metadata})
        assert emulator.emulator is not None
        commits = timed_commits(emulator.emulator.store)
        batches = timed_batches(emulator.emulator.dispatcher.machine)
        gc.freeze()  # as `serve` does once it listens (serving.FastServer)
        port = int(emulator.url.rsplit(":", 1)[1])
        start = 0
        for _ in range(args.rounds):
            for tuned in (False, True):
                thresholds = gc.get_threshold()
                if tuned:
                    tune_gc()
                pauses = Pauses()
                gc.callbacks.append(pauses)
                commits.clear()
                batches.clear()
                result = loadgen(port, emulator.publishable_key or "", args.duration, start)
                gc.callbacks.remove(pauses)
                during = list(batches)
                if tuned:
                    gc.set_threshold(*thresholds)
                start += result["all_requests"] + 1
                emulator.admin("POST", "/settle")  # most of the backlog: rounds start alike
                print(f"  {'tuned GC ' if tuned else 'default GC'} {result['rps']:>7.0f} ev/s "
                      f"p50 {result['p50_ms']:.2f} p99 {result['p99_ms']:.2f} ms | "
                      f"{pauses.report()} | commits {len(commits)}x p99 "
                      f"{percentile(commits, 0.99):.2f} max {max(commits):.2f} ms | "
                      f"{batch_report(during, result['seconds'])}")


if __name__ == "__main__":
    run_per_database(__doc__ or "", "tail latency of single ingest, c=8", run)
