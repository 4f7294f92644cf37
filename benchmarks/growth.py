"""Growth: single-event ingest with 10k and with 1M events already stored.

    .venv/bin/python benchmarks/growth.py [--small 10000] [--large 1000000] [--rounds 3]

Both databases are built fast (benchmarks/_fixture_db.py: raw executemany into WAL files; each
event with its three completed rule_events, so the large one holds 1M events and 3M rule_events).
Then, alternately on each database, a `meshes-emulator serve` subprocess takes single events with
the publishable key at concurrency 8 (three matching simulated rules, as in ingest.py), beside its
GET /_emulator/health. Target: ingest with 1M stored at least 0.8 of ingest with 10k stored.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fixture_db import build
from _util import Serve, header, ingest_headers, load, median, ratio_line, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.0)
    args = parser.parse_args()
    header("growth: ingest rate against the number of stored events", small=args.small,
           large=args.large, rounds=args.rounds)
    sizes = {"small": args.small, "large": args.large}
    results: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {"trivial": [], "ingest": []} for name in sizes}
    with tempfile.TemporaryDirectory() as directory:
        paths = {}
        for name, count in sizes.items():
            paths[name] = f"{directory}/growth-{name}.db"
            built = build(paths[name], count)
            size = sum(p.stat().st_size for p in Path(directory).glob(f"growth-{name}.db*"))
            print(f"   built {count} events (+{3 * count} rule_events) in {built['seconds']:.1f} s, "
                  f"{size / 1e6:.0f} MB")
        sys.stdout.flush()
        start = 0
        for _ in range(args.rounds):
            for name in sizes:
                with Serve(paths[name]) as server:
                    results[name]["trivial"].append(load(server, connections=8,
                                                         duration=args.duration))
                    results[name]["ingest"].append(load(
                        server, connections=8, duration=args.duration, method="POST",
                        path="/api/v1/events", body="event", start=start,
                        headers=ingest_headers(server)))
                    start += 10_000_000
                    server.settle()
    rates = {}
    for name, count in sizes.items():
        runs = results[name]
        print(summary(f"{count:>9} stored: trivial GET /_emulator/health",
                      [r["rps"] for r in runs["trivial"]], "req/s"))
        print(summary(f"{count:>9} stored: ingest POST /api/v1/events (c=8)",
                      [r["rps"] for r in runs["ingest"]], "ev/s"))
        p99 = median([r["p99_ms"] for r in runs["ingest"]])
        cpu = median([r["server_cpu_us"] for r in runs["ingest"]])
        print(f"    ingest p99 {p99:7.3f} ms  server CPU {cpu:7.1f} us/req")
        rates[name] = median([r["rps"] for r in runs["ingest"]])
    print(ratio_line(f"ingest with {args.large} / with {args.small} stored", rates["large"],
                     rates["small"], ">= 0.8"))


if __name__ == "__main__":
    main()
