"""A hostile webhook receiver against a real `meshes-emulator serve` (issue 13's threat model):
what its answer may name (a charset whose codec fails, a flood of huge headers) neither stalls
a delivery nor bloats what the emulator records about the attempt.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from meshes_emulator.engine.webhook_client import MAX_HEADER_CHARS, MAX_HEADER_VALUE_CHARS
from pytest_meshes.clients import MachineAuth
from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import start_serve


class Served:
    """One `serve` process (manual clock, in-memory database), its API client and a receiver."""

    def __init__(self, info: dict[str, Any], api: httpx.Client, receiver: Receiver) -> None:
        self.info, self.api, self.receiver = info, api, receiver
        self.workspace = info["workspaces"][0]["id"]

    def deliver(self, name: str, reply: Reply) -> dict[str, Any]:
        """One event to a webhook answered with `reply`; (rule_event, response details) after settle."""
        self.receiver.replies["/" + name] = reply
        hook = self.api.post("/connections", json={
            "workspace": self.workspace, "type": "webhook", "name": name,
            "metadata": {"url": f"{self.receiver.url}/{name}", "auth_scheme": "none"}})
        assert hook.status_code == 201, hook.text
        rule = self.api.post("/rules", json={
            "workspace": self.workspace, "connection": hook.json()["connection"]["id"],
            "event": name, "metadata": {"action": "send_webhook"}})
        assert rule.status_code == 201, rule.text
        event = self.api.post("/events", json={"workspace": self.workspace, "event": name,
                                               "payload": {"a": 1}})
        assert event.status_code == 201, event.text
        settled = httpx.post(self.info["base_url"] + "/_emulator/settle", timeout=30)
        assert settled.status_code == 200, settled.text
        event_id = event.json()["event"]["id"]
        rule_event = self.api.get(f"/events/{event_id}").json()["rule_events"][0]
        attempts = self.api.get(f"/events/{event_id}/rules/{rule_event['rule']}/attempts").json()
        assert attempts["records"], rule_event  # the attempt was recorded
        attempt_id = attempts["records"][0]["id"]
        details = self.api.get(f"/events/{event_id}/rules/{rule_event['rule']}/attempts/"
                               f"{attempt_id}/response-details")
        assert details.status_code == 200, details.text
        return {"rule_event": rule_event, "details": details.json(), "size": len(details.content)}


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    process, info = start_serve("--clock", "manual", "--db", ":memory:",
                                stderr=subprocess.DEVNULL)
    try:
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth, timeout=30) as api, \
                Receiver() as receiver:
            yield Served(info, api, receiver)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None
        process.stdout.close()


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "no-such-charset"])
def test_an_answer_in_a_failing_charset_is_still_recorded(served: Served, charset: str) -> None:
    """`charset=idna` made decoding raise: the attempt was never recorded and its rule_event
    stayed `processing` until a restart (which sent it again)."""
    reply = Reply(status=500, headers={"Content-Type": f"text/plain; charset={charset}"},
                  body=b"broken \xff answer")
    result = served.deliver(f"cs-{charset}", reply)
    assert result["rule_event"]["status"] == "retrying"
    assert "HTTP 500" in result["rule_event"]["last_error"]
    assert result["details"]["http_status"] == 500
    assert result["details"]["body"].startswith("broken ")


def test_a_flood_of_answer_headers_is_recorded_within_a_bound(served: Served) -> None:
    """120 headers of 8,000 characters made each recorded attempt ~1 MB (the body is cut at
    4096 characters); now values are cut and only the first headers fitting a budget are kept."""
    headers = {"Retry-After": "7", **{f"X-Flood-{i}": "v" * 8000 for i in range(120)}}
    result = served.deliver("flood", Reply(status=503, headers=headers, body=b"busy"))
    kept = result["details"]["headers"]
    assert kept["retry-after"] == "7"
    assert kept["x-flood-0"].startswith("v" * MAX_HEADER_VALUE_CHARS)
    assert kept["x-flood-0"].endswith("…[truncated]")
    assert "x-flood-119" not in kept
    assert sum(len(k) + len(v) for k, v in kept.items()) <= MAX_HEADER_CHARS
    assert result["size"] < 2 * MAX_HEADER_CHARS
