"""Fault schedules, budgets, matchers and ordering, through the public API."""

from __future__ import annotations

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import create_connection, create_rule, emit
from tests.faults.helpers import Route, attempts, rule_event


def outcomes(api: httpx.Client, event_id: str, rule_id: str) -> list[str]:
    return [a["outcome_code"] for a in attempts(api, event_id, rule_id)]


# -- the "done when": 503 twice, then OK ---------------------------------------------


def test_503_twice_then_ok(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("rejected_server_error", status=503, connection=hubspot.connection_id, first=2)
    created = emit(ingest)
    meshes_server.settle()
    assert rule_event(api, created["id"], hubspot.rule_id)["status"] == "retrying"
    meshes_server.advance(1)  # attempt 2 at +1 s fails again; attempt 3 is due at +3 s
    state = rule_event(api, created["id"], hubspot.rule_id)
    assert (state["status"], state["attempt_count"]) == ("retrying", 2)
    meshes_server.advance(2)  # past the second backoff
    state = rule_event(api, created["id"], hubspot.rule_id)
    assert (state["status"], state["attempt_count"]) == ("completed", 3)
    assert api.get(f"/events/{created['id']}").json()["status"] == "completed"
    history = attempts(api, created["id"], hubspot.rule_id)
    assert [(a["outcome_code"], a["http_status"], a["started_at"]) for a in history] == [
        ("rejected_server_error", 503, "2026-01-01T00:00:00.000Z"),
        ("rejected_server_error", 503, "2026-01-01T00:00:01.000Z"),
        ("delivered", 200, "2026-01-01T00:00:03.000Z"),
    ]
    meshes_server.assert_delivered(event=created, connection=hubspot.connection_id, attempts=3)


def test_first_counts_per_delivery(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail(status=503, connection=hubspot.connection_id, first=1)
    events = [emit(ingest) for _ in range(3)]
    meshes_server.advance(1)
    for created in events:  # each delivery failed once, then succeeded
        assert outcomes(api, created["id"], hubspot.rule_id) == ["rejected_server_error", "delivered"]


def test_times_counts_across_deliveries(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("network_error", connection=hubspot.connection_id, times=2)
    events = [emit(ingest) for _ in range(3)]
    meshes_server.settle()
    assert [outcomes(api, e["id"], hubspot.rule_id) for e in events] == [
        ["network_error"], ["network_error"], ["delivered"]]
    fault = meshes_server.faults()[0]
    assert (fault["hits"], fault["seen"]) == (2, 3)


def test_given_attempt_numbers(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, attempts=[1, 3])
    meshes_server.fail("rejected_server_error", connection=hubspot.connection_id, attempts=[2])
    created = emit(ingest)
    meshes_server.advance(10)
    assert outcomes(api, created["id"], hubspot.rule_id) == [
        "timeout", "rejected_server_error", "timeout", "delivered"]


def test_every_nth(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, every=3)
    events = [emit(ingest) for _ in range(6)]
    meshes_server.settle()
    firsts = [outcomes(api, e["id"], hubspot.rule_id)[0] for e in events]
    assert firsts == ["delivered", "delivered", "timeout", "delivered", "delivered", "timeout"]


def test_always_until_failed(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("rejected_server_error", connection=hubspot.connection_id, always=True)
    created = emit(ingest)
    meshes_server.advance(3600)
    state = rule_event(api, created["id"], hubspot.rule_id)
    assert (state["status"], state["attempt_count"]) == ("failed", 4)  # the default schedule
    assert state["completed_at"] == "2026-01-01T00:00:07.000Z"


def test_budget_caps_hits(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, budget=2)
    events = [emit(ingest) for _ in range(3)]
    meshes_server.settle()
    assert [outcomes(api, e["id"], hubspot.rule_id) for e in events] == [
        ["timeout"], ["timeout"], ["delivered"]]
    assert meshes_server.faults()[0]["hits"] == 2


@pytest.mark.parametrize(("probability", "expected"), [(0.0, 0), (1.0, 20)])
def test_probability_extremes(
    ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route, probability: float,
    expected: int,
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, probability=probability)
    for _ in range(20):
        emit(ingest)
    meshes_server.settle()
    assert meshes_server.faults()[0]["hits"] == expected


def test_probability_is_seeded(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer
) -> None:
    def run(seed: int) -> list[str]:
        meshes_server.reset(seed=seed)
        workspace = meshes_server.workspace_id or ""
        connection = create_connection(api, workspace, "hubspot", name="HubSpot")
        rule = create_rule(api, workspace, connection["id"], action="add_to_list", metadata={"id": "4"})
        meshes_server.fail("timeout", integration_type="hubspot", probability=0.5)
        events = [emit(ingest) for _ in range(40)]
        meshes_server.settle()
        return [outcomes(api, e["id"], rule["id"])[0] for e in events]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 8 <= first.count("timeout") <= 32  # roughly half


# -- matchers and order ----------------------------------------------------------------------


def test_matchers(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str,
    hubspot: Route, slack: Route,
) -> None:
    other_ws, other_key = meshes_server.create_workspace("Elsewhere")
    other_slack = create_connection(api, other_ws, "slack", name="Slack")
    other_rule = create_rule(api, other_ws, other_slack["id"], action="send_message",
                             metadata={"id": "C9", "template": "x"})
    login_rule = create_rule(api, ws, slack.connection_id, "user.login", action="send_message",
                             metadata={"id": "C2", "template": "x"})
    meshes_server.fail("timeout", workspace=other_ws)
    meshes_server.fail("network_error", connection="HubSpot")  # by name
    meshes_server.fail("destination_gone", rule=login_rule["id"])
    meshes_server.fail("validation_failed", event="user.sign*", action="send_message")
    signup = emit(ingest)
    login = emit(ingest, event="user.login")
    with meshes_server.ingest_client(other_key) as other:
        elsewhere = emit(other)
    meshes_server.settle()
    assert outcomes(api, signup["id"], hubspot.rule_id) == ["network_error"]
    assert outcomes(api, signup["id"], slack.rule_id) == ["validation_failed"]
    assert outcomes(api, login["id"], login_rule["id"]) == ["destination_gone"]
    assert outcomes(api, elsewhere["id"], other_rule["id"]) == ["timeout"]


def test_match_by_integration_type_list(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route,
    slack: Route,
) -> None:
    meshes_server.fail("timeout", integration_type=["slack", "discord"])
    created = emit(ingest)
    meshes_server.settle()
    assert outcomes(api, created["id"], slack.rule_id) == ["timeout"]
    assert outcomes(api, created["id"], hubspot.rule_id) == ["delivered"]


def test_first_match_decides(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id)
    meshes_server.fail("network_error", integration_type="hubspot")
    created = emit(ingest)
    meshes_server.settle()
    assert outcomes(api, created["id"], hubspot.rule_id) == ["timeout"]
    general, specific = meshes_server.faults()[1], meshes_server.faults()[0]
    assert (specific["hits"], general["seen"]) == (1, 0)  # the second never saw the attempt


def test_position_puts_a_fault_first(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id)
    inserted = meshes_server.fail("network_error", connection=hubspot.connection_id, position=1)
    assert [f["id"] for f in meshes_server.faults()] == [inserted["id"], "fault_1"]
    assert [f["position"] for f in meshes_server.faults()] == [1, 2]
    created = emit(ingest)
    meshes_server.settle()
    assert outcomes(api, created["id"], hubspot.rule_id) == ["network_error"]


def test_a_fault_whose_schedule_declines_lets_the_next_one_decide(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", connection=hubspot.connection_id, attempts=[1])
    meshes_server.fail("rate_limited", connection=hubspot.connection_id, first=2)
    created = emit(ingest)
    meshes_server.advance(10)
    assert outcomes(api, created["id"], hubspot.rule_id) == ["timeout", "rate_limited", "delivered"]


def test_unmatched_attempts_run_for_real(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("timeout", event="order.paid")
    created = emit(ingest)
    meshes_server.settle()
    assert outcomes(api, created["id"], hubspot.rule_id) == ["delivered"]
    assert meshes_server.faults()[0]["seen"] == 0
    assert len(meshes_server.deliveries(connection=hubspot.connection_id)) == 1


def test_manual_retry_attempts_count_too(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("destination_not_found", connection=hubspot.connection_id, first=1)
    created = emit(ingest)
    meshes_server.settle()
    assert rule_event(api, created["id"], hubspot.rule_id)["status"] == "failed"
    assert api.post(f"/events/{created['id']}/rules/{hubspot.rule_id}/retry").status_code == 200
    meshes_server.assert_delivered(event=created, connection=hubspot.connection_id, attempts=2)
    assert [a["trigger"] for a in attempts(api, created["id"], hubspot.rule_id)] == ["scheduled", "manual"]
