"""GET /_emulator/events/{id}/explain and GET /_emulator/rule-events."""

from __future__ import annotations

import httpx

from pytest_meshes import MeshesServer
from tests.api.event_helpers import create_connection, create_rule, emit
from tests.faults.helpers import Route


def test_every_rule_and_why(
    api: httpx.Client, ingest: httpx.Client, admin: httpx.Client, meshes_server: MeshesServer,
    ws: str, hubspot: Route,
) -> None:
    slack = create_connection(api, ws, "slack", name="Slack")

    def rule(event: str = "user.signup", n: str = "0", **extra: object) -> str:
        metadata = {"id": "C1", "template": "x", "n": n}
        return str(create_rule(api, ws, slack["id"], event, action="send_message", metadata=metadata,
                               **extra)["id"])

    other_name = rule("user.login", "1")
    by_resource = rule(n="2", resource="orders")
    by_id = rule(n="3", resource="users", resource_id="u2")
    inactive = rule(n="4", active=False)
    dormant = create_connection(api, ws, "discord", name="Dormant")
    on_dormant = create_rule(api, ws, dormant["id"], action="send_message",
                             metadata={"id": "D", "title": "t", "template": "x"})["id"]
    meshes_server.admin("POST", f"/connections/{dormant['id']}/deactivate",
                        {"reason": "oauth_reauthorization_required"})
    deleted = rule(n="5")
    meshes_server.fail("rejected_server_error", connection=hubspot.connection_id, first=1)

    created = emit(ingest, resource="users", resource_id="u1")
    api.delete(f"/rules/{deleted}")
    later = rule(n="6")
    meshes_server.settle()

    response = admin.get(f"/events/{created['id']}/explain")
    assert response.status_code == 200
    body = response.json()
    assert body["event"]["id"] == created["id"] and body["event"]["resource"] == "users"
    why = {entry["rule"]: entry for entry in body["rules"]}
    assert [e["rule"] for e in body["rules"]] == [hubspot.rule_id, other_name, by_resource, by_id,
                                                  inactive, on_dormant, later, deleted]
    assert {k: (v["matched"], v["routed"], v["reason"]) for k, v in why.items()} == {
        hubspot.rule_id: (True, True, "matched"),
        other_name: (False, False, "event_name_differs"),
        by_resource: (False, False, "resource_differs"),
        by_id: (False, False, "resource_id_differs"),
        inactive: (False, False, "rule_inactive"),
        on_dormant: (True, True, "connection_inactive"),
        later: (False, False, "rule_created_later"),
        deleted: (True, True, "rule_deleted"),
    }
    assert why[other_name]["detail"] == "the rule listens to 'user.login', the event is 'user.signup'"
    assert why[on_dormant]["will_fail"] is True
    assert why[on_dormant]["connection"] == {"id": dormant["id"], "name": "Dormant", "type": "discord",
                                             "active": False,
                                             "inactive_reason": "oauth_reauthorization_required"}
    delivery = why[hubspot.rule_id]["delivery"]
    assert delivery["status"] == "retrying" and delivery["next_attempt_at"] == "2026-01-01T00:00:01.000Z"
    assert [a["outcome_code"] for a in delivery["attempts"]] == ["rejected_server_error"]
    assert why[other_name]["delivery"] is None
    timeline = body["timeline"]
    assert timeline[0].startswith(f"event {created['id']} 'user.signup' resource=users/u1: retrying")
    assert any("not routed: event_name_differs" in line for line in timeline)
    assert any("#1 2026-01-01T00:00:00.000Z rejected_server_error HTTP 500" in line for line in timeline)
    assert "    next attempt due 2026-01-01T00:00:01.000Z" in timeline


def test_unknown_event(admin: httpx.Client) -> None:
    response = admin.get("/events/00000000-0000-4000-8000-000000000000/explain")
    assert response.status_code == 404
    assert response.json()["message"] == "Event not found"


def test_workspace_without_rules(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    created = emit(ingest)
    explained = meshes_server.explain(created)
    assert explained["rules"] == []
    assert explained["timeline"][1] == "  (the workspace has no rules)"


def test_rule_events_listing(
    ingest: httpx.Client, admin: httpx.Client, meshes_server: MeshesServer, hubspot: Route,
    slack: Route,
) -> None:
    meshes_server.fail("timeout", connection=slack.connection_id, first=1)
    first, second = emit(ingest), emit(ingest)
    meshes_server.settle()
    body = admin.get("/rule-events").json()
    assert body["count"] == 4
    assert [(r["event_id"], r["rule"]) for r in body["records"]] == [
        (first["id"], hubspot.rule_id), (first["id"], slack.rule_id),
        (second["id"], hubspot.rule_id), (second["id"], slack.rule_id)]
    retrying = admin.get("/rule-events?status=retrying").json()["records"]
    assert {r["connection"] for r in retrying} == {slack.connection_id}
    assert {r["next_attempt_at"] for r in retrying} == {"2026-01-01T00:00:01.000Z"}
    assert admin.get(f"/rule-events?event={second['id']}&rule={slack.rule_id}").json()["count"] == 1
    assert admin.get("/rule-events?event_name=user.login").json()["count"] == 0
    assert admin.get("/rule-events?limit=1").json()["count"] == 1
    assert admin.get("/rule-events?limit=0").status_code == 400
    assert len(meshes_server.rule_events(connection=hubspot.connection, status="completed")) == 2
