"""Same seed, same calls -> identical ids, order, statuses, attempts and timestamps.

The scenario mixes simulated and webhook deliveries, a probability fault, an API fault and
retries, and sends events without waiting for their deliveries (so background attempts
interleave with requests). It runs twice, with a reset to the same seed in between, and the full
dumps of events, rule_events, attempts and deliveries must be equal.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import create_connection, create_rule, webhook_connection
from tests.engine.webhook_receiver import Receiver
from tests.helpers import emulator_of

TABLES = ("events", "rule_events", "attempts", "deliveries")


def scenario(meshes_server: MeshesServer, receiver: Receiver, seed: int) -> dict[str, Any]:
    meshes_server.reset(seed=seed)
    ws = meshes_server.workspace_id or ""
    statuses: list[int] = []
    with meshes_server.client() as api, meshes_server.ingest_client() as ingest:
        hubspot = create_connection(api, ws, "hubspot", name="HubSpot")
        slack = create_connection(api, ws, "slack", name="Slack")
        hook = webhook_connection(api, ws, receiver.url + "/hook", name="Hook")
        create_rule(api, ws, hubspot["id"], action="add_to_list", metadata={"id": "42"})
        create_rule(api, ws, slack["id"], action="send_message", metadata={"id": "C1", "template": "x"})
        create_rule(api, ws, hook["id"])
        meshes_server.fail(status=503, connection=hubspot["id"], first=2)
        meshes_server.fail("timeout", integration_type="slack", probability=0.5)
        meshes_server.fail("network_error", connection="Hook", every=3)
        meshes_server.fail_api(429, method="POST", path="/events", every=4)
        for n in range(12):
            response = ingest.post("/events", json={"event": "user.signup",
                                                    "payload": {"email": f"u{n}@example.com"}})
            statuses.append(response.status_code)
        bulk = [{"event": "user.signup", "payload": {"email": f"b{n}@example.com"}} for n in range(5)]
        statuses.append(ingest.post("/events/bulk", json=bulk).status_code)
        meshes_server.advance(2)
        first = api.get("/events?limit=200").json()["records"][-1]
        rule = api.get(f"/events/{first['id']}").json()["rule_events"][0]["rule"]
        statuses.append(api.post(f"/events/{first['id']}/rules/{rule}/cancel").status_code)
        meshes_server.advance(60)
        statuses.append(api.post(f"/events/{first['id']}/cancel").status_code)
    return {"statuses": statuses, "faults": meshes_server.faults(), **dump(meshes_server)}


def dump(meshes_server: MeshesServer) -> dict[str, Any]:
    store = emulator_of(meshes_server).store
    result: dict[str, Any] = {}
    for table in TABLES:
        rows = store.all(f"SELECT * FROM {table} ORDER BY rowid")
        for row in rows:
            if table == "attempts" and row["response"]:  # the receiver's own Date header is real time
                response = orjson.loads(row["response"])
                headers = response.get("headers") or {}
                response["headers"] = {k: v for k, v in headers.items() if k.lower() != "date"}
                row["response"] = response
        result[table] = rows
    return result


def test_same_seed_same_everything(meshes_server: MeshesServer, receiver: Receiver) -> None:
    if meshes_server.emulator is None:
        pytest.skip("compares database dumps of the in-process emulator")
    first = scenario(meshes_server, receiver, seed=1234)
    second = scenario(meshes_server, receiver, seed=1234)
    assert first["statuses"] == [201, 201, 201, 429, 201, 201, 201, 429, 201, 201, 201, 429, 201, 200, 409]
    outcomes = {row["outcome_code"] for row in first["attempts"]}
    assert {"delivered", "rejected_server_error", "timeout", "network_error"} <= outcomes
    assert len(first["attempts"]) > 30 and len(first["deliveries"]) > 10
    for key in ("statuses", "faults", *TABLES):
        assert first[key] == second[key], key
    other = scenario(meshes_server, receiver, seed=99)
    assert [r["id"] for r in other["events"]] != [r["id"] for r in first["events"]]


def test_pytest_marker_seed_is_reproducible(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    meshes_server.reset(seed=5)
    a = ingest.post("/events", json={"event": "x", "payload": {"n": 1}}).json()["event"]["id"]
    meshes_server.reset(seed=5)
    b = ingest.post("/events", json={"event": "x", "payload": {"n": 1}}).json()["event"]["id"]
    assert a == b
