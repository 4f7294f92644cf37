"""The delivery engine (issue 14): deliveries against ingest, webhooks, isolation, drains.

    .venv/bin/python benchmarks/deliveries.py [--only sustained,webhooks,isolation,drain,memory]

Every figure is printed beside its target. The emulator is a real `serve --port 0` subprocess on a
WAL file (system clock, background worker); webhooks go to benchmarks/_receiver.py, a separate
asyncio process on 127.0.0.1 (`/fast` answers at once, `/slow` after 100 ms, `/drip` one byte
every 2 s, `/hang` never).

* sustained: single ingest at c=8 for a few seconds (three simulated rules, as in ingest.py), then
  EVENTS events at c=8 as fast as they are acknowledged, timed until every rule_event is terminal;
  the ratio of the two rates, same server, same run (target >= 0.8);
* webhooks: one webhook rule, WARM_UP deliveries first (not timed), then events ingested in bulk,
  deliveries/s until the last is recorded, to `/fast` (target >= 2,000/s) and `/slow` (target
  >= 400/s with >= 48 in flight);
* isolation: 30 events to `/drip` and 30 to `/hang` (their connections hold 60 of the 64 slots),
  then 200 events to `/fast` over 4 s: the delay from each event's creation to its delivery
  (target: every one within 1 s) and how long the dripping and hanging attempts lasted (target:
  their deadline, 10 s, + 1 s);
* drain: `GET /_emulator/health` probed one at a time while `POST /_emulator/clock/advance` runs
  20k simulated retries (manual clock), and while `POST /_emulator/settle` takes over a backlog
  just ingested (system clock): probe p99 (target <= 50 ms);
* memory: the server's RSS before and after 300k simulated attempts (100k events; target: within
  +20 MiB, issue 18).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import EVENT, HERE, Serve, child_env, header, ingest_headers, load, median, percentile

DEADLINE = 10.0
WARM_UP = 100  # webhook deliveries before the timed ones


class ReceiverProcess:
    """benchmarks/_receiver.py as a subprocess."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(HERE / "_receiver.py")],
                                        stdout=subprocess.PIPE, text=True, env=child_env())
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def stats(self, reset: bool = False) -> dict[str, Any]:
        answer = httpx.get(self.url + "/stats" + ("?reset" if reset else ""), trust_env=False)
        result: dict[str, Any] = answer.json()
        return result

    def __enter__(self) -> ReceiverProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def wait_until_done(server: Serve, limit: float = 600) -> float:
    """Poll /_emulator/idle until nothing is scheduled or in flight; returns when (perf_counter)."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        state = server.admin("GET", "/idle")
        if state["scheduled"] == 0 and state["in_flight"] == 0:
            return time.perf_counter()
        time.sleep(0.01)
    raise SystemExit(f"deliveries did not finish within {limit} s: {state}")


def webhook_rule(server: Serve, url: str, event: str = EVENT) -> str:
    created = server.api("POST", "/connections", json={
        "workspace": server.workspace, "type": "webhook",
        "name": url.rsplit("/", 1)[1] + "-" + event.replace(".", "-"),
        "metadata": {"url": url}})
    connection: str = created["connection"]["id"]
    server.api("POST", "/rules", json={"workspace": server.workspace, "event": event,
                                       "connection": connection, "metadata": {"action": "send_webhook"}})
    return connection


def line(name: str, figure: str, target: str, met: bool) -> None:
    print(f"  {name:<58} {figure:<34} target {target:<22} {'met' if met else 'MISSED'}", flush=True)


# -- sustained ----------------------------------------------------------------------------------


def sustained(args: argparse.Namespace, directory: str) -> None:
    with Serve(f"{directory}/sustained.db") as server:
        server.add_rules()
        single = load(server, connections=8, duration=args.duration, method="POST", path="/api/v1/events",
                      headers=ingest_headers(server), body="event")
        wait_until_done(server)
        began = time.perf_counter()
        flood = load(server, connections=8, method="POST", path="/api/v1/events",
                     headers=ingest_headers(server), body="event", requests=args.events, warmup=0,
                     start=10_000_000)
        acknowledged = flood["seconds"]
        done = wait_until_done(server) - began
        rate = args.events / done
        ratio = rate / single["rps"]
        print(f"  single ingest c=8: {single['rps']:,.0f} ev/s (p99 {single['p99_ms']:.1f} ms); "
              f"{args.events:,} events acknowledged in {acknowledged:.2f} s "
              f"({args.events / acknowledged:,.0f} ev/s), every rule_event terminal after {done:.2f} s")
        line("sustained end to end, 3 simulated rules / single ingest", f"{rate:,.0f} ev/s = {ratio:.2f}x",
             ">= 0.8x", ratio >= 0.8)


# -- webhooks -----------------------------------------------------------------------------------


def webhooks(args: argparse.Namespace, directory: str, receiver: ReceiverProcess) -> None:
    for path, count, target, floor in (("/fast", args.webhooks, ">= 2,000/s", 2000.0),
                                       ("/slow", args.webhooks // 2, ">= 400/s, >= 48 in flight", 400.0)):
        with Serve(f"{directory}/hooks{path[1:]}.db") as server:
            webhook_rule(server, receiver.url + path)
            # warm-up, not timed: the server's first webhook imports aiohttp and opens its session
            # (0.1-0.4 s, once per process), which is no part of the steady rate
            ingest_bulk(server, WARM_UP)
            wait_until_done(server)
            receiver.stats(reset=True)
            began = time.perf_counter()
            load(server, connections=2, method="POST", path="/api/v1/events/bulk",
                 headers=ingest_headers(server), body="bulk", batch=100, requests=count // 100, warmup=0)
            done = wait_until_done(server) - began
            stats = receiver.stats()[path]
            rate = stats["count"] / done
            in_flight = stats["max_busy"]
            met = rate >= floor and (path == "/fast" or in_flight >= 48)
            line(f"webhook deliveries to {path} ({count:,} events)",
                 f"{rate:,.0f}/s, at most {in_flight} in flight", target, met)


# -- isolation ----------------------------------------------------------------------------------


def isolation(args: argparse.Namespace, directory: str, receiver: ReceiverProcess) -> None:
    with Serve(f"{directory}/isolation.db") as server:
        hostile = {path: webhook_rule(server, receiver.url + path, f"to{path[1:]}")
                   for path in ("/drip", "/hang")}
        webhook_rule(server, receiver.url + "/fast", "tofast")
        receiver.stats(reset=True)
        headers = {"X-Meshes-Publishable-Key": server.key}
        with httpx.Client(base_url=server.url + "/api/v1", headers=headers, trust_env=False) as ingest:
            for path in hostile:
                ingest.post("/events/bulk", json=[{"event": f"to{path[1:]}", "payload": {"n": n}}
                                                  for n in range(30)]).raise_for_status()
            began = time.perf_counter()
            for n in range(200):
                ingest.post("/events", json={"event": "tofast", "payload": {"n": n}}).raise_for_status()
                time.sleep(max(0.0, began + (n + 1) * 0.02 - time.perf_counter()))
        time.sleep(0.5)
        stats = receiver.stats()
        delays = stats.get("/fast", {}).get("delays_ms", [])
        worst = max(delays) if delays else float("inf")
        line("other connection: creation -> delivery, max (p50)",
             f"{worst:,.0f} ms ({median(delays):,.1f} ms), {len(delays)}/200", "<= 1,000 ms",
             worst <= 1000 and len(delays) == 200)
        print(f"  in flight at the receiver: drip {stats['/drip']['max_busy']}, "
              f"hang {stats['/hang']['max_busy']}")
        time.sleep(DEADLINE + 1.5)
        for path, connection in hostile.items():
            records = server.admin("GET", f"/deliveries?connection={connection}&limit=1000")["records"]
            longest = max(attempt_duration(server, record) for record in records[:5])
            line(f"{path} attempt: how long it lasted (deadline {DEADLINE:g} s)",
                 f"{longest / 1000:.2f} s, {records[0]['outcome_code']}", f"<= {DEADLINE + 1:g} s",
                 longest <= (DEADLINE + 1) * 1000)


def attempt_duration(server: Serve, record: dict[str, Any]) -> int:
    attempt = server.api("GET", f"/events/{record['event_id']}/rules/{record['rule']}/attempts/"
                                f"{record['attempt_id']}")
    return int(attempt["duration_ms"] or 0)


# -- drains -------------------------------------------------------------------------------------


class Prober(threading.Thread):
    """GET /_emulator/health one at a time; latencies (ms) while `recording`."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopped, self.recording = url, False, False
        self.latencies: list[float] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, trust_env=False) as client:
            while not self.stopped:
                began = time.perf_counter()
                client.get("/_emulator/health").raise_for_status()
                if self.recording:
                    self.latencies.append((time.perf_counter() - began) * 1000)


def probed(
    server: Serve, method: str, path: str, body: Any = None
) -> tuple[dict[str, Any], list[float], float]:
    prober = Prober(server.url)
    prober.start()
    time.sleep(0.2)
    prober.recording = True
    began = time.perf_counter()
    answer = server.admin(method, path, json=body)
    took = time.perf_counter() - began
    prober.recording = False
    prober.stopped = True
    prober.join()
    return answer, prober.latencies, took


def drains(args: argparse.Namespace, directory: str) -> None:
    events = args.drain // 3
    with Serve(f"{directory}/advance.db", "--clock", "manual", "--retry-delays", "1",
               "--fault", "outcome=timeout,first=1") as server:
        server.add_rules()
        ingest_bulk(server, events)
        wait_until(server, lambda s: s["due_now"] == 0 and s["in_flight"] == 0)
        cpu = server.cpu_seconds()
        answer, latencies, took = probed(server, "POST", "/clock/advance", {"seconds": 1})
        cpu = server.cpu_seconds() - cpu
        report(f"advance over {answer['ran']:,} attempts ({took:.2f} s)", latencies)
        print(f"  server CPU during that advance: {cpu / max(answer['ran'], 1) * 1e6:.0f} us an attempt "
              f"(simulated retries, WAL file; health probes included; issue 14 wants ~25-35)")
    with Serve(f"{directory}/settle.db") as server:
        server.add_rules()
        ingest_bulk(server, events)
        answer, latencies, took = probed(server, "POST", "/settle")
        report(f"settle right after ingest: {answer['ran']:,} attempts ({took:.2f} s)", latencies)


def ingest_bulk(server: Serve, events: int) -> None:
    load(server, connections=2, method="POST", path="/api/v1/events/bulk", headers=ingest_headers(server),
         body="bulk", batch=100, requests=max(1, events // 100), warmup=0)


def wait_until(server: Serve, done: Any, limit: float = 600) -> None:
    deadline = time.perf_counter() + limit
    while not done(server.admin("GET", "/idle")):
        if time.perf_counter() > deadline:
            raise SystemExit("the queue did not settle")
        time.sleep(0.02)


def report(what: str, latencies: list[float]) -> None:
    if not latencies:
        line(f"health during {what}", "no probe answered", "p99 <= 50 ms", False)
        return
    p99 = percentile(latencies, 0.99)
    line(f"health during {what}", f"p99 {p99:.1f} ms, max {max(latencies):.1f}, n={len(latencies)}",
         "p99 <= 50 ms", p99 <= 50)


# -- memory -------------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def memory(args: argparse.Namespace, directory: str) -> None:
    with Serve(f"{directory}/memory.db") as server:
        server.add_rules()
        ingest_bulk(server, 2000)  # warm every path once
        wait_until_done(server)
        before = rss_mib(server.pid)
        ingest_bulk(server, args.memory // 3)
        wait_until_done(server, limit=1800)
        after = rss_mib(server.pid)
        line(f"RSS after {args.memory:,} attempts drained", f"{before:.0f} -> {after:.0f} MiB "
             f"(+{after - before:.0f})", "<= +20 MiB", after - before <= 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="sustained,webhooks,isolation,drain")
    parser.add_argument("--duration", type=float, default=4.0, help="single-ingest round, seconds")
    parser.add_argument("--events", type=int, default=20_000, help="sustained: events")
    parser.add_argument("--webhooks", type=int, default=10_000, help="webhooks to /fast (/slow: half)")
    parser.add_argument("--drain", type=int, default=20_000, help="attempts in a drain")
    parser.add_argument("--memory", type=int, default=300_000, help="attempts for the memory figure")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    header("delivery engine (issue 14)", **{k: v for k, v in vars(args).items() if k != "only"})
    print(json.dumps({"parts": sorted(parts)}))
    with tempfile.TemporaryDirectory() as directory, ReceiverProcess() as receiver:
        if "sustained" in parts:
            sustained(args, directory)
        if "webhooks" in parts:
            webhooks(args, directory, receiver)
        if "isolation" in parts:
            isolation(args, directory, receiver)
        if "drain" in parts:
            drains(args, directory)
        if "memory" in parts:
            memory(args, directory)


if __name__ == "__main__":
    main()
