"""What the API-fault check costs on the hot path (issue 5).

    .venv/bin/python benchmarks/faults.py [--rounds 5] [--requests 2000] [--concurrency 4]

A real `meshes-emulator serve` subprocess. Measured as the median over rounds, requests/s of:

* GET /_emulator/health (no public route: the baseline, never checked for faults);
* GET /api/v1/workspaces without credentials (401: the cheapest public route, where the check
  runs first), in three plans: no faults at all; 20 delivery faults; 20 API faults on other
  paths (every one is tested against the request and none matches).

Plus the check itself in process: nanoseconds per call with no API fault set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import machine


def start_server(directory: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--json",
               "--clock", "manual", "--db", f"{directory}/faults.db"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit("serve did not start")
    return process, json.loads(line)


async def rate(client: httpx.AsyncClient, path: str, status: int, count: int, concurrency: int) -> float:
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            response = await client.get(path)
            assert response.status_code == status, response.text

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - start)


def plan(base_url: str, name: str) -> None:
    httpx.post(base_url + "/_emulator/faults/clear", json={}).raise_for_status()
    if name == "20 delivery faults":
        faults = [{"integration_type": "slack", "outcome": "timeout", "every": n + 2} for n in range(20)]
    elif name == "20 API faults, none matching":
        faults = [{"kind": "api", "path": f"/rules/x{n}", "status": 503} for n in range(20)]
    else:
        return
    httpx.post(base_url + "/_emulator/faults", json=faults).raise_for_status()


async def main_async(args: argparse.Namespace, info: dict[str, Any]) -> None:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    plans = ["no faults", "20 delivery faults", "20 API faults, none matching"]
    results: dict[str, list[float]] = {"health (baseline)": [], **{p: [] for p in plans}}
    async with httpx.AsyncClient(base_url=info["base_url"], limits=limits, trust_env=False) as client:
        await rate(client, "/_emulator/health", 200, 500, args.concurrency)  # warm up
        for _ in range(args.rounds):
            results["health (baseline)"].append(
                await rate(client, "/_emulator/health", 200, args.requests, args.concurrency))
            for name in plans:
                plan(info["base_url"], name)
                results[name].append(
                    await rate(client, "/api/v1/workspaces", 401, args.requests, args.concurrency))
    base = statistics.median(results["no faults"])
    print(f"{machine()}; {args.rounds} rounds of {args.requests} requests, concurrency {args.concurrency}")
    for name, samples in results.items():
        median = statistics.median(samples)
        print(f"  GET {'/_emulator/health' if 'health' in name else '/api/v1/workspaces (401)':<28} "
              f"{name:<30} {median:8.0f} req/s  ({median / base:5.2f}x no faults; "
              f"range {min(samples):.0f}-{max(samples):.0f})")


def check_cost() -> float:
    """Nanoseconds per api_fault() call with no API fault set (in process)."""
    from meshes_emulator import Settings, create_app

    app = create_app(Settings(clock="manual"))
    hook = app.state.emulator.faults.api_fault
    hook("GET", "/api/v1/workspaces")
    count = 1_000_000
    start = time.perf_counter()
    for _ in range(count):
        hook("GET", "/api/v1/workspaces")
    return (time.perf_counter() - start) / count * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        process, info = start_server(directory)
        try:
            asyncio.run(main_async(args, info))
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"  api_fault() with no API fault set: {check_cost():.0f} ns per call (in process)")


if __name__ == "__main__":
    main()
