"""Event ingestion beside a trivial endpoint on the same `serve`, in the same run.

    .venv/bin/python benchmarks/ingest.py [--rounds 5] [--requests 400] [--concurrency 4]

A real `meshes-emulator serve` subprocess (system clock, background dispatcher, a database file)
with three matching simulated rules (Slack, HubSpot, Mailchimp) on the event. Measured, as the
median over rounds:

* trivial: GET /_emulator/health requests/s (the baseline);
* single ingest: POST /api/v1/events events/s (publishable key);
* bulk ingest: POST /api/v1/events/bulk with 100 events per request, events/s;
* ingest-to-completed latency: POST one event, then GET it until `completed` (client clock),
  beside the trivial endpoint's round trip; and the server's own `completed_at - created_at`.

Each rate is printed with its ratio to the trivial endpoint. Between rounds the delivery queue
is drained (POST /_emulator/settle) so every round starts from the same state.
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
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import machine, summary

from pytest_meshes.handle import MachineAuth

EVENT = "bench.signup"
RULES = [
    ("slack", {}, {"action": "send_message", "id": "C1", "template": "Hello {{first_name}}"}),
    ("hubspot", {}, {"action": "add_to_list", "id": "42"}),
    (
        "mailchimp",
        {"api_key": "bench-key-us6", "data_center": "us6"},
        {"action": "add_to_list", "id": "aud1"},
    ),
]


def payload(n: int) -> dict[str, Any]:
    return {"email": f"user{n}@example.com", "first_name": "Ada", "last_name": "Bench", "n": n}


def start_server(directory: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [
        sys.executable,
        "-m",
        "meshes_emulator",
        "serve",
        "--port",
        "0",
        "--json",
        "--db",
        f"{directory}/ingest.db",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit("serve did not start")
    return process, json.loads(line)


def setup(info: dict[str, Any]) -> None:
    workspace = info["workspaces"][0]["id"]
    auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
    with httpx.Client(base_url=info["api_url"], auth=auth, trust_env=False) as api:
        for kind, metadata, rule_metadata in RULES:
            created = api.post(
                "/connections",
                json={"workspace": workspace, "type": kind, "name": kind, "metadata": metadata},
            )
            created.raise_for_status()
            rule = api.post(
                "/rules",
                json={
                    "workspace": workspace,
                    "event": EVENT,
                    "connection": created.json()["connection"]["id"],
                    "metadata": rule_metadata,
                },
            )
            rule.raise_for_status()


async def rate(count: int, concurrency: int, make: Callable[[int], Awaitable[int]]) -> float:
    """Run `make(i)` for i < count with `concurrency` workers; return units per second."""
    queue = iter(range(count))
    units = 0

    async def worker() -> None:
        nonlocal units
        for i in queue:
            done = await make(i)  # not `units += await ...`: that reads `units` before awaiting
            units += done

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return units / (time.perf_counter() - start)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def main_async(args: argparse.Namespace, info: dict[str, Any]) -> None:
    key = info["workspaces"][0]["publishable_key"]
    auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(
        base_url=info["base_url"], limits=limits, trust_env=False, headers={"X-Meshes-Publishable-Key": key}
    ) as client:
        counter = 0

        async def health(_: int) -> int:
            response = await client.get("/_emulator/health")
            response.raise_for_status()
            return 1

        async def single(_: int) -> int:
            nonlocal counter
            counter += 1
            response = await client.post("/api/v1/events", json={"event": EVENT, "payload": payload(counter)})
            assert response.status_code == 201, response.text
            return 1

        async def bulk(_: int) -> int:
            nonlocal counter
            items = []
            for _ in range(100):
                counter += 1
                items.append({"event": EVENT, "payload": payload(counter)})
            response = await client.post("/api/v1/events/bulk", json=items)
            assert response.status_code == 201, response.text
            return 100

        async def settle() -> None:
            (await client.post("/_emulator/settle", timeout=600)).raise_for_status()

        results: dict[str, list[float]] = {"trivial": [], "single": [], "bulk": []}
        for _ in range(args.rounds):
            results["trivial"].append(await rate(args.requests, args.concurrency, health))
            results["single"].append(await rate(args.requests, args.concurrency, single))
            await settle()
            results["bulk"].append(await rate(max(1, args.requests // 20), args.concurrency, bulk))
            await settle()

        rtt: list[float] = []
        latency: list[float] = []
        server_side: list[float] = []
        for _ in range(args.rounds * 20):
            start = time.perf_counter()
            await client.get("/_emulator/health")
            rtt.append((time.perf_counter() - start) * 1000)
            counter += 1
            start = time.perf_counter()
            created = await client.post("/api/v1/events", json={"event": EVENT, "payload": payload(counter)})
            event_id = created.json()["event"]["id"]
            while True:
                body = (await client.get(f"/api/v1/events/{event_id}", auth=auth)).json()
                if body["status"] == "completed":
                    break
            latency.append((time.perf_counter() - start) * 1000)
            delta = parse(body["completed_at"]) - parse(body["created_at"])
            server_side.append(delta.total_seconds() * 1000)

    trivial = statistics.median(results["trivial"])
    print(summary("trivial GET /_emulator/health", results["trivial"], "req/s"))
    for name, label in (
        ("single", "single ingest POST /events"),
        ("bulk", "bulk ingest POST /events/bulk (x100)"),
    ):
        print(summary(label, results[name], "ev/s"))
        print(f"{'':<44} ratio to trivial {statistics.median(results[name]) / trivial:8.3f}")
    print(summary("trivial round trip", rtt))
    print(summary("ingest -> completed (client, polling)", latency))
    print(f"{'':<44} ratio to trivial round trip {statistics.median(latency) / statistics.median(rtt):8.2f}")
    print(summary("ingest -> completed (server timestamps)", server_side))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    print(
        f"machine: {machine()}; {args.rounds} rounds, {args.requests} requests, "
        f"concurrency {args.concurrency}, 3 simulated rules per event"
    )
    with tempfile.TemporaryDirectory() as directory:
        process, info = start_server(directory)
        try:
            setup(info)
            asyncio.run(main_async(args, info))
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
