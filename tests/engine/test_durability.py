"""Durability: `serve` killed with SIGKILL while clients ingest loses no acknowledged event, and
unfinished deliveries resume after a restart on the same database. Also `--retry-delays`.

Real subprocesses on port 0, a real webhook receiver on 127.0.0.1; no sleeps (waits are on
events or on the emulator's own settle endpoint).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import machine_client, serve_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def serve(db: Path, *args: str) -> AbstractContextManager[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """Run `meshes-emulator serve` on port 0 with `db`; yield the process and its start-up block."""
    return serve_process("--db", str(db), *args)


def machine(info: dict[str, Any]) -> httpx.Client:
    return machine_client(info, timeout=30, trust_env=False)


def admin(info: dict[str, Any], method: str, path: str) -> Any:
    with httpx.Client(base_url=info["base_url"], timeout=60, trust_env=False) as client:
        response = client.request(method, "/_emulator" + path)
        response.raise_for_status()
        return response.json()


def setup_rules(info: dict[str, Any], hook_url: str) -> None:
    workspace = info["workspaces"][0]["id"]
    with machine(info) as api:
        hook = api.post(
            "/connections",
            json={
                "workspace": workspace,
                "type": "webhook",
                "name": "receiver",
                "metadata": {"url": hook_url},
            },
        )
        slack = api.post(
            "/connections", json={"workspace": workspace, "type": "slack", "name": "chat", "metadata": {}}
        )
        assert hook.status_code == slack.status_code == 201, (hook.text, slack.text)
        for connection, metadata in (
            (hook.json()["connection"]["id"], {"action": "send_webhook"}),
            (slack.json()["connection"]["id"], {"action": "send_message", "id": "C1", "template": "n={{n}}"}),
        ):
            rule = api.post(
                "/rules",
                json={
                    "workspace": workspace,
                    "connection": connection,
                    "event": "load.test",
                    "metadata": metadata,
                },
            )
            assert rule.status_code == 201, rule.text


class Ingester(threading.Thread):
    """Posts events until the server goes away; remembers every acknowledged event id."""

    def __init__(self, url: str, key: str, start: int, acked: list[str], enough: threading.Event):
        super().__init__(daemon=True)
        self.url, self.key, self.n = url, key, start
        self.acked, self.enough = acked, enough

    def run(self) -> None:
        headers = {"X-Meshes-Publishable-Key": self.key}
        with httpx.Client(base_url=self.url, headers=headers, timeout=10, trust_env=False) as client:
            while True:
                body = {"event": "load.test", "payload": {"n": self.n}}
                try:
                    response = client.post("/events", json=body)
                except httpx.HTTPError:
                    return  # the server was killed
                if response.status_code == 201:
                    self.acked.append(response.json()["event"]["id"])
                    if len(self.acked) >= 40:
                        self.enough.set()
                self.n += 1


def test_sigkill_while_ingesting_loses_nothing_and_deliveries_resume(tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    release = threading.Event()
    acked: list[str] = []
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(200, block=release)  # deliveries stay unfinished
        with serve(db, "--retry-delays", "0,0,0") as (process, info):
            setup_rules(info, receiver.url + "/hook")
            key = info["workspaces"][0]["publishable_key"]
            enough = threading.Event()
            clients = [Ingester(info["api_url"], key, 1000 * i, acked, enough) for i in range(3)]
            for client in clients:
                client.start()
            assert enough.wait(60), "clients could not ingest"
            assert receiver.arrived.wait(30)  # a webhook delivery is in flight right now
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            for client in clients:
                client.join(timeout=30)
        assert len(acked) >= 40
        release.set()

        with serve(db, "--retry-delays", "0,0,0") as (_, info):
            summary = admin(info, "POST", "/settle")
            assert summary["idle"] is True and summary["scheduled"] == 0, summary
            with machine(info) as api:
                for event_id in acked:
                    response = api.get(f"/events/{event_id}")
                    assert response.status_code == 200, event_id
                    event = response.json()
                    assert event["status"] == "completed", event
                    assert (event["total_rules"], event["completed_count"]) == (2, 2), event
                listed = api.get("/events?limit=200")
                assert listed.status_code == 200, listed.text
                stored = listed.json()["count"]
            assert stored >= len(acked)
            delivered = {json.loads(r.body)["uuid"] for r in receiver.on("/hook")}
            assert set(acked) <= delivered
            interrupted = admin(info, "GET", "/deliveries?integration_type=slack&limit=1000")
            assert {d["event_id"] for d in interrupted["records"]} >= set(acked)


def route_and_emit(api: httpx.Client, workspace: str, url: str) -> dict[str, Any]:
    """A webhook connection on `url`, a rule sending event `x` to it, and one such event."""
    hook = api.post("/connections", json={"workspace": workspace, "type": "webhook", "name": "down",
                                          "metadata": {"url": url}})
    api.post("/rules", json={"workspace": workspace, "event": "x",
                             "connection": hook.json()["connection"]["id"],
                             "metadata": {"action": "send_webhook"}})
    created: dict[str, Any] = api.post(
        "/events", json={"workspace": workspace, "event": "x", "payload": {"n": 1}}).json()["event"]
    return created


def test_retry_delays_option_fails_a_delivery_quickly(tmp_path: Path) -> None:
    with Receiver() as receiver:
        receiver.replies["/down"] = Reply(503)
        with serve(tmp_path / "retry.db", "--retry-delays", "0,0") as (_, info):
            workspace = info["workspaces"][0]["id"]
            with machine(info) as api:
                created = route_and_emit(api, workspace, receiver.url + "/down")
                admin(info, "POST", "/settle")
                event = api.get(f"/events/{created['id']}").json()
        (state,) = event["rule_events"]
        assert state["status"] == "failed" and state["attempt_count"] == 3
        assert len(receiver.on("/down")) == 3


def test_background_worker_retries_on_the_system_clock(tmp_path: Path) -> None:
    """No settle: the worker wakes when each retry falls due and the delivery ends failed."""
    with Receiver() as receiver:
        receiver.replies["/down"] = Reply(500)
        with serve(tmp_path / "worker.db", "--retry-delays", "0.1,0.2") as (_, info):
            workspace = info["workspaces"][0]["id"]
            with machine(info) as api:
                created = route_and_emit(api, workspace, receiver.url + "/down")
                assert receiver.wait_for("/down", 3)
                admin(info, "POST", "/settle")  # waits for the third attempt to be recorded
                event = api.get(f"/events/{created['id']}").json()
    assert event["status"] == "failed"
    (state,) = event["rule_events"]
    assert state["attempt_count"] == 3 and state["last_error"].startswith("rejected_server_error")
    times = [json.loads(r.body)["time_sent"] for r in receiver.on("/down")]
    assert times[1] - times[0] >= 100 and times[2] - times[1] >= 200


def test_bad_retry_delays_is_refused() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "meshes_emulator",
            "serve",
            "--port",
            "0",
            "--db",
            ":memory:",
            "--retry-delays",
            "soon",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--retry-delays" in result.stderr and "bad retry delay" in result.stderr


def test_a_restarted_emulator_keeps_issuing_new_ids(tmp_path: Path) -> None:
    """Same seed, same database, several starts: ids never repeat, ingestion keeps working."""
    from meshes_emulator import Settings, create_app
    from meshes_emulator.defaults import DEFAULT_PUBLISHABLE_KEY
    from tests.engine.aio import run_async

    db = str(tmp_path / "restart.db")
    seen: list[str] = []

    async def ingest(app: Any) -> None:
        transport = httpx.ASGITransport(app=app)
        headers = {"X-Meshes-Publishable-Key": DEFAULT_PUBLISHABLE_KEY}
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", headers=headers) as c:
            for n in range(5):
                response = await c.post("/api/v1/events", json={"event": "a", "payload": {"n": n}})
                assert response.status_code == 201, response.text
                seen.append(response.json()["event"]["id"])

    for _ in range(3):
        app = create_app(Settings(db_path=db, background_dispatcher=False))
        run_async(ingest(app))
        app.state.emulator.store.close()
    assert len(set(seen)) == 15


def test_sigkill_with_many_webhooks_in_flight_recovers_each_once(tmp_path: Path) -> None:
    """20 webhook attempts in flight at once when the process dies: each is recorded once as
    interrupted at the next start, then delivered by its retry."""
    db = tmp_path / "inflight.db"
    release = threading.Event()
    with Receiver() as receiver:
        receiver.replies["/hook"] = Reply(200, block=release)
        with serve(db, "--retry-delays", "0,0,0") as (process, info):
            setup_rules(info, receiver.url + "/hook")
            key = info["workspaces"][0]["publishable_key"]
            headers = {"X-Meshes-Publishable-Key": key}
            with httpx.Client(base_url=info["api_url"], headers=headers, timeout=30,
                              trust_env=False) as client:
                for n in range(20):
                    body = {"event": "load.test", "payload": {"n": n}}
                    assert client.post("/events", json=body).status_code == 201
            assert receiver.wait_for("/hook", 20)  # all 20 in flight together
            assert receiver.busy == 20
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        release.set()
        with serve(db, "--retry-delays", "0,0,0") as (_, info):
            summary = admin(info, "POST", "/settle")
            assert summary["idle"] is True and summary["scheduled"] == 0, summary
            with machine(info) as api:
                events = api.get("/events?limit=100").json()["records"]
                assert len(events) == 20 and {e["status"] for e in events} == {"completed"}
                for event in events:
                    rule = next(r for r in api.get(f"/events/{event['id']}").json()["rule_events"]
                                if r["integration_type"] == "webhook")
                    page = api.get(f"/events/{event['id']}/rules/{rule['rule']}/attempts").json()
                    records = page["records"]
                    runs = sorted((a["attempt_number"], a["outcome_code"], a["message"]) for a in records)
                    assert [run[:2] for run in runs] == [(1, "internal_error"), (2, "delivered")], runs
        assert len(receiver.on("/hook")) == 40
