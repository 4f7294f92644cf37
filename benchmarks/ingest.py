"""Single-event ingest beside the trivial endpoint, on the same `serve`, in the same run.

    .venv/bin/python benchmarks/ingest.py [--rounds 3] [--duration 2] [--db file|memory|both]
        [--levels 1,8,64] [--baseline /path/to/other/checkout]

A `meshes-emulator serve` subprocess (system clock, background deliveries) whose default
workspace has three matching simulated rules (Slack, HubSpot, Mailchimp). For each concurrency
(1, 8, 64) and each round: GET /_emulator/health (the baseline), then POST /api/v1/events with
the publishable key (a unique payload per request), both through benchmarks/loadgen.py. Between
runs the delivery queue is drained (POST /_emulator/settle) so every run starts from the same
state; the time that takes gives the sustained rate with deliveries included.

Printed per concurrency: requests/s (median, min-max), latency p50/p99 (medians over rounds), the
server's CPU per request (the delivery worker's included), the ratio of ingest to the trivial
endpoint, and the share of the events' delivery attempts the worker ran during the load.

`--baseline DIR`: a second `serve` runs the checkout in DIR (as its PYTHONPATH) beside this
one, and the rounds alternate between the two (which goes first swaps every round), so both are
measured under the same machine load; the figures of each are printed, then new / baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import RULES, Serve, ingest_headers, load, median, ratio_line, run_per_database, summary

LEVELS = (1, 8, 64)
TARGETS = {"file": ("0.18", 8.0), "memory": ("0.25", 3.0)}

Runs = dict[int, dict[str, list[dict[str, Any]]]]


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)),
                        help="concurrencies, comma-separated (default 1,8,64)")
    parser.add_argument("--baseline", default="",
                        help="another checkout measured beside this one, rounds interleaved")


def run(kind: str, args: argparse.Namespace, directory: str) -> dict[str, float]:
    levels = [int(level) for level in args.levels.split(",")]
    names = ["new", "baseline"] if args.baseline else ["new"]
    results: dict[str, Runs] = {name: {level: {"trivial": [], "ingest": []} for level in levels}
                                for name in names}
    sustained: dict[str, dict[int, list[float]]] = {name: {level: [] for level in levels}
                                                    for name in names}
    with contextlib.ExitStack() as stack:
        servers = {}
        for name in names:
            db = f"{directory}/ingest-{name}.db" if kind == "file" else ":memory:"
            servers[name] = stack.enter_context(
                Serve(db, pythonpath=args.baseline if name == "baseline" else None))
            servers[name].add_rules()
        start = 0
        for number in range(args.rounds):
            for level in levels:
                order = names if number % 2 == 0 else names[::-1]
                for name in order:
                    server = servers[name]
                    trivial = load(server, connections=level, duration=args.duration,
                                   warmup=args.warmup)
                    ingest = load(server, connections=level, duration=args.duration,
                                  method="POST", path="/api/v1/events", body="event",
                                  start=start, warmup=args.warmup,
                                  headers=ingest_headers(server))
                    start += 10_000_000
                    began = time.perf_counter()
                    left = server.settle()
                    settle = time.perf_counter() - began
                    total = ingest["all_requests"]
                    # the share of the events' attempts the worker ran during the load itself
                    ingest["worker_share"] = 1 - left / max(1, total * len(RULES))
                    sustained[name][level].append(
                        total / (ingest["seconds"] + args.warmup + settle))
                    results[name][level]["trivial"].append(trivial)
                    results[name][level]["ingest"].append(ingest)
    ratios: dict[str, dict[int, float]] = {}
    for name in names:
        title = "this checkout" if name == "new" else f"baseline {args.baseline}"
        print(f"-- {kind} database ({'file' if kind == 'file' else ':memory:'}), {title}")
        ratios[name] = report(kind, levels, results[name], sustained[name])
    if args.baseline:
        print(f"-- {kind}: this checkout / baseline, same run")
        for level in levels:
            new, old = results["new"][level], results["baseline"][level]
            speed = (median([r["rps"] for r in new["trivial"]])
                     / median([r["rps"] for r in old["trivial"]]))
            print(f"    c={level:<3} ingest/trivial {ratios['new'][level]:.3f} vs "
                  f"{ratios['baseline'][level]:.3f}; trivial req/s x{speed:.3f}; ingest p99 "
                  f"{median([r['p99_ms'] for r in new['ingest']]):.2f} vs "
                  f"{median([r['p99_ms'] for r in old['ingest']]):.2f} ms")
    sys.stdout.flush()
    return {"ratio_c8": ratios["new"].get(8, float("nan"))}


def report(kind: str, levels: list[int], results: Runs,
           sustained: dict[int, list[float]]) -> dict[int, float]:
    """Print one server's figures per concurrency; returns ingest / trivial per concurrency."""
    ratios = {}
    for level in levels:
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
        rounds = " ".join(f"{r['p99_ms']:.2f}" for r in ingest_runs)
        print(f"    ingest p99 by round (ms): {rounds}")
        share = median([r["worker_share"] for r in ingest_runs])
        print(f"    attempts run during the ingest load (not left to the settle): {share:.0%}")
        ratios[level] = rate / base
    return ratios


def main() -> None:
    run_per_database(__doc__ or "",
                     "ingest: single events, 3 matching simulated rules, beside GET /_emulator/health",
                     run, warmup=True, options=options)


if __name__ == "__main__":
    main()
