"""Bulk ingest (100-event batches) beside single-event ingest, same `serve`, same run.

    .venv/bin/python benchmarks/bulk.py [--rounds 3] [--duration 2] [--db file|memory|both]

Same server set-up as ingest.py (three matching simulated rules, background deliveries). Each
round: GET /_emulator/health and single POST /api/v1/events at concurrency 8 (the baselines), then
POST /api/v1/events/bulk with 100 events per request at concurrency 1 and 8. The delivery queue is
drained between runs. Target: bulk events/s at least 4x single-ingest events/s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import Serve, ingest_headers, load, median, ratio_line, run_per_database, summary

BATCH = 100


def run(kind: str, args: argparse.Namespace, directory: str) -> None:
    db = f"{directory}/bulk.db" if kind == "file" else ":memory:"
    runs: dict[str, list[dict[str, float]]] = {"trivial": [], "single": [], "bulk1": [], "bulk8": []}
    with Serve(db) as server:
        server.add_rules()
        start = 0
        for _ in range(args.rounds):
            runs["trivial"].append(load(server, connections=8, duration=args.duration))
            runs["single"].append(load(server, connections=8, duration=args.duration, method="POST",
                                       path="/api/v1/events", body="event", start=start,
                                       headers=ingest_headers(server)))
            server.settle()
            for level in (1, 8):
                start += 100_000_000
                runs[f"bulk{level}"].append(load(
                    server, connections=level, duration=args.duration, method="POST",
                    path="/api/v1/events/bulk", body="bulk", batch=BATCH, start=start,
                    headers=ingest_headers(server)))
                server.settle()
    print(f"-- {kind} database")
    print(summary("c=8  trivial GET /_emulator/health", [r["rps"] for r in runs["trivial"]], "req/s"))
    single = [r["rps"] for r in runs["single"]]
    print(summary("c=8  single POST /api/v1/events", single, "ev/s"))
    for level in (1, 8):
        rates = [r["rps"] * BATCH for r in runs[f"bulk{level}"]]
        print(summary(f"c={level:<3} bulk POST /api/v1/events/bulk (x{BATCH})", rates, "ev/s"))
        print(ratio_line("bulk / single (c=8)", median(rates), median(single),
                         ">= 4" if level == 8 else ""))
        p50 = median([r["p50_ms"] for r in runs[f"bulk{level}"]])
        p99 = median([r["p99_ms"] for r in runs[f"bulk{level}"]])
        cpu = median([r["server_cpu_us"] for r in runs[f"bulk{level}"]]) / BATCH
        print(f"    batch p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  server CPU {cpu:6.1f} us/event")
    sys.stdout.flush()


def main() -> None:
    run_per_database(__doc__ or "",
                     "bulk: 100-event batches, 3 matching simulated rules, beside single ingest",
                     run)


if __name__ == "__main__":
    main()
