"""Ingest to completed: from the 201 of POST /api/v1/events to the event's terminal status.

    .venv/bin/python benchmarks/completed.py [--samples 300] [--db file|memory|both]

Same server set-up as ingest.py (three matching simulated rules: Slack, HubSpot, Mailchimp; system
clock; background deliveries). One event at a time over a keep-alive connection: POST it, then
poll GET /api/v1/events/{id} until its status is terminal. Printed: the client-side time from the
201 to the first poll that shows `completed`, the server's own `completed_at - created_at`
(millisecond timestamps), and the trivial endpoint's round trip on the same connection as the
baseline. Target: p50 at most 5 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import EVENT, Serve, header, median, percentile, summary

TERMINAL = {"completed", "failed", "canceled"}


class Client:
    """A minimal keep-alive HTTP/1.1 client (http.client), so the client adds little time."""

    def __init__(self, server: Serve) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.token = server.token()
        self.minted = time.monotonic()

    def request(self, method: str, path: str, body: Any = None, ingest: bool = False) -> Any:
        headers = {"Content-Type": "application/json"}
        if ingest:
            headers["X-Meshes-Publishable-Key"] = self.server.key
        elif path.startswith("/api/"):
            if time.monotonic() - self.minted > 20:
                self.token, self.minted = self.server.token(), time.monotonic()
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path} -> {response.status}: {payload[:200]!r}")
        return json.loads(payload)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(kind: str, args: argparse.Namespace, directory: str) -> None:
    db = f"{directory}/completed.db" if kind == "file" else ":memory:"
    rtt: list[float] = []
    client_ms: list[float] = []
    server_ms: list[float] = []
    polls: list[int] = []
    with Serve(db) as server:
        server.add_rules()
        client = Client(server)
        for n in range(args.samples + 20):
            began = time.perf_counter()
            client.request("GET", "/_emulator/health")
            trivial = (time.perf_counter() - began) * 1000
            created = client.request("POST", "/api/v1/events", ingest=True, body={
                "event": EVENT, "payload": {"email": f"user{n}@example.com", "first_name": "Ada"}})
            answered = time.perf_counter()
            event_id = created["event"]["id"]
            count = 0
            while True:
                count += 1
                body = client.request("GET", f"/api/v1/events/{event_id}")
                if body["status"] in TERMINAL:
                    break
            done = time.perf_counter()
            if body["status"] != "completed":
                raise SystemExit(f"event ended {body['status']}: {body}")
            if n < 20:  # warm-up
                continue
            rtt.append(trivial)
            client_ms.append((done - answered) * 1000)
            server_ms.append((parse(body["completed_at"]) - parse(body["created_at"])).total_seconds()
                             * 1000)
            polls.append(count)
            time.sleep(args.gap / 1000)
    print(f"-- {kind} database")
    print(summary("trivial round trip (GET /_emulator/health)", rtt))
    print(summary("201 -> completed (client, polling)", client_ms))
    print(f"    p99 {percentile(client_ms, 0.99):.3f} ms, polls per event median {median(polls):.0f}"
          f", ratio to the trivial round trip {median(client_ms) / median(rtt):.1f}   target p50 <= 5 ms")
    print(summary("created_at -> completed_at (server clock, ms)", server_ms))
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--gap", type=float, default=2.0, help="ms between events")
    parser.add_argument("--db", choices=["file", "memory", "both"], default="both")
    args = parser.parse_args()
    header("ingest to completed: one event at a time, 3 matching simulated rules",
           samples=args.samples)
    with tempfile.TemporaryDirectory() as directory:
        for kind in (["file", "memory"] if args.db == "both" else [args.db]):
            run(kind, args, directory)


if __name__ == "__main__":
    main()
