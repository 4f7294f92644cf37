"""A `serve` killed with webhooks in flight, restarted on the same file: what the log says."""

from __future__ import annotations

import http.server
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import machine_client, start_serve

INTERRUPTED = "Attempt interrupted"


@contextmanager
def held_receiver() -> Iterator[tuple[int, threading.Event, threading.Event]]:
    """A webhook receiver that holds every request until `release` is set; `arrived` is set by
    the first request. Yields (port, arrived, release)."""
    arrived, release = threading.Event(), threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            arrived.set()
            release.wait(60)
            try:
                self.send_response(200)
                self.end_headers()
            except OSError:
                pass  # the emulator was killed meanwhile

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, arrived, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def webhook_in_flight(info: dict[str, Any], port: int, arrived: threading.Event) -> str:
    """A webhook connection and rule to the receiver on `port`, one event sent; returns its id
    once its attempt is in flight."""
    workspace = info["workspaces"][0]["id"]
    with machine_client(info) as api:
        connection = api.post("/connections", json={
            "workspace": workspace, "type": "webhook", "name": "held",
            "metadata": {"url": f"http://127.0.0.1:{port}/hook"}}).json()["connection"]
        assert api.post("/rules", json={
            "workspace": workspace, "connection": connection["id"],
            "event": "user.signup", "metadata": {"action": "send_webhook"}}).status_code == 201
    key = info["workspaces"][0]["publishable_key"]
    event: str = httpx.post(info["api_url"] + "/events", json={
        "event": "user.signup", "payload": {"name": "Zoë"}},
        headers={"X-Meshes-Publishable-Key": key}).json()["event"]["id"]
    assert arrived.wait(60)  # the attempt is in flight
    return event


def wait_idle(info: dict[str, Any]) -> None:
    """Until nothing is due, in flight or scheduled (deadline 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        idle = httpx.get(info["base_url"] + "/_emulator/idle").json()
        if idle["idle"] and not idle["scheduled"]:
            return
        assert time.monotonic() < deadline, idle


def attempts(info: dict[str, Any], event: str) -> list[tuple[int, str, str]]:
    """(number, outcome, message) of the event's attempts, from the export."""
    document = httpx.get(info["base_url"] + "/_emulator/export", params={"format": "json"}).json()
    found = [(a["attempt_number"], a["outcome_code"], a["message"] or "")
             for w in document["organizations"][0]["workspaces"] for e in w.get("events", [])
             if e["id"] == event for r in e["rule_events"] for a in r["attempts"]]
    return sorted(found)


def stop_with_sigint(process: Any) -> None:
    """Ctrl-C: the emulator stops cleanly (exit 0)."""
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    process.communicate(timeout=30)


def test_attempts_in_flight_at_a_kill_are_recovered_once_and_logged(tmp_path: Path) -> None:
    db = str(tmp_path / "crash.db")
    with held_receiver() as (port, arrived, release):
        process, info = start_serve("--db", db, "--retry-delays", "0,0")
        try:
            event = webhook_in_flight(info, port, arrived)
        finally:
            process.kill()
            process.communicate(timeout=30)
        release.set()
        restarted, info = start_serve("--db", db, "--retry-delays", "0,0")
        try:
            assert restarted.stderr is not None
            first = restarted.stderr.readline()  # logged before the server starts
            assert "WARNING 1 delivery attempt(s) were cut off" in first, first
            wait_idle(info)  # the retry runs at once (delays 0,0)
        finally:
            stop_with_sigint(restarted)
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT attempt_number, outcome_code, message FROM attempts "
                            "WHERE event_id = ? ORDER BY attempt_number", [event]).fetchall()
    finally:
        conn.close()
    assert [(n, code) for n, code, _ in rows] == [(1, "internal_error"), (2, "delivered")]
    assert rows[0][2].startswith(INTERRUPTED)


def test_sigterm_with_a_webhook_in_flight_exports_and_the_import_retries_it(
        tmp_path: Path) -> None:
    state = tmp_path / "state.yaml"
    with held_receiver() as (port, arrived, release):
        process, info = start_serve("--db", str(tmp_path / "term.db"), "--export-on-exit",
                                    str(state), "--export-with-secrets")
        try:
            event = webhook_in_flight(info, port, arrived)
            process.send_signal(signal.SIGTERM)  # docker stop, systemd, a CI runner
            assert process.wait(timeout=30) == 0  # a clean stop, not death by SIGTERM
            _, errors = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        last = errors.strip().splitlines()[-1]
        assert "stopped (SIGTERM); 1 delivery attempt(s) in flight were cut off" in last, last
        assert f"state exported to {state}" in last
        assert not Path(f"{tmp_path / 'term.db'}-wal").exists()  # the store was closed
        release.set()
        imported, info = start_serve("--db", ":memory:", "--import", str(state),
                                     "--retry-delays", "0,0")
        try:
            wait_idle(info)
            found = attempts(info, event)
        finally:
            stop_with_sigint(imported)
    assert [(n, code) for n, code, _ in found] == [(1, "internal_error"), (2, "delivered")]
    assert found[0][2].startswith(INTERRUPTED)


def test_a_snapshot_taken_with_a_webhook_in_flight_restores_to_a_retry(tmp_path: Path) -> None:
    with held_receiver() as (port, arrived, release):
        process, info = start_serve("--db", ":memory:", "--retry-delays", "0,0")
        try:
            event = webhook_in_flight(info, port, arrived)
            admin = info["base_url"] + "/_emulator/snapshots"
            assert httpx.post(admin, json={"name": "mid-flight"}).status_code in (200, 201)
            release.set()
            wait_idle(info)
            assert [n for n, _, _ in attempts(info, event)] == [1]
            assert httpx.post(f"{admin}/mid-flight/restore").status_code == 200
            wait_idle(info)  # was: idle at once, the rule_event stuck in 'processing'
            found = attempts(info, event)
        finally:
            stop_with_sigint(process)
    assert [(n, code) for n, code, _ in found] == [(1, "internal_error"), (2, "delivered")]
