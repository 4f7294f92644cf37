"""Snapshot restore of a big world, in memory (issue 16; target: a restore under 5 ms).

    .venv/bin/python benchmarks/snapshots.py [--rounds 20] [--connections 1000] [--events 10000]

In process, on a `:memory:` database: 1,000 Slack connections, one rule each (each on its own
event name), 10,000 events spread over those names (ingested in batches of 100 through the API)
and delivered (10,000 rule_events, attempts and delivery-sink rows). Then, as medians over rounds:
taking the snapshot, restoring it (the service call: tables copied back, in-process state put
back, caches forgotten), and the same restore through `POST /_emulator/snapshots/{name}/restore`
(the ASGI app, no socket), each beside a reset of the same world as the baseline. The restore is
also given in CPU time of its thread: on a shared machine the wall time includes waiting for a
core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import ROOT, header, median, summary

sys.path.insert(0, str(ROOT))

from meshes_emulator import Settings, create_app
from meshes_emulator.services import admin, snapshots
from pytest_meshes.handle import mint_token
from pytest_meshes.server import asgi_request

SERVER = ("127.0.0.1", 8787)


class World:
    """An in-process app and a way to call it."""

    def __init__(self) -> None:
        self.app = create_app(Settings(db_path=":memory:", clock="manual"))
        self.emulator = self.app.state.emulator
        self.credentials: dict[str, Any] = {}

    async def call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        headers = {"content-type": "application/json"}
        if auth:
            c = self.credentials
            headers["authorization"] = "Bearer " + mint_token(c["access_key"], c["secret_key"],
                                                              c["org_id"])
        data = b"" if body is None else json.dumps(body).encode()
        status, content = await asgi_request(self.app, method, path, data, headers, SERVER)
        if status >= 400:
            raise SystemExit(f"{method} {path} -> {status}: {content[:300]!r}")
        return json.loads(content) if content else None

    async def build(self, connections: int, events: int) -> None:
        org = (await self.call("GET", "/_emulator/credentials", auth=False))["organizations"][0]
        key = org["machine_keys"][0]
        self.credentials = {"org_id": org["org_id"], "access_key": key["access_key"],
                            "secret_key": key["secret_key"]}
        workspace = org["workspaces"][0]["id"]
        for n in range(connections):
            connection = await self.call("POST", "/api/v1/connections", {
                "workspace": workspace, "type": "slack", "name": f"Slack {n}",
                "metadata": {"access_token": "t"}})
            await self.call("POST", "/api/v1/rules", {
                "workspace": workspace, "connection": connection["connection"]["id"],
                "event": f"bench.e{n}", "metadata": {"action": "send_message", "id": "C1",
                                                      "template": "Hi {{first_name}}"}})
        for start in range(0, events, 100):
            batch = [{"workspace": workspace, "event": f"bench.e{i % connections}",
                      "payload": {"email": f"u{i}@example.com", "first_name": "Ada"}}
                     for i in range(start, min(events, start + 100))]
            await self.call("POST", "/api/v1/events/bulk", batch)
        await self.call("POST", "/_emulator/settle", auth=False)

    def counts(self) -> dict[str, int]:
        store = self.emulator.store
        return {table: store.one(f"SELECT count(*) AS n FROM {table}")["n"]
                for table in ("connections", "rules", "events", "rule_events", "attempts",
                              "deliveries")}


async def main(rounds: int, connections: int, events: int) -> None:
    header("Snapshot restore (in memory)", rounds=rounds, connections=connections, events=events)
    world = World()
    began = time.perf_counter()
    await world.build(connections, events)
    print(f"world built in {time.perf_counter() - began:.1f} s: {world.counts()}")
    emulator = world.emulator
    take, restore, route, restore_cpu = [], [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        snapshot = snapshots.take(emulator, "bench")
        take.append((time.perf_counter() - t0) * 1000)
    print(f"snapshot size: {len(snapshot.image) / 1e6:.1f} MB")
    for _ in range(rounds):
        await world.call("POST", "/api/v1/workspaces", {"name": "Noise"})  # something to undo
        t0, c0 = time.perf_counter(), time.thread_time()
        snapshots.restore(emulator, "bench")
        restore.append((time.perf_counter() - t0) * 1000)
        restore_cpu.append((time.thread_time() - c0) * 1000)
    for _ in range(rounds):
        await world.call("POST", "/api/v1/workspaces", {"name": "Noise"})
        t0 = time.perf_counter()
        await world.call("POST", "/_emulator/snapshots/bench/restore", auth=False)
        route.append((time.perf_counter() - t0) * 1000)
    assert world.counts()["events"] == events
    print(summary("take a snapshot", take))
    print(summary("restore (service call), wall time", restore) + "   target < 5 ms")
    print(summary("restore (service call), CPU time of the thread", restore_cpu))
    print(summary("restore (POST .../restore, ASGI in process)", route))
    resets = []
    for _ in range(max(3, rounds // 4)):
        snapshots.restore(emulator, "bench")
        t0 = time.perf_counter()
        admin.reset(emulator)
        resets.append((time.perf_counter() - t0) * 1000)
    print(summary("baseline: reset of the same world", resets))
    print(f"restore / reset: {median(restore) / median(resets):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.connections, args.events))
