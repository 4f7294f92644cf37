#!/usr/bin/env python3
"""Crash and load: concurrent clients ingest while `meshes-emulator serve` is SIGKILLed and restarted.

    .venv/bin/python scripts/crash_load.py [--kills 8] [--clients 4] [--seed 1] [--json]

One database file survives every life of the server. Clients post single events and bulks (with a
publishable key and with machine JWTs); deliveries go to webhook receivers on 127.0.0.1 (one
answers 200, one fails every time, one fails every other request) and to a simulated HubSpot
connection with a delivery fault plan (when the fault admin API exists). The controller kills the
server at points decided by the seed: after a number of acknowledged events, sometimes while a
webhook delivery is in flight. After the last life the queue is settled and the database is read
directly. Checks:

* every acknowledged event is stored exactly once (client markers in the payloads), a bulk that
  got no answer is stored whole or not at all, an unanswered single event at most once;
* every event is terminal and its counters add up from its rule_events; each rule_event's
  attempt_count equals its attempt rows, numbered 1..n, all finished; no attempt recorded twice
  and no delivery recorded twice for one attempt;
* no client ever got a 5xx or a body mentioning the database ("database is locked");
* PRAGMA integrity_check is ok; the server's stderr has no traceback.

Exit status 0 when every check holds; the figures are printed (one JSON line with --json).
Only 127.0.0.1 is contacted; every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt

ENV_KEYS = ("MESHES_ORG_ID", "MESHES_ORGANIZATION_ID", "MESHES_ACCESS_KEY", "MESHES_SECRET_KEY",
            "MESHES_EMULATOR_ADMIN_TOKEN")
EVENT = "load.test"
RISKY = "risky"
TERMINAL = {"completed", "failed", "canceled"}
WAIT = 60.0  # seconds: the bound on any single wait


# -- webhook receivers ---------------------------------------------------------------------


class Receivers:
    """/ok answers 200, /down 503, /flaky alternates 500 and 200; counts what arrives."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path = self.path.split("?")[0]
                with receivers.lock:
                    receivers.count[path] += 1
                    seen = receivers.count[path]
                receivers.arrived.set()
                status = {"/ok": 200, "/down": 503}.get(path, 500 if seen % 2 else 200)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # the emulator was killed mid-request: expected here

        self.server = Quiet(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the server's lives --------------------------------------------------------------------


class Server:
    """One `serve` subprocess at a time on the same database; the current URL for the clients."""

    def __init__(self, db: Path, log: Path, retry_delays: str) -> None:
        self.db, self.log, self.retry_delays = db, log, retry_delays
        self.process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}
        self.live = threading.Event()  # set while a server answers
        self.lives = 0

    def start(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
        command = [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--json",
                   "--db", str(self.db), "--retry-delays", self.retry_delays]
        with self.log.open("a") as log:
            log.write(f"--- life {self.lives + 1}\n")
            log.flush()
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env,
                                            stderr=log)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"serve did not start (see {self.log})")
        self.info = json.loads(line)
        self.lives += 1
        self.live.set()
        return self.info

    def kill(self) -> None:
        self.live.clear()
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT)
        if self.process.stdout:
            self.process.stdout.close()

    def stop(self) -> None:
        self.live.clear()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=WAIT)
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()

    def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        with httpx.Client(base_url=self.info["base_url"], timeout=WAIT, trust_env=False) as client:
            return client.request(method, "/_emulator" + path, json=body)


# -- clients -------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients know: acknowledged markers, unanswered ones, anything wrong."""

    acked: dict[str, str] = field(default_factory=dict)  # marker -> event id
    maybe_single: set[str] = field(default_factory=set)
    maybe_bulks: list[list[str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    progress: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_acks(self, target: int) -> bool:
        """Block until `target` events are acknowledged (or a problem shows); bounded."""
        with self.progress:
            return self.progress.wait_for(
                lambda: len(self.acked) >= target or bool(self.problems), WAIT)


class Client(threading.Thread):
    """Ingests until told to stop; waits for the next life when the server goes away."""

    def __init__(self, index: int, server: Server, ledger: Ledger, stop: threading.Event,
                 seed: int) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.server, self.ledger, self.stop = index, server, ledger, stop
        self.rng = random.Random(f"crash-load:{seed}:{index}")
        self.n = 0

    def _marker(self) -> str:
        self.n += 1
        return f"c{self.index}-{self.n}"

    def _event(self, marker: str, workspace: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"event": EVENT, "payload": {"marker": marker,
                                                            "email": f"{marker}@example.com"}}
        if self.rng.random() < 0.25:
            body["resource"] = RISKY  # also routed to the receiver that always fails
        if workspace:
            body["workspace"] = workspace
        return body

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.server.live.wait(WAIT):
                self.ledger.problems.append(f"{self.name}: no server for {WAIT} s")
                return
            info = self.server.info
            try:
                self._one_request(info)
            except httpx.HTTPError:
                continue  # killed mid-request: the markers were recorded as unanswered

    def _one_request(self, info: dict[str, Any]) -> None:
        machine = self.rng.random() < 0.3
        workspace = info["workspaces"][0]["id"] if machine else None
        headers = ({"Authorization": "Bearer " + _token(info)} if machine else
                   {"X-Meshes-Publishable-Key": info["workspaces"][0]["publishable_key"]})
        bulk = self.rng.random() < 0.35
        markers = [self._marker() for _ in range(self.rng.randint(2, 12) if bulk else 1)]
        events = [self._event(m, workspace) for m in markers]
        with self.ledger.lock:
            if bulk:
                self.ledger.maybe_bulks.append(markers)
            else:
                self.ledger.maybe_single.add(markers[0])
            self.ledger.requests += 1
        url = info["api_url"] + ("/events/bulk" if bulk else "/events")
        response = httpx.post(url, json=events if bulk else events[0], headers=headers,
                              timeout=WAIT, trust_env=False)
        self._record(response, markers, bulk)

    def _record(self, response: httpx.Response, markers: list[str], bulk: bool) -> None:
        text = response.text
        with self.ledger.lock:
            if response.status_code >= 500 or "database" in text.lower():
                self.ledger.problems.append(f"{self.name}: {response.status_code} {text[:300]}")
            if response.status_code not in (201, 207):
                self.ledger.refused[response.status_code] += 1
                return
            body = response.json()
            records = body["records"] if bulk else [body["event"]]
            for marker, record in zip(markers, records, strict=True):
                if "id" in record:
                    self.ledger.acked[marker] = record["id"]
                else:
                    self.ledger.problems.append(f"{self.name}: bulk item refused: {record}")
            if bulk:
                self.ledger.maybe_bulks.remove(markers)
            else:
                self.ledger.maybe_single.discard(markers[0])
        with self.ledger.progress:
            self.ledger.progress.notify_all()


def _token(info: dict[str, Any]) -> str:
    now = int(time.time())
    claims = {"iss": f"urn:meshes:m2m:{info['access_key']}", "aud": "meshes-api",
              "org": info["org_id"], "iat": now, "exp": now + 30}
    return jwt.encode(claims, info["secret_key"], algorithm="HS256",
                      headers={"kid": info["access_key"]})


# -- set-up, settle, verify ----------------------------------------------------------------


def set_up(server: Server, receivers: Receivers) -> list[str]:
    """Connections and rules (and a fault plan when the emulator has one); returns notes."""
    info = server.info
    workspace = info["workspaces"][0]["id"]
    notes = []
    headers = {"Authorization": "Bearer " + _token(info)}
    with httpx.Client(base_url=info["api_url"], timeout=WAIT, trust_env=False) as api:
        targets: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
            (path.strip("/"), {"type": "webhook", "metadata": {"url": receivers.url + path}},
             {"action": "send_webhook"}, {"resource": RISKY} if path == "/down" else {})
            for path in ("/ok", "/down", "/flaky")]
        targets.append(("crm", {"type": "hubspot",
                                "metadata": {"access_token": "hs-load", "portal_id": "1"}},
                        {"action": "add_to_list", "id": "42"}, {}))
        for name, connection, metadata, match in targets:
            headers["Authorization"] = "Bearer " + _token(info)
            created = api.post("/connections", headers=headers,
                               json={"workspace": workspace, "name": name, **connection})
            created.raise_for_status()
            connection_id = created.json()["connection"]["id"]
            headers["Authorization"] = "Bearer " + _token(info)
            api.post("/rules", headers=headers, json={
                "workspace": workspace, "connection": connection_id, "event": EVENT,
                "metadata": metadata, **match}).raise_for_status()
            if name == "crm":
                fault = server.admin("POST", "/faults", {
                    "kind": "delivery", "match": {"connection": connection_id},
                    "outcome": "rejected_server_error", "probability": 0.3})
                notes.append("delivery fault plan: 30% rejected_server_error on HubSpot"
                             if fault.status_code == 201 else
                             f"no fault plan (POST /_emulator/faults -> {fault.status_code})")
    return notes


def settle(server: Server) -> dict[str, Any]:
    """Drain the queue (retry delays are 0, so everything left is due now); bounded."""
    summary: dict[str, Any] = {}
    for _ in range(50):
        summary = server.admin("POST", "/settle").json()
        if summary.get("idle") and not summary.get("scheduled"):
            return summary
    raise RuntimeError(f"the queue did not settle: {summary}")


def verify(db: Path, ledger: Ledger) -> dict[str, Any]:
    """Read the database directly; returns figures and the list of broken promises."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    problems: list[str] = []
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    events = conn.execute("SELECT * FROM events WHERE event = ?", [EVENT]).fetchall()
    by_marker: dict[str, list[sqlite3.Row]] = {}
    for row in events:
        by_marker.setdefault(json.loads(row["payload"])["marker"], []).append(row)
    for marker, event_id in ledger.acked.items():
        rows = by_marker.get(marker, [])
        if len(rows) != 1 or rows[0]["id"] != event_id:
            problems.append(f"acknowledged {marker} ({event_id}) stored {len(rows)} times")
    for marker in ledger.maybe_single:
        if len(by_marker.get(marker, [])) > 1:
            problems.append(f"unanswered single {marker} stored twice")
    for markers in ledger.maybe_bulks:
        stored = [len(by_marker.get(m, [])) for m in markers]
        if set(stored) not in ({0}, {1}):
            problems.append(f"unanswered bulk stored partly: {dict(zip(markers, stored, strict=True))}")
    extra = set(by_marker) - set(ledger.acked) - ledger.maybe_single - {
        m for b in ledger.maybe_bulks for m in b}
    if extra:
        problems.append(f"{len(extra)} events nobody sent, e.g. {sorted(extra)[:3]}")
    rule_events = conn.execute("SELECT * FROM rule_events").fetchall()
    attempts = conn.execute("SELECT * FROM attempts").fetchall()
    by_event: dict[str, list[sqlite3.Row]] = {}
    for rule_event in rule_events:
        by_event.setdefault(rule_event["event_id"], []).append(rule_event)
    by_rule_event: dict[str, list[sqlite3.Row]] = {}
    for attempt in attempts:
        by_rule_event.setdefault(attempt["rule_event_id"], []).append(attempt)
    rules = conn.execute("SELECT resource FROM rules WHERE event = ?", [EVENT]).fetchall()
    for event in events:
        matching = sum(1 for r in rules if r["resource"] in (None, event["resource"]))
        problems += _event_problems(event, by_event.get(event["id"], []), matching)
    for rule_event in rule_events:
        problems += _rule_event_problems(rule_event, by_rule_event.get(rule_event["id"], []))
    twice = conn.execute("SELECT rule_event_id, attempt_number, COUNT(*) AS n FROM attempts "
                         "GROUP BY 1, 2 HAVING n > 1").fetchall()
    problems += [f"attempt recorded twice: {tuple(r)}" for r in twice]
    sink_twice = conn.execute("SELECT attempt_id, COUNT(*) AS n FROM deliveries "
                              "GROUP BY 1 HAVING n > 1").fetchall()
    problems += [f"delivery recorded twice for attempt {r['attempt_id']}" for r in sink_twice]
    interrupted = sum(1 for a in attempts if (a["message"] or "").startswith("Attempt interrupted"))
    statuses = Counter(e["status"] for e in events)
    conn.close()
    return {"events_checked": len(events), "rule_events_checked": len(rule_events),
            "attempts_checked": len(attempts), "interrupted_attempts_recovered": interrupted,
            "event_statuses": dict(statuses), "problems": problems}


def _event_problems(event: sqlite3.Row, rule_events: list[sqlite3.Row], rules: int) -> list[str]:
    statuses = Counter(r["status"] for r in rule_events)
    found = []
    if event["status"] not in TERMINAL:
        found.append(f"event {event['id']} not terminal: {event['status']}")
    expected = (len(rule_events), statuses["completed"], statuses["failed"])
    actual = (event["total_rules"], event["completed_count"], event["failed_count"])
    if expected != actual:
        found.append(f"event {event['id']} counters {actual} != rule_events {expected}")
    if len(rule_events) != rules:
        found.append(f"event {event['id']} fanned out to {len(rule_events)} of {rules} rules")
    if sum(statuses[s] for s in TERMINAL) != len(rule_events):
        found.append(f"event {event['id']} has open rule_events: {dict(statuses)}")
    return found


def _rule_event_problems(rule_event: sqlite3.Row, attempts: list[sqlite3.Row]) -> list[str]:
    found = []
    numbers = sorted(a["attempt_number"] for a in attempts)
    if numbers != list(range(1, rule_event["attempt_count"] + 1)):
        found.append(f"rule_event {rule_event['id']} attempt_count {rule_event['attempt_count']}"
                     f" but attempts {numbers}")
    if any(a["completed_at"] is None for a in attempts):
        found.append(f"rule_event {rule_event['id']} has an unfinished attempt")
    if rule_event["due_at"] is not None:
        found.append(f"rule_event {rule_event['id']} still scheduled at {rule_event['due_at']}")
    last = max(attempts, key=lambda a: a["attempt_number"], default=None)
    if rule_event["status"] == "completed" and (last is None or last["outcome_code"] != "delivered"):
        found.append(f"rule_event {rule_event['id']} completed without a delivered attempt")
    return found


# -- the run -------------------------------------------------------------------------------


@dataclass
class Config:
    kills: int = 8
    clients: int = 4
    seed: int = 1
    min_acks: int = 20  # acknowledged events per life before the kill, at least ...
    max_acks: int = 60  # ... and at most
    workdir: str | None = None


@dataclass
class Summary:
    kills_survived: int = 0
    lives: int = 0
    clients: int = 0
    requests: int = 0
    events_acknowledged: int = 0
    unanswered_singles: int = 0
    unanswered_bulks: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    webhook_requests: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def run(config: Config) -> Summary:
    started = time.monotonic()
    workdir = Path(config.workdir or tempfile.mkdtemp(prefix="meshes-crash-"))
    db, log = workdir / "crash.db", workdir / "server.log"
    rng = random.Random(f"crash-load:{config.seed}")
    receivers = Receivers()
    server = Server(db, log, retry_delays="0,0")
    ledger = Ledger()
    stop = threading.Event()
    summary = Summary(clients=config.clients)
    clients: list[Client] = []
    try:
        server.start()
        summary.notes += set_up(server, receivers)
        clients = [Client(i, server, ledger, stop, config.seed) for i in range(config.clients)]
        for client in clients:
            client.start()
        for life in range(config.kills):
            target = len(ledger.acked) + rng.randint(config.min_acks, config.max_acks)
            if not ledger.wait_for_acks(target):
                ledger.problems.append(f"life {life + 1}: clients made no progress")
            if life % 2:  # every other kill lands while a webhook delivery is in flight
                receivers.arrived.clear()
                receivers.arrived.wait(WAIT)
            server.kill()
            summary.kills_survived += 1
            server.start()
        stop.set()
        for client in clients:
            client.join(WAIT)
        summary.checks["settle"] = settle(server)
    finally:
        stop.set()
        server.stop()
        receivers.close()
    summary.lives = server.lives
    checks = verify(db, ledger)
    summary.problems = ledger.problems + checks.pop("problems")
    stderr = log.read_text(errors="replace")
    if "Traceback" in stderr or "database is locked" in stderr:
        summary.problems.append(f"server stderr has errors (see {log})")
    summary.checks.update(checks)
    summary.requests = ledger.requests
    summary.events_acknowledged = len(ledger.acked)
    summary.unanswered_singles = len(ledger.maybe_single)
    summary.unanswered_bulks = len(ledger.maybe_bulks)
    summary.refused = {str(k): v for k, v in ledger.refused.items()}
    summary.webhook_requests = dict(receivers.count)
    summary.seconds = round(time.monotonic() - started, 2)
    summary.notes.append(f"database and server log in {workdir}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=Config.kills)
    parser.add_argument("--clients", type=int, default=Config.clients)
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--min-acks", type=int, default=Config.min_acks)
    parser.add_argument("--max-acks", type=int, default=Config.max_acks)
    parser.add_argument("--workdir", default=None, help="where the database and log go")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    args = parser.parse_args(argv)
    summary = run(Config(kills=args.kills, clients=args.clients, seed=args.seed,
                         min_acks=args.min_acks, max_acks=args.max_acks, workdir=args.workdir))
    data = {**asdict(summary), "ok": summary.ok}
    if args.json:
        print(json.dumps(data))
    else:
        for key, value in data.items():
            print(f"{key:>24}: {value}")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
