"""The virtual clock: advance runs due attempts at their due instants; settle and idle."""

from __future__ import annotations

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import emit
from tests.faults.helpers import Route, attempts, rule_event
from tests.helpers import emulator_of


def test_advance_steps_through_due_times_in_order(
    api: httpx.Client, ingest: httpx.Client, admin: httpx.Client, meshes_server: MeshesServer,
    hubspot: Route, slack: Route,
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, first=3)
    meshes_server.fail("rejected_server_error", connection=slack.connection_id, first=1)
    created = emit(ingest)
    meshes_server.settle()  # both first attempts ran at ingest time
    response = admin.post("/clock/advance", json={"seconds": 3600})
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["now"]) == ("2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00.000Z")
    ran = [(a["started_at"][11:19], a["rule_id"], a["attempt_number"], a["outcome_code"])
           for a in body["attempts"]]
    assert ran == [
        ("00:00:01", hubspot.rule_id, 2, "timeout"),
        ("00:00:01", slack.rule_id, 2, "delivered"),
        ("00:00:03", hubspot.rule_id, 3, "timeout"),
        ("00:00:07", hubspot.rule_id, 4, "delivered"),
    ]
    assert body["ran"] == 4 and body["idle"] is True and body["scheduled"] == 0
    event = api.get(f"/events/{created['id']}").json()
    assert event["completed_at"] == "2026-01-01T00:00:07.000Z"
    assert [a["completed_at"] for a in attempts(api, created["id"], hubspot.rule_id)] == [
        "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z", "2026-01-01T00:00:03.000Z",
        "2026-01-01T00:00:07.000Z"]


def test_later_attempts_wait_for_the_clock(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, first=1)
    created = emit(ingest)
    settled = meshes_server.settle()
    assert settled["scheduled"] == 1 and settled["next_due"] == "2026-01-01T00:00:01.000Z"
    assert meshes_server.idle()["idle"] is True  # nothing due *now*
    assert meshes_server.advance(0.5)["ran"] == 0
    assert rule_event(api, created["id"], hubspot.rule_id)["status"] == "retrying"
    assert meshes_server.advance(0.5)["ran"] == 1
    assert rule_event(api, created["id"], hubspot.rule_id)["status"] == "completed"


def test_setting_the_clock_also_steps(
    api: httpx.Client, ingest: httpx.Client, admin: httpx.Client, meshes_server: MeshesServer,
    hubspot: Route,
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, first=2)
    created = emit(ingest)
    meshes_server.settle()
    assert admin.post("/clock", json={"now": "2026-01-02T00:00:00Z"}).json()["now"] == (
        "2026-01-02T00:00:00.000Z")
    starts = [a["started_at"] for a in attempts(api, created["id"], hubspot.rule_id)]
    assert starts == ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z",
                      "2026-01-01T00:00:03.000Z"]


def test_work_written_without_a_request_runs_when_the_clock_moves(
    api: httpx.Client, admin: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    emulator = emulator_of(meshes_server)
    # An event written without a request (as a seed file does) does not kick the dispatcher.
    from meshes_emulator.auth import Principal
    from meshes_emulator.services import events

    who = Principal(kind="machine", org_id=meshes_server.org_id, created_by="test")
    row = events.create(emulator, who, {"event": "user.signup", "workspace": meshes_server.workspace_id,
                                        "payload": {"email": "a@b.io"}})
    body = admin.post("/clock/advance", json={"seconds": 60}).json()
    assert [a["started_at"] for a in body["attempts"]] == ["2026-01-01T00:00:00.000Z"]
    assert api.get(f"/events/{row['id']}").json()["status"] == "completed"


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True},
                                  {"seconds": 1e12}, [5]])
def test_advance_validation(admin: httpx.Client, body: object) -> None:
    response = admin.post("/clock/advance", json=body)
    assert response.status_code == 400
    assert admin.get("/clock").json()["now"] == "2026-01-01T00:00:00.000Z"


@pytest.mark.meshes(clock="system")
def test_system_clock_refuses_to_move(admin: httpx.Client) -> None:
    response = admin.post("/clock/advance", json={"seconds": 5})
    assert response.status_code == 409
    assert response.json()["message"] == "Clock is not manual"
    assert admin.get("/clock").json()["mode"] == "system"


@pytest.mark.meshes(clock="system")
def test_system_clock_runs_deliveries_in_the_background(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("auth_failed", connection=hubspot.connection_id, times=1)
    failed = emit(ingest)
    delivered = emit(ingest)
    meshes_server.settle()  # waits for whatever the background worker has not finished
    assert rule_event(api, failed["id"], hubspot.rule_id)["status"] == "failed"
    meshes_server.assert_delivered(event=delivered, connection=hubspot.connection_id, attempts=1)
    (attempt,) = attempts(api, delivered["id"], hubspot.rule_id)
    assert attempt["started_at"] >= delivered["created_at"] != "2026-01-01T00:00:00.000Z"  # real time


def test_settle_reports_what_ran(
    ingest: httpx.Client, admin: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, first=1)
    emit(ingest)
    body = admin.post("/settle").json()
    assert body["idle"] is True and body["due_now"] == 0 and body["in_flight"] == 0
    assert body["ran"] in (0, 1)  # the background worker may have run it first
    assert admin.get("/idle").json() == {
        "idle": True, "in_flight": 0, "due_now": 0, "scheduled": 1,
        "next_due": "2026-01-01T00:00:01.000Z", "now": "2026-01-01T00:00:00.000Z"}
