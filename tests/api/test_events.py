"""Events (reference §10.1-10.5, §6.6-6.8): ingestion, bulk, lists, reads, catalogs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.connection_helpers import other_org_client
from tests.api.event_helpers import UNKNOWN_ID, create_connection, create_rule, emit, settle

PAYLOAD = {"email": "ada@example.com", "first_name": "Ada"}


def test_create_with_publishable_key(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    response = ingest.post("/events", json={"event": "user.signup", "payload": PAYLOAD})
    assert response.status_code == 201
    event = response.json()["event"]
    assert set(event) == {"id", "type", "event", "resource", "workspace", "created_by", "created_at"}
    assert event["type"] == "event"
    assert event["resource"] == "global"
    assert event["workspace"] == meshes_server.workspace_id
    assert event["created_by"] == "Default publishable key"
    assert event["created_at"] == "2026-01-01T00:00:00.000Z"


def test_create_with_machine_token_names_workspace(api: httpx.Client, meshes_server: MeshesServer) -> None:
    body = {"event": "order.paid", "payload": {"id": "o1"}, "workspace": meshes_server.workspace_id,
            "resource": "orders", "resource_id": "ord:1", "type": "event"}
    event = api.post("/events", json=body).json()["event"]
    assert event["resource"] == "orders" and event["resource_id"] == "ord:1"
    assert event["created_by"] == meshes_server.access_key


def test_machine_token_needs_workspace(api: httpx.Client) -> None:
    response = api.post("/events", json={"event": "a", "payload": PAYLOAD})
    assert response.status_code == 400
    assert response.json()["error"]["data"][0]["param"] == "workspace"


def test_machine_token_other_org_workspace_not_found(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other, other_ws = other_org_client(meshes_server)
    other.close()
    response = api.post("/events", json={"event": "a", "payload": PAYLOAD, "workspace": other_ws})
    assert response.status_code == 404
    assert response.json()["message"] == "Workspace not found"


def test_publishable_key_with_other_workspace_is_refused(
    ingest: httpx.Client, meshes_server: MeshesServer
) -> None:
    other_ws, _ = meshes_server.create_workspace("Another")
    response = ingest.post("/events", json={"event": "a", "payload": PAYLOAD, "workspace": other_ws})
    assert response.status_code == 403
    assert response.json()["error"]["name"] == "Forbidden"
    same = ingest.post(
        "/events", json={"event": "a", "payload": PAYLOAD, "workspace": meshes_server.workspace_id}
    )
    assert same.status_code == 201


def test_other_workspace_key_writes_there(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other_ws, key = meshes_server.create_workspace("Keyed ws")
    with meshes_server.ingest_client(key) as client:
        event = emit(client)
    assert event["workspace"] == other_ws
    listed = api.get(f"/workspaces/{other_ws}/events").json()["records"]
    assert [e["id"] for e in listed] == [event["id"]]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"payload": PAYLOAD}, "event"),
        ({"event": "", "payload": PAYLOAD}, "event"),
        ({"event": "  ", "payload": PAYLOAD}, "event"),
        ({"event": 5, "payload": PAYLOAD}, "event"),
        ({"event": "x" * 257, "payload": PAYLOAD}, "event"),
        ({"event": "a"}, "payload"),
        ({"event": "a", "payload": None}, "payload"),
        ({"event": "a", "payload": [1]}, "payload"),
        ({"event": "a", "payload": "x"}, "payload"),
        ({"event": "a", "payload": PAYLOAD, "resource": ""}, "resource"),
        ({"event": "a", "payload": PAYLOAD, "resource": 3}, "resource"),
        ({"event": "a", "payload": PAYLOAD, "resource_id": 7}, "resource_id"),
        ({"event": "a", "payload": PAYLOAD, "resource_id": ""}, "resource_id"),
        ({"event": "a", "payload": PAYLOAD, "resource_id": "x" * 1025}, "resource_id"),
        ({"event": "a", "payload": PAYLOAD, "type": "rule"}, "type"),
        ({"event": "a", "payload": PAYLOAD, "workspace": "nope"}, "workspace"),
    ],
)
def test_create_validation(ingest: httpx.Client, body: dict[str, Any], param: str) -> None:
    """Documented checks: 400 in every mode (the inferred ones: tests/api/test_leniency.py)."""
    response = ingest.post("/events", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["message"] == "Bad Request"
    assert error["error"]["data"][0]["param"] == param


def test_payload_accepts_custom_keys(ingest: httpx.Client, api: httpx.Client) -> None:
    payload = {"email": "a@b.io", "plan": {"tier": 2}, "tags": ["x"], "note": None}
    event = emit(ingest, payload=payload)
    assert api.get(f"/events/{event['id']}/payload").json()["payload"] == payload


def test_create_body_errors(ingest: httpx.Client) -> None:
    assert ingest.post("/events", json=[{"event": "a", "payload": PAYLOAD}]).status_code == 400
    assert ingest.post("/events").status_code == 400
    bad = ingest.post("/events", content=b"{", headers={"content-type": "application/json"})
    assert bad.status_code == 400


def test_deeply_nested_payload_is_refused(ingest: httpx.Client) -> None:
    nested: dict[str, Any] = {"x": 1}
    for _ in range(300):
        nested = {"a": nested}
    body = json.dumps({"event": "a", "payload": nested})
    response = ingest.post("/events", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "nested" in response.json()["error"]["message"]
    from meshes_emulator.schemas.events import parse_event

    assert parse_event({"event": "a", "payload": nested}) == [
        {"param": "payload", "msg": "is nested too deeply (at most 250 levels)"}
    ]


def test_other_org_cannot_see_or_delete(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer
) -> None:
    emit(ingest)
    slack = create_connection(api, meshes_server.workspace_id or "", "slack")
    rule = create_rule(api, meshes_server.workspace_id or "", slack["id"], action="send_message")
    other, _ = other_org_client(meshes_server)
    with other:
        assert other.get("/events").json()["records"] == []
        assert other.delete(f"/rules/{rule['id']}").status_code == 404
    assert api.get(f"/rules/{rule['id']}").status_code == 200


def test_payload_too_large(ingest: httpx.Client) -> None:
    response = ingest.post("/events", json={"event": "a", "payload": {"blob": "x" * 300_000}})
    assert response.status_code == 413
    assert response.json()["error"]["name"] == "PayloadTooLarge"


def test_credentials_required(raw: httpx.Client) -> None:
    response = raw.post("/api/v1/events", json={"event": "a", "payload": PAYLOAD})
    assert response.status_code == 401
    bad_key = raw.post("/api/v1/events", json={"event": "a", "payload": PAYLOAD},
                       headers={"X-Meshes-Publishable-Key": "mesh_pub_no_such_key"})
    assert bad_key.status_code == 401


# -- bulk ------------------------------------------------------------------------------------


def test_bulk_all_accepted(ingest: httpx.Client, api: httpx.Client) -> None:
    items = [{"event": f"e.{i}", "payload": {"n": i}} for i in range(3)]
    response = ingest.post("/events/bulk", json=items)
    assert response.status_code == 201
    body = response.json()
    assert body["count"] == 3 and "error_count" not in body
    assert [r["event"] for r in body["records"]] == ["e.0", "e.1", "e.2"]
    assert api.get("/events").json()["count"] == 3


def test_bulk_partial_keeps_order(ingest: httpx.Client, api: httpx.Client) -> None:
    items = [
        {"event": "ok.1", "payload": {"n": 1}},
        {"event": "", "payload": {"n": 2}},
        {"event": "ok.3", "payload": {"n": 3}},
        "not an object",
        {"event": "big", "payload": {"blob": "x" * 300_000}},
    ]
    response = ingest.post("/events/bulk", json=items)
    assert response.status_code == 207
    body = response.json()
    assert body["count"] == 5 and body["error_count"] == 3
    records = body["records"]
    assert records[0]["event"] == "ok.1" and records[2]["event"] == "ok.3"
    assert records[1]["message"] == "Bad Request"
    assert records[1]["error"]["data"][0]["param"] == "[1].event"
    assert records[3]["error"]["data"][0]["param"] == "[3]"
    assert records[4]["error"]["name"] == "PayloadTooLarge"
    assert [e["event"] for e in api.get("/events").json()["records"]] == ["ok.3", "ok.1"]


def test_bulk_all_invalid_is_207(ingest: httpx.Client) -> None:
    response = ingest.post("/events/bulk", json=[{"event": ""}, {"payload": {}}])
    assert response.status_code == 207
    assert response.json()["error_count"] == 2


def test_bulk_with_machine_token_per_item_workspace(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other_ws, _ = meshes_server.create_workspace("Bulk two")
    items = [
        {"event": "a", "payload": PAYLOAD, "workspace": meshes_server.workspace_id},
        {"event": "b", "payload": PAYLOAD, "workspace": other_ws},
        {"event": "c", "payload": PAYLOAD},
        {"event": "d", "payload": PAYLOAD, "workspace": UNKNOWN_ID},
    ]
    body = api.post("/events/bulk", json=items).json()
    assert [r.get("workspace") for r in body["records"][:2]] == [meshes_server.workspace_id, other_ws]
    assert body["records"][2]["error"]["data"][0]["param"] == "[2].workspace"
    assert body["records"][3]["message"] == "Workspace not found"


@pytest.mark.parametrize(
    "body", [{"event": "a", "payload": PAYLOAD}, [], [{"event": "a", "payload": {"n": 1}}] * 101, "x"]
)
def test_bulk_bad_request(ingest: httpx.Client, body: Any) -> None:
    response = ingest.post("/events/bulk", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "Bad Request"


def test_bulk_of_100_is_fine(ingest: httpx.Client) -> None:
    response = ingest.post("/events/bulk", json=[{"event": "a", "payload": {"n": 1}}] * 100)
    assert response.status_code == 201
    assert response.json()["count"] == 100


# -- reads -----------------------------------------------------------------------------------


def test_get_event_without_rules_is_completed(ingest: httpx.Client, api: httpx.Client) -> None:
    created = emit(ingest)
    event = api.get(f"/events/{created['id']}").json()
    assert event["status"] == "completed"
    assert event["total_rules"] == 0 and event["completed_count"] == 0 and event["failed_count"] == 0
    assert event["started_at"] == event["completed_at"] == event["created_at"]
    assert event["rule_events"] == []
    assert "payload" not in event


def test_get_event_with_rule_events(
    ingest: httpx.Client, api: httpx.Client, meshes_server: MeshesServer
) -> None:
    ws = meshes_server.workspace_id or ""
    slack = create_connection(api, ws, "slack")
    rule = create_rule(api, ws, slack["id"], action="send_message",
                       metadata={"id": "C1", "template": "hi"})
    created = emit(ingest, resource_id="u1")
    pending = api.get(f"/events/{created['id']}").json()
    assert pending["total_rules"] == 1
    (rule_event,) = pending["rule_events"]
    assert rule_event["rule"] == rule["id"] and rule_event["connection"] == slack["id"]
    assert rule_event["type"] == "rule" and rule_event["integration_type"] == "slack"
    assert rule_event["event_id"] == created["id"] and rule_event["resource_id"] == "u1"
    settle(meshes_server)
    done = api.get(f"/events/{created['id']}").json()
    assert done["status"] == "completed" and done["completed_count"] == 1
    assert done["rule_events"][0]["attempt_count"] == 1


def test_get_payload(ingest: httpx.Client, api: httpx.Client) -> None:
    created = emit(ingest)
    body = api.get(f"/events/{created['id']}/payload").json()
    assert body["payload"] == {"email": "ada@example.com", "first_name": "Ada"}
    assert body["rule_events"] == []


@pytest.mark.parametrize("suffix", ["", "/payload"])
def test_get_unknown_or_other_org(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, suffix: str
) -> None:
    response = api.get(f"/events/{UNKNOWN_ID}{suffix}")
    assert response.status_code == 404
    assert response.json()["message"] == "Event not found"
    created = emit(ingest)
    other, _ = other_org_client(meshes_server)
    with other:
        assert other.get(f"/events/{created['id']}{suffix}").status_code == 404
    assert ingest.get(f"/events/{created['id']}{suffix}").status_code == 401


def test_org_list_pagination(ingest: httpx.Client, api: httpx.Client) -> None:
    ids = [emit(ingest, event=f"e{i}")["id"] for i in range(5)]
    page = api.get("/events?limit=2").json()
    assert page["limit"] == 2 and page["count"] == 2
    assert [e["id"] for e in page["records"]] == ids[:-3:-1]
    assert "rule_events" not in page["records"][0] and "payload" not in page["records"][0]
    seen = [e["id"] for e in page["records"]]
    while page["next_cursor"]:
        page = api.get(f"/events?limit=2&cursor={page['next_cursor']}").json()
        seen += [e["id"] for e in page["records"]]
    assert seen == ids[::-1]
    assert api.get("/events").json()["limit"] == 50


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=%%%"])
def test_list_bad_query(api: httpx.Client, query: str) -> None:
    assert api.get(f"/events?{query}").status_code == 400


def test_workspace_events_filters(
    ingest: httpx.Client, api: httpx.Client, meshes_server: MeshesServer
) -> None:
    ws = meshes_server.workspace_id
    a = emit(ingest, event="user.signup", resource="users", resource_id="u1")
    b = emit(ingest, event="user.signup")
    c = emit(ingest, event="order.paid", resource="orders", resource_id="o1")

    def ids(query: str) -> list[str]:
        return [e["id"] for e in api.get(f"/workspaces/{ws}/events?{query}").json()["records"]]

    assert ids("") == [c["id"], b["id"], a["id"]]
    assert ids("event=user.signup") == [b["id"], a["id"]]
    assert ids("resource=orders") == [c["id"]]
    assert ids("resource=global") == [b["id"]]
    assert ids("resource_id=u1") == [a["id"]]
    assert ids("status=completed") == [c["id"], b["id"], a["id"]]
    assert ids("status=pending") == []
    assert ids("event=user.signup&resource=users") == [a["id"]]


def test_workspace_events_bad_status_and_unknown_workspace(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    response = api.get(f"/workspaces/{meshes_server.workspace_id}/events?status=done")
    assert response.status_code == 400
    assert response.json()["error"]["data"][0]["param"] == "status"
    assert api.get(f"/workspaces/{UNKNOWN_ID}/events").status_code == 404


def test_catalogs_filled_by_events(
    ingest: httpx.Client, api: httpx.Client, meshes_server: MeshesServer
) -> None:
    ws = meshes_server.workspace_id
    emit(ingest, event="cart.abandoned", resource="carts")
    emit(ingest, event="cart.abandoned", resource="carts")
    event_types = api.get(f"/workspaces/{ws}/event-types").json()
    resources = api.get(f"/workspaces/{ws}/resources").json()
    entry = next(e for e in event_types if e["key"] == "cart.abandoned")
    assert entry["label"] == "cart.abandoned" and entry["created_by"] == "Default publishable key"
    assert [e["key"] for e in event_types].count("cart.abandoned") == 1
    assert {"global", "carts"} <= {e["key"] for e in resources}


def emitted_statuses() -> set[str]:
    """Every status the emulator gives a rule_event, and every event status derived from them."""
    from itertools import product

    from meshes_emulator.engine.status import event_state

    rule_event_statuses = ("pending", "processing", "retrying", "completed", "failed", "canceled")
    derived = {event_state(combo).status for size in range(3)
               for combo in product(rule_event_statuses, repeat=size)}
    return derived | set(rule_event_statuses)


def test_status_filter_accepts_every_emitted_status(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer
) -> None:
    ws = meshes_server.workspace_id or ""
    crm = create_connection(api, ws, "hubspot")
    for event in ("ok.done", "bad.done", "slow.done", "stop.done"):
        create_rule(api, ws, crm["id"], event=event, action="add_to_list", metadata={"id": "1"})
    meshes_server.fail("rejected_client_error", status=418, event="bad.done")
    for event in ("slow.done", "stop.done"):
        meshes_server.fail("rejected_server_error", status=503, event=event)
    expected = {"completed": emit(ingest, event="ok.done")["id"],
                "failed": emit(ingest, event="bad.done")["id"],
                "retrying": emit(ingest, event="slow.done")["id"],
                "canceled": emit(ingest, event="stop.done")["id"]}
    settle(meshes_server)  # the 503s leave their events retrying; cancel one of them
    assert api.post(f"/events/{expected['canceled']}/cancel").status_code == 200
    path = f"/workspaces/{ws}/events"
    for status in sorted(emitted_statuses()):
        response = api.get(path, params={"status": status})
        assert response.status_code == 200, (status, response.text)
        records = response.json()["records"]
        assert all(record["status"] == status for record in records), status
        if status in expected:
            assert [record["id"] for record in records] == [expected[status]], status
