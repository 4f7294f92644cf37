"""Run every benchmark, one after the other, and print (and optionally save) what they print.

    .venv/bin/python benchmarks/run_all.py [--quick] [--only ingest,bulk] [--out results.txt]

Each benchmark is a script of its own (see benchmarks/README.md); run them one at a time on an
otherwise idle machine: every figure is a median over rounds and every rate is printed beside
its baseline measured on the same server in the same run, but two cores shared with other work
still move the numbers. `--quick` runs fewer and shorter rounds (and 100k instead of 1M events
for growth): a smoke test, not figures to quote. To measure another checkout (a baseline), point
PYTHONPATH at it: `PYTHONPATH=/path/to/other/checkout .venv/bin/python benchmarks/run_all.py`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    # name: (full arguments, --quick arguments)
    "loadgen": (["--calibrate"], ["--calibrate", "--duration", "1"]),
    "ingest": ([], ["--rounds", "1", "--duration", "1"]),
    "bulk": ([], ["--rounds", "1", "--duration", "1"]),
    "completed": ([], ["--samples", "100"]),
    "lists": ([], ["--rounds", "1", "--duration", "1"]),
    "growth": ([], ["--rounds", "1", "--duration", "1", "--large", "100000"]),
    "fixture": ([], ["--repeat", "10", "--cold", "3", "--suite-runs", "1"]),
    "snapshots": ([], ["--rounds", "3", "--connections", "100", "--events", "1000"]),
    "memory": ([], ["--events", "20000"]),
    "tail": ([], ["--rounds", "1", "--duration", "1"]),
    "attempt_floor": ([], ["--rounds", "1", "--duration", "1", "--events", "1000"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated names: " + ", ".join(BENCHMARKS))
    parser.add_argument("--out", default="", help="also write everything to this file")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    output = open(args.out, "w", encoding="utf-8") if args.out else None  # noqa: SIM115
    failed = []
    began = time.perf_counter()
    try:
        for name in names:
            full, quick = BENCHMARKS[name]
            command = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)]
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True, env=dict(os.environ))
            assert process.stdout is not None
            for line in process.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                if output:
                    output.write(line)
            if process.wait() != 0:
                failed.append(name)
            footer = f"   ({name}: {time.perf_counter() - started:.0f} s)\n\n"
            sys.stdout.write(footer)
            if output:
                output.write(footer)
    finally:
        if output:
            output.close()
    print(f"all done in {time.perf_counter() - began:.0f} s" + (f"; FAILED: {failed}" if failed else ""))
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
