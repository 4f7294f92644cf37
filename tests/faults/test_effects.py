"""Every delivery-fault effect through the public API (reference §10.7-10.9, §13.7).

The fixture's manual clock: attempts due at ingest run right after ingest (`settle` waits for
them), retries when the clock is advanced. No sleeps.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.event_helpers import emit
from tests.engine.webhook_receiver import Receiver
from tests.faults.helpers import Route, attempts, rule_event

# outcome, fault extras, expected http_status, retried by the engine
EFFECTS: list[tuple[str, dict[str, Any], int | None, bool]] = [
    ("timeout", {}, None, True),
    ("network_error", {}, None, True),
    ("rejected_server_error", {"status": 503}, 503, True),
    ("rejected_server_error", {}, 500, True),
    ("rate_limited", {"retry_after": 30}, 429, True),
    ("auth_failed", {}, 401, False),
    ("auth_failed", {"status": 403}, 403, False),
    ("rejected_client_error", {"status": 418}, 418, False),
    ("invalid_request", {}, 400, False),
    ("validation_failed", {}, 422, False),
    ("destination_not_found", {}, 404, False),
    ("destination_conflict", {}, 409, False),
    ("destination_gone", {}, 410, False),
    ("destination_timeout", {}, 504, True),
    ("payload_too_large", {}, 413, False),
    ("mapping_error", {}, None, False),
    ("internal_error", {}, None, True),
]


@pytest.mark.parametrize(("outcome", "extra", "http_status", "retried"), EFFECTS)
def test_every_outcome_on_a_simulated_connector(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route,
    outcome: str, extra: dict[str, Any], http_status: int | None, retried: bool,
) -> None:
    fault = meshes_server.fail(outcome, connection=hubspot.connection_id, **extra)
    created = emit(ingest)
    meshes_server.settle()
    (attempt,) = attempts(api, created["id"], hubspot.rule_id)
    assert attempt["outcome_code"] == outcome
    assert attempt["http_status"] == http_status
    assert fault["id"] in attempt["message"]
    state = rule_event(api, created["id"], hubspot.rule_id)
    assert state["status"] == ("retrying" if retried else "failed")
    assert state["last_error"] == f"{outcome}: {attempt['message']}"
    assert meshes_server.deliveries(connection=hubspot.connection_id) == []  # nothing was sent


def test_status_alone_implies_the_outcome(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    fault = meshes_server.fail(status=502, connection=hubspot.connection_id)
    assert fault["outcome"] == "rejected_server_error"
    assert meshes_server.fail(status=429)["outcome"] == "rate_limited"
    assert meshes_server.fail(status=404)["outcome"] == "destination_not_found"
    created = emit(ingest)
    meshes_server.settle()
    (attempt,) = attempts(api, created["id"], hubspot.rule_id)
    assert (attempt["outcome_code"], attempt["http_status"]) == ("rejected_server_error", 502)
    assert attempt["message"] == ("hubspot API answered HTTP 502 Bad Gateway "
                                  f"(injected by fault {fault['id']})")


def test_custom_message_and_response_details(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("rate_limited", connection=hubspot.connection_id, retry_after=90,
                       message="HubSpot: ten secondly rolling limit reached")
    created = emit(ingest)
    meshes_server.settle()
    state = rule_event(api, created["id"], hubspot.rule_id)
    assert state["last_error"] == "rate_limited: HubSpot: ten secondly rolling limit reached"
    (attempt,) = attempts(api, created["id"], hubspot.rule_id)
    details = api.get(f"/events/{created['id']}/rules/{hubspot.rule_id}/attempts/{attempt['id']}"
                      "/response-details").json()
    assert details["http_status"] == 429
    assert details["headers"]["retry-after"] == "90"
    assert details["body"] == {"message": "HubSpot: ten secondly rolling limit reached"}


def test_retry_after_postpones_the_next_attempt(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("rate_limited", connection=hubspot.connection_id, retry_after=30, first=1)
    created = emit(ingest)
    meshes_server.settle()
    assert meshes_server.rule_events(event=created)[0]["next_attempt_at"] == "2026-01-01T00:00:30.000Z"
    assert meshes_server.advance(29)["ran"] == 0  # the schedule's 1 s is overridden
    ran = meshes_server.advance(1)
    assert [a["outcome_code"] for a in ran["attempts"]] == ["delivered"]
    assert attempts(api, created["id"], hubspot.rule_id)[1]["started_at"] == "2026-01-01T00:00:30.000Z"


def test_body_override(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    body = {"status": "error", "category": "RATE_LIMITS", "correlationId": "c-1"}
    meshes_server.admin("POST", "/faults", {"connection": hubspot.connection_id, "status": 503,
                                            "body": body})
    created = emit(ingest)
    meshes_server.settle()
    (attempt,) = attempts(api, created["id"], hubspot.rule_id)
    details = api.get(f"/events/{created['id']}/rules/{hubspot.rule_id}/attempts/{attempt['id']}"
                      "/response-details").json()
    assert details["body"] == body


def test_webhook_fault_makes_no_network_call(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hook: Route,
    receiver: Receiver,
) -> None:
    meshes_server.fail("timeout", connection=hook.connection_id, first=1)
    created = emit(ingest)
    meshes_server.settle()
    assert receiver.requests == []
    (attempt,) = attempts(api, created["id"], hook.rule_id)
    assert attempt["outcome_code"] == "timeout"
    assert attempt["message"].startswith("Webhook endpoint did not answer in time")
    assert meshes_server.deliveries(connection=hook.connection_id) == []
    meshes_server.advance(1)
    assert len(receiver.requests) == 1  # the second attempt went out for real
    meshes_server.assert_delivered(event=created, connection=hook.connection_id, attempts=2)
    (sink,) = meshes_server.deliveries(connection=hook.connection_id)
    assert sink["attempt_number"] == 2 and sink["outcome_code"] == "delivered"


def test_auth_failed_can_deactivate_the_connection(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    fault = meshes_server.fail("auth_failed", connection=hubspot.connection_id, deactivate=True,
                               times=1)
    assert fault["deactivate"] == "authentication_invalid"
    first = emit(ingest)
    meshes_server.settle()
    assert rule_event(api, first["id"], hubspot.rule_id)["status"] == "failed"
    connection = api.get(f"/connections/{hubspot.connection_id}").json()
    assert connection["active"] is False
    assert connection["inactive_reason"] == "authentication_invalid"
    # Later deliveries fail because the connection is inactive, not because of the fault.
    second = emit(ingest)
    meshes_server.settle()
    state = rule_event(api, second["id"], hubspot.rule_id)
    assert state["last_error"] == ("auth_failed: Connection is inactive (authentication_invalid); "
                                   "reconnect it and retry the delivery")
    assert meshes_server.faults()[0]["hits"] == 1
    retry = api.post(f"/events/{first['id']}/rules/{hubspot.rule_id}/retry")
    assert retry.status_code == 422  # until the connection is reconnected
    meshes_server.admin("POST", f"/connections/{hubspot.connection_id}/activate")
    assert api.post(f"/events/{first['id']}/rules/{hubspot.rule_id}/retry").status_code == 200
    meshes_server.assert_delivered(event=first, connection=hubspot.connection_id, attempts=2)


def test_deactivation_is_seen_by_the_next_attempt_of_the_same_batch(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    """Both events are due together, so their attempts are planned in one batch: the second
    must see the connection the first attempt's fault marked inactive."""
    meshes_server.fail("auth_failed", connection=hubspot.connection_id, deactivate=True,
                       times=1)
    body = [{"event": "user.signup", "payload": {"email": f"{name}@example.com"}} for name in "ab"]
    created = ingest.post("/events/bulk", json=body)
    assert created.status_code == 201, created.text
    first, second = created.json()["records"]
    meshes_server.settle()
    assert rule_event(api, first["id"], hubspot.rule_id)["last_error"].startswith("auth_failed")
    state = rule_event(api, second["id"], hubspot.rule_id)
    assert state["last_error"] == ("auth_failed: Connection is inactive (authentication_invalid); "
                                   "reconnect it and retry the delivery")
    assert meshes_server.faults()[0]["hits"] == 1


def test_deactivate_with_another_reason(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.fail("auth_failed", integration_type="hubspot",
                       deactivate="oauth_authorization_revoked")
    emit(ingest)
    meshes_server.settle()
    connection = api.get(f"/connections/{hubspot.connection_id}").json()
    assert connection["inactive_reason"] == "oauth_authorization_revoked"


def test_inactive_connection_is_decided_before_faults(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, hubspot: Route
) -> None:
    meshes_server.admin("POST", f"/connections/{hubspot.connection_id}/deactivate")
    meshes_server.fail("timeout")
    created = emit(ingest)
    meshes_server.settle()
    (attempt,) = attempts(api, created["id"], hubspot.rule_id)
    assert attempt["outcome_code"] == "auth_failed"
    assert meshes_server.faults()[0]["seen"] == 0
