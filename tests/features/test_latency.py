"""Latency faults: a provider that answers late (emulator time) and an API that answers late
(wall clock), with the same matching and schedules as the other faults."""

from __future__ import annotations

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import create_connection, create_rule, emit, webhook_connection
from tests.engine.webhook_receiver import Receiver
from tests.faults.helpers import attempts


@pytest.fixture
def hubspot(api: httpx.Client, meshes_server: MeshesServer) -> tuple[str, str]:
    ws = meshes_server.workspace_id or ""
    connection = create_connection(api, ws, "hubspot", name="HubSpot")
    rule = create_rule(api, ws, connection["id"], action="add_to_list", metadata={"id": "42"})
    return connection["id"], rule["id"]


def test_a_late_answer_takes_that_long_in_emulator_time(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client, hubspot: tuple[str, str]
) -> None:
    connection, rule = hubspot
    fault = meshes_server.fail(connection=connection, delay=2.5, first=1)
    assert (fault["delay"], fault["outcome"], fault["status"]) == (2.5, None, None)
    event = emit(ingest)
    meshes_server.assert_delivered(event=event, connection=connection, attempts=1)
    (attempt,) = attempts(api, event["id"], rule)
    assert attempt["outcome_code"] == "delivered"
    assert (attempt["started_at"], attempt["completed_at"], attempt["duration_ms"]) == (
        "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:02.500Z", 2500)
    assert meshes_server.now() == "2026-01-01T00:00:00.000Z"  # the clock is not moved
    second = emit(ingest)  # first=1: the next delivery's first attempt is late too
    assert attempts(api, second["id"], rule)[0]["duration_ms"] == 2500


def test_a_delay_beyond_the_provider_timeout_is_a_timeout(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client, hubspot: tuple[str, str]
) -> None:
    connection, rule = hubspot
    meshes_server.fail(connection=connection, delay=30, times=1)
    event = emit(ingest)
    meshes_server.settle()
    (first,) = attempts(api, event["id"], rule)
    assert first["outcome_code"] == "timeout" and first["duration_ms"] == 10_000
    assert first["completed_at"] == "2026-01-01T00:00:10.000Z"
    assert first["message"] == ("hubspot API did not answer in time: request timed out after 10s "
                                "(delay of 30s injected by fault fault_1)")
    # the retry backoff (1 s) counts from the end of the attempt
    explained = meshes_server.rule_events(event=event)[0]
    assert explained["next_attempt_at"] == "2026-01-01T00:00:11.000Z"
    meshes_server.advance(11)
    meshes_server.assert_delivered(event=event, connection=connection, attempts=2)
    assert meshes_server.deliveries(connection=connection)[0]["request"]["requests"]  # sent


def test_a_late_failure(meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client,
                        hubspot: tuple[str, str]) -> None:
    connection, rule = hubspot
    meshes_server.fail(status=503, connection=connection, delay=4, first=1)
    event = emit(ingest)
    meshes_server.settle()
    (first,) = attempts(api, event["id"], rule)
    assert (first["outcome_code"], first["http_status"], first["duration_ms"]) == (
        "rejected_server_error", 503, 4000)
    assert meshes_server.rule_events(event=event)[0]["next_attempt_at"] == "2026-01-01T00:00:05.000Z"


def test_a_webhook_is_sent_and_its_answer_recorded_late(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client
) -> None:
    ws = meshes_server.workspace_id or ""
    with Receiver() as receiver:
        hook = webhook_connection(api, ws, receiver.url + "/hook")
        rule = create_rule(api, ws, hook["id"])
        meshes_server.fail(integration_type="webhook", delay=3)
        event = emit(ingest)
        meshes_server.assert_delivered(event=event, connection=hook, attempts=1)
        assert len(receiver.requests) == 1
        late = emit(ingest)
        meshes_server.clear_faults()
        meshes_server.fail(integration_type="webhook", delay=11)
        timed_out = emit(ingest)
        meshes_server.settle()
        assert len(receiver.requests) == 2  # a delay beyond the timeout sends nothing
    (attempt,) = attempts(api, event["id"], rule["id"])
    assert (attempt["outcome_code"], attempt["duration_ms"]) == ("delivered", 3000)
    assert attempts(api, late["id"], rule["id"])[0]["duration_ms"] == 3000
    (failed,) = attempts(api, timed_out["id"], rule["id"])
    assert failed["outcome_code"] == "timeout"
    assert failed["message"].startswith("Webhook endpoint did not answer in time")


def test_an_api_fault_can_answer_late(meshes_server: MeshesServer) -> None:
    """`delay_ms` is wall-clock time: a client with a shorter timeout gives up."""
    meshes_server.fail_api(method="GET", path="/workspaces", delay_ms=1500, times=1)
    with meshes_server.client(timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/workspaces")
    with meshes_server.client(timeout=0.2) as client:  # times=1: the next one is on time
        assert client.get("/workspaces").status_code == 200
    (fault,) = meshes_server.faults()
    assert (fault["hits"], fault["status"], fault["delay_ms"]) == (1, None, 1500)


def test_a_late_api_error(meshes_server: MeshesServer, ingest: httpx.Client) -> None:
    fault = meshes_server.fail_api(429, method="POST", path="/events", delay_ms=50, times=1)
    assert (fault["status"], fault["delay_ms"]) == (429, 50)
    refused = ingest.post("/events", json={"event": "x", "payload": {"a": 1}})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert ingest.post("/events", json={"event": "x", "payload": {"a": 1}}).status_code == 201


@pytest.mark.parametrize(("spec", "param"), [
    ({"delay": -1}, "delay"),
    ({"delay": 3601}, "delay"),
    ({"delay": "2"}, "delay"),
    ({"delay": 2, "retry_after": 3}, "retry_after"),
    ({"delay": 2, "message": "late"}, "message"),
    ({"delay": 2, "deactivate": True}, "deactivate"),
    ({"delay_ms": 5}, "delay_ms"),
    ({"kind": "api", "delay_ms": 0}, "delay_ms"),
    ({"kind": "api", "delay_ms": 60_001}, "delay_ms"),
    ({"kind": "api", "delay_ms": 10, "retry_after": 2}, "retry_after"),
    ({"kind": "api", "delay": 1}, "delay"),
])
def test_bad_delays_are_refused(admin: httpx.Client, spec: dict[str, object], param: str) -> None:
    refused = admin.post("/faults", json=spec)
    assert refused.status_code == 400, refused.text
    assert param in [d["param"] for d in refused.json()["error"]["data"]]


def test_compact_cli_form_and_round_trip(admin: httpx.Client) -> None:
    from meshes_emulator.engine.fault_specs import parse_cli, parse_spec

    (item,) = parse_cli("integration_type=hubspot,delay=2.5,first=1")
    assert parse_spec(item).delay == 2.5
    created = admin.post("/faults", json={"kind": "api", "path": "/events", "delay_ms": 100}).json()
    again = admin.post("/faults", json=created).json()  # a GET body is accepted back
    assert (again["delay_ms"], again["status"]) == (100, None)


def test_a_timed_out_auth_failure_does_not_deactivate(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client, hubspot: tuple[str, str]
) -> None:
    connection, rule = hubspot
    meshes_server.fail("auth_failed", connection=connection, deactivate=True, delay=20, times=1)
    event = emit(ingest)
    meshes_server.settle()
    assert attempts(api, event["id"], rule)[0]["outcome_code"] == "timeout"
    assert api.get(f"/connections/{connection}").json()["active"] is True
