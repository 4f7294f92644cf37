"""/_emulator/faults: list, add, get, delete, clear, validation; reset and seed files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import emit
from tests.faults.helpers import Route, attempts


def test_add_list_get_delete(admin: httpx.Client) -> None:
    created = admin.post("/faults", json={"connection": "c-1", "outcome": "timeout", "first": 2})
    assert created.status_code == 201
    fault = created.json()
    assert fault == {
        "id": "fault_1", "position": 1, "kind": "delivery", "match": {"connection": "c-1"},
        "outcome": "timeout", "status": None, "retry_after": None, "message": None,
        "deactivate": None, "schedule": {"first": 2}, "budget": None, "source": "api",
        "hits": 0, "seen": 0, "created_at": "2026-01-01T00:00:00.000Z",
    }
    api_fault = admin.post("/faults", json={"kind": "api", "path": "/events", "status": 429}).json()
    assert api_fault["id"] == "fault_2" and api_fault["schedule"] == {"always": True}
    assert api_fault["method"] is None and api_fault["path"] == "/events"
    listed = admin.get("/faults").json()
    assert listed["count"] == 2 and [f["id"] for f in listed["records"]] == ["fault_1", "fault_2"]
    assert [f["id"] for f in admin.get("/faults?kind=api").json()["records"]] == ["fault_2"]
    assert admin.get("/faults/fault_1").json() == fault
    deleted = admin.delete("/faults/fault_1")
    assert deleted.status_code == 200 and deleted.json()["id"] == "fault_1"
    missing = admin.get("/faults/fault_1")
    assert missing.status_code == 404 and missing.json()["message"] == "Fault not found"
    assert admin.delete("/faults/fault_1").status_code == 404


def test_nested_form_is_accepted(admin: httpx.Client) -> None:
    fault = admin.post("/faults", json={
        "kind": "delivery", "match": {"integration_type": ["slack", "discord"], "event": "user.*"},
        "outcome": "rate_limited", "retry_after": 5, "schedule": {"every": 2}, "budget": 4,
    }).json()
    assert fault["match"] == {"integration_type": ["slack", "discord"], "event": "user.*"}
    assert (fault["status"], fault["retry_after"], fault["schedule"], fault["budget"]) == (
        429, 5.0, {"every": 2}, 4)
    # What GET returns can be posted back as is.
    again = admin.post("/faults", json=fault).json()
    assert {k: v for k, v in again.items() if k not in ("id", "position")} == {
        k: v for k, v in fault.items() if k not in ("id", "position")}


def test_add_a_list_all_or_nothing(admin: httpx.Client) -> None:
    added = admin.post("/faults", json=[{"outcome": "timeout"}, {"kind": "api", "status": 500}])
    assert added.status_code == 201
    assert [f["id"] for f in added.json()["records"]] == ["fault_1", "fault_2"]
    refused = admin.post("/faults", json=[{"outcome": "timeout"}, {"outcome": "nope"}])
    assert refused.status_code == 400
    assert refused.json()["error"]["data"][0]["param"] == "[1].outcome"
    assert admin.get("/faults").json()["count"] == 2
    assert admin.post("/faults", json=[]).status_code == 400


def test_clear(admin: httpx.Client) -> None:
    admin.post("/faults", json=[{"outcome": "timeout"}, {"kind": "api"}, {"kind": "api"}])
    assert admin.post("/faults/clear", json={"kind": "api"}).json() == {"deleted": 2}
    assert admin.delete("/faults").json() == {"deleted": 1}
    assert admin.get("/faults").json()["count"] == 0
    admin.post("/faults", json={"outcome": "timeout"})
    assert admin.post("/faults/clear").json() == {"deleted": 1}
    assert admin.delete("/faults?kind=bogus").status_code == 400


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "outcome"),
        ({"outcome": "delivered"}, "outcome"),
        ({"outcome": "bogus"}, "outcome"),
        ({"outcome": "timeout", "status": 504}, "status"),
        ({"outcome": "rejected_server_error", "status": 404}, "status"),
        ({"outcome": "rejected_client_error", "status": 500}, "status"),
        ({"status": 200}, "status"),
        ({"status": "503"}, "status"),
        ({"outcome": "timeout", "deactivate": True}, "deactivate"),
        ({"outcome": "auth_failed", "deactivate": "nope"}, "deactivate"),
        ({"outcome": "timeout", "first": 2, "times": 3}, "schedule"),
        ({"outcome": "timeout", "first": 0}, "first"),
        ({"outcome": "timeout", "every": True}, "every"),
        ({"outcome": "timeout", "probability": 1.5}, "probability"),
        ({"outcome": "timeout", "attempts": []}, "attempts"),
        ({"outcome": "timeout", "attempts": ["1"]}, "attempts"),
        ({"outcome": "timeout", "always": False}, "always"),
        ({"outcome": "timeout", "budget": 0}, "budget"),
        ({"outcome": "timeout", "retry_after": 5}, "retry_after"),
        ({"outcome": "rate_limited", "retry_after": -1}, "retry_after"),
        ({"outcome": "timeout", "connection": 5}, "connection"),
        ({"outcome": "timeout", "connection": []}, "connection"),
        ({"outcome": "timeout", "match": {"colour": "red"}}, "match.colour"),
        ({"outcome": "timeout", "match": "x"}, "match"),
        ({"outcome": "timeout", "schedule": {"often": 1}}, "schedule.often"),
        ({"outcome": "timeout", "attemps": [1]}, "attemps"),
        ({"outcome": "timeout", "message": ""}, "message"),
        ({"outcome": "timeout", "position": 0}, "position"),
        ({"outcome": "timeout", "source": "elsewhere"}, "source"),
        ({"kind": "nope"}, "kind"),
        ({"kind": "api", "status": 302}, "status"),
        ({"kind": "api", "method": "BREW"}, "method"),
        ({"kind": "api", "path": "events"}, "path"),
        ({"kind": "api", "outcome": "timeout"}, "outcome"),
    ],
)
def test_validation(admin: httpx.Client, body: dict[str, Any], param: str) -> None:
    response = admin.post("/faults", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["message"] == "Bad Request"
    assert param in [d["param"] for d in error["error"]["data"]]


def test_bad_bodies(admin: httpx.Client) -> None:
    assert admin.post("/faults", json="timeout").status_code == 400
    malformed = admin.post("/faults", content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert admin.post("/faults").status_code == 400
    assert admin.get("/faults?kind=x").status_code == 400
    assert admin.post("/faults/clear", json=[1]).status_code == 400


def test_reset_clears_faults(admin: httpx.Client, meshes_server: MeshesServer) -> None:
    meshes_server.fail("timeout")
    meshes_server.fail_api(503)
    meshes_server.reset()
    assert admin.get("/faults").json()["count"] == 0
    assert meshes_server.fail("timeout")["id"] == "fault_1"  # numbering restarts


SEED = """\
workspaces:
  - name: Default Workspace
    connections:
      - {name: HubSpot, type: hubspot, metadata: {access_token: t}}
    rules:
      - {connection: HubSpot, event: user.signup, metadata: {action: add_to_list, id: "42"}}
faults:
  - {connection: HubSpot, status: 503, first: 2}
  - {kind: api, method: POST, path: /events, status: 429, times: 1}
"""


def test_seed_file_faults_reload_at_reset(
    api: httpx.Client, admin: httpx.Client, meshes_server: MeshesServer, tmp_path: Path
) -> None:
    seed = tmp_path / "faults.yaml"
    seed.write_text(SEED)
    meshes_server.reset(fixtures=[str(seed)])
    faults = meshes_server.faults()
    assert [(f["id"], f["source"], f["kind"]) for f in faults] == [
        ("fault_1", "fixture", "delivery"), ("fault_2", "fixture", "api")]
    with meshes_server.ingest_client() as ingest:
        assert ingest.post("/events", json={"event": "user.signup",
                                            "payload": {"email": "a@b.io"}}).status_code == 429
        created = emit(ingest)
    meshes_server.advance(5)
    rule_id = api.get(f"/events/{created['id']}").json()["rule_events"][0]["rule"]
    assert [a["outcome_code"] for a in attempts(api, created["id"], rule_id)] == [
        "rejected_server_error", "rejected_server_error", "delivered"]
    meshes_server.clear_faults()
    meshes_server.reset(fixtures=[str(seed)])  # cleared, then loaded again with fresh counters
    assert [(f["id"], f["hits"]) for f in meshes_server.faults()] == [("fault_1", 0), ("fault_2", 0)]


def test_bad_seed_faults_are_refused(admin: httpx.Client, tmp_path: Path) -> None:
    seed = tmp_path / "bad.yaml"
    seed.write_text("faults:\n  - {outcome: timeout}\n  - {outcome: sometimes}\n")
    response = admin.post("/reset", json={"fixtures": [str(seed)]})
    assert response.status_code == 400
    assert "faults[1].outcome" in response.json()["error"]["message"]
    assert admin.get("/faults").json()["count"] == 0


def test_fault_on_another_route_does_not_disturb(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail_api(503, path="/rules")
    created = emit(ingest)
    meshes_server.settle()
    assert api.get(f"/events/{created['id']}").json()["status"] == "completed"
