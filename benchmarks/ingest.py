"""Single-event ingest beside the trivial endpoint, on the same `serve`, in the same run.

    .venv/bin/python benchmarks/ingest.py [--rounds 3] [--duration 2] [--db file|memory|both]

A `meshes-emulator serve` subprocess (system clock, background deliveries) whose default
workspace has three matching simulated rules (Slack, HubSpot, Mailchimp). For each concurrency
(1, 8, 64) and each round: GET /_emulator/health (the baseline), then POST /api/v1/events with
the publishable key (a unique payload per request), both through benchmarks/loadgen.py. Between
runs the delivery queue is drained (POST /_emulator/settle) so every run starts from the same
state; the time that takes gives the sustained rate with deliveries included.

Printed per concurrency: requests/s (median, min-max), latency p50/p99 (medians over rounds), the
server's CPU per request, and the ratio of ingest to the trivial endpoint.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import Serve, ingest_headers, load, median, ratio_line, run_per_database, summary

LEVELS = (1, 8, 64)
TARGETS = {"file": ("0.18", 8.0), "memory": ("0.25", 3.0)}


def run(kind: str, args: argparse.Namespace, directory: str) -> dict[str, float]:
    db = f"{directory}/ingest.db" if kind == "file" else ":memory:"
    results: dict[int, dict[str, list[dict[str, float]]]] = {
        level: {"trivial": [], "ingest": []} for level in LEVELS}
    sustained: dict[int, list[float]] = {level: [] for level in LEVELS}
    with Serve(db) as server:
        server.add_rules()
        start = 0
        for _ in range(args.rounds):
            for level in LEVELS:
                trivial = load(server, connections=level, duration=args.duration,
                               warmup=args.warmup)
                ingest = load(server, connections=level, duration=args.duration, method="POST",
                              path="/api/v1/events", body="event", start=start, warmup=args.warmup,
                              headers=ingest_headers(server))
                start += 10_000_000
                began = time.perf_counter()
                server.settle()
                settle = time.perf_counter() - began
                total = ingest["all_requests"]
                sustained[level].append(total / (ingest["seconds"] + args.warmup + settle))
                results[level]["trivial"].append(trivial)
                results[level]["ingest"].append(ingest)
    print(f"-- {kind} database ({db if kind == 'file' else ':memory:'})")
    ratios = {}
    for level in LEVELS:
        trivial_runs, ingest_runs = results[level]["trivial"], results[level]["ingest"]
        base = median([r["rps"] for r in trivial_runs])
        rate = median([r["rps"] for r in ingest_runs])
        print(summary(f"c={level:<3} trivial GET /_emulator/health", [r["rps"] for r in trivial_runs],
                      "req/s"))
        print(summary(f"c={level:<3} ingest POST /api/v1/events", [r["rps"] for r in ingest_runs],
                      "ev/s"))
        target = f">= {TARGETS[kind][0]}" if level == 8 else ""
        print(ratio_line("ingest / trivial", rate, base, target))
        for name, runs in (("trivial", trivial_runs), ("ingest", ingest_runs)):
            p50 = median([r["p50_ms"] for r in runs])
            p99 = median([r["p99_ms"] for r in runs])
            cpu = median([r["server_cpu_us"] for r in runs])
            gen = median([r["cpu"] for r in runs])
            note = f"   target p99 <= {TARGETS[kind][1]} ms" if level == 8 and name == "ingest" else ""
            print(f"    {name:<8} p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  server CPU {cpu:7.1f} us/req"
                  f"  loadgen CPU {gen:4.2f} core{note}")
        print(summary(f"c={level:<3} sustained, deliveries included", sustained[level], "ev/s"))
        ratios[level] = rate / base
    sys.stdout.flush()
    return {"ratio_c8": ratios[8]}


def main() -> None:
    run_per_database(__doc__ or "",
                     "ingest: single events, 3 matching simulated rules, beside GET /_emulator/health",
                     run, warmup=True)


if __name__ == "__main__":
    main()
