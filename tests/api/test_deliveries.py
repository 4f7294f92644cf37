"""The delivery engine through the public API (reference §10.6-10.12; behavior §3, §4.5).

Time is the fixture's manual clock: attempts due at ingest run right after ingest (`settle`
waits for them); retries run when the clock is moved (`advance`). No sleeps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.connection_helpers import other_org_client
from tests.api.event_helpers import (
    UNKNOWN_ID,
    advance,
    create_connection,
    create_rule,
    deliveries,
    emit,
    settle,
    webhook_connection,
)
from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import emulator_of


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rx:
        yield rx


def event_of(api: httpx.Client, event_id: str) -> dict[str, Any]:
    body: dict[str, Any] = api.get(f"/events/{event_id}").json()
    return body


def rule_event(api: httpx.Client, event_id: str, rule_id: str) -> dict[str, Any]:
    return next(r for r in event_of(api, event_id)["rule_events"] if r["rule"] == rule_id)


def attempts(api: httpx.Client, event_id: str, rule_id: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = api.get(f"/events/{event_id}/rules/{rule_id}/attempts").json()["records"]
    return records[::-1]  # oldest first


# -- the end-to-end scenario ---------------------------------------------------------


def test_done_when_scenario(
    api: httpx.Client,
    ingest: httpx.Client,
    meshes_server: MeshesServer,
    receiver: Receiver,
    ws: str,
) -> None:
    receiver.replies["/fail"] = Reply(500, {"Content-Type": "text/plain"}, b"boom")
    good = webhook_connection(api, ws, receiver.url + "/ok", name="good",
                              signing_algorithm="sha256", signing_secret="whsec-1")
    bad = webhook_connection(api, ws, receiver.url + "/fail", name="bad",
                             signing_algorithm="sha512", signing_secret="whsec-2")
    hubspot = create_connection(api, ws, "hubspot")
    r_good = create_rule(api, ws, good["id"])
    r_bad = create_rule(api, ws, bad["id"])
    r_hub = create_rule(api, ws, hubspot["id"], action="add_to_list", metadata={"id": "42"})

    created = emit(ingest, payload={"email": "Ada@Example.com ", "first_name": "Ada",
                                    "last_name": "Lovelace", "plan": "pro"})
    settle(meshes_server)
    middle = event_of(api, created["id"])
    assert middle["status"] == "retrying"
    assert rule_event(api, created["id"], r_bad["id"])["status"] == "retrying"
    for delay in (1, 2, 4):  # the default schedule
        advance(meshes_server, delay)

    event = event_of(api, created["id"])
    statuses = {r["rule"]: r for r in event["rule_events"]}
    assert statuses[r_good["id"]]["status"] == "completed"
    assert statuses[r_hub["id"]]["status"] == "completed"
    failed = statuses[r_bad["id"]]
    assert failed["status"] == "failed"
    assert failed["attempt_count"] == 4
    assert failed["last_error"] == (
        "rejected_server_error: Webhook endpoint answered HTTP 500 Internal Server Error"
    )
    assert failed["completed_at"] == "2026-01-01T00:00:07.000Z"
    assert event["status"] == "failed"
    assert (event["total_rules"], event["completed_count"], event["failed_count"]) == (3, 2, 1)
    assert event["started_at"] == "2026-01-01T00:00:00.000Z"
    assert event["completed_at"] == "2026-01-01T00:00:07.000Z"

    # The HubSpot sink holds the mapped contact.
    (sink,) = deliveries(meshes_server, connection=hubspot["id"])
    upsert, membership = sink["request"]["requests"]
    assert upsert["body"]["inputs"][0]["properties"] == {
        "email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"
    }
    assert membership["url"].endswith("/contacts/v1/lists/42/add")
    assert sink["outcome_code"] == "delivered" and sink["event_id"] == created["id"]

    # The receiver saw signed requests.
    (ok,) = receiver.on("/ok")
    expected = "sha256=" + hmac.new(b"whsec-1", ok.body, hashlib.sha256).hexdigest()
    assert ok.headers["X-Meshes-Signature"] == expected
    assert json.loads(ok.body)["uuid"] == created["id"]
    failures = receiver.on("/fail")
    assert len(failures) == 4
    for request in failures:
        digest = hmac.new(b"whsec-2", request.body, hashlib.sha512).hexdigest()
        assert request.headers["X-Meshes-Signature"] == "sha512=" + digest

    # Attempts tell the same story.
    history = attempts(api, created["id"], r_bad["id"])
    assert [a["attempt_number"] for a in history] == [1, 2, 3, 4]
    assert {a["outcome_code"] for a in history} == {"rejected_server_error"}
    assert [a["started_at"][17:23] for a in history] == ["00.000", "01.000", "03.000", "07.000"]
    details = api.get(
        f"/events/{created['id']}/rules/{r_bad['id']}/attempts/{history[-1]['id']}/response-details"
    ).json()
    assert details["http_status"] == 500 and details["body"] == "boom"
    assert details["attempt_id"] == history[-1]["id"]


# -- matching --------------------------------------------------------------------------------


def test_matching_rules_only(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str
) -> None:
    slack = create_connection(api, ws, "slack")

    def rule(event: str = "user.signup", **extra: Any) -> str:
        metadata = {"id": "C1", "template": "x", **extra.pop("metadata", {})}
        return str(create_rule(api, ws, slack["id"], event, action="send_message",
                               metadata=metadata, **extra)["id"])

    plain = rule(metadata={"n": "1"})
    hidden = rule(metadata={"n": "2"}, hidden=True)
    by_resource = rule(metadata={"n": "3"}, resource="users")
    by_id = rule(metadata={"n": "4"}, resource="users", resource_id="u1")
    rule(metadata={"n": "5"}, active=False)
    rule("user.login", metadata={"n": "6"})
    rule(metadata={"n": "7"}, resource="orders")
    rule(metadata={"n": "8"}, resource_id="u2")
    other_ws, _ = meshes_server.create_workspace("Elsewhere")
    other_slack = create_connection(api, other_ws, "slack")
    create_rule(api, other_ws, other_slack["id"], action="send_message",
                metadata={"id": "C", "template": "x"})

    created = emit(ingest, resource="users", resource_id="u1")
    event = event_of(api, created["id"])
    assert event["total_rules"] == 4
    assert {r["rule"] for r in event["rule_events"]} == {plain, hidden, by_resource, by_id}
    plain_event = emit(ingest)
    assert {r["rule"] for r in event_of(api, plain_event["id"])["rule_events"]} == {plain, hidden}


def test_deleted_rule_stops_routing(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str
) -> None:
    slack = create_connection(api, ws, "slack")
    rule = create_rule(api, ws, slack["id"], action="send_message",
                       metadata={"id": "C1", "template": "x"})
    first = emit(ingest)
    api.delete(f"/rules/{rule['id']}")
    second = emit(ingest)
    settle(meshes_server)
    assert event_of(api, first["id"])["status"] == "completed"  # queued before: still delivered
    assert event_of(api, second["id"])["total_rules"] == 0


def test_inactive_connection_fails_with_auth_failed(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str
) -> None:
    slack = create_connection(api, ws, "slack")
    rule = create_rule(api, ws, slack["id"], action="send_message",
                       metadata={"id": "C1", "template": "x"})
    meshes_server.admin("POST", f"/connections/{slack['id']}/deactivate",
                        {"reason": "oauth_authorization_revoked"})
    created = emit(ingest)
    settle(meshes_server)
    state = rule_event(api, created["id"], rule["id"])
    assert state["status"] == "failed" and state["attempt_count"] == 1
    assert state["last_error"] == (
        "auth_failed: Connection is inactive (oauth_authorization_revoked); "
        "reconnect it and retry the delivery"
    )
    assert deliveries(meshes_server, connection=slack["id"]) == []
    retry = api.post(f"/events/{created['id']}/rules/{rule['id']}/retry")
    assert retry.status_code == 422
    meshes_server.admin("POST", f"/connections/{slack['id']}/activate")
    assert api.post(f"/events/{created['id']}/rules/{rule['id']}/retry").status_code == 200
    settle(meshes_server)
    assert rule_event(api, created["id"], rule["id"])["status"] == "completed"


# -- connectors ------------------------------------------------------------------------------


def test_webhook_raw_mode_put_with_basic_auth_and_headers(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    hook = webhook_connection(api, ws, receiver.url + "/raw", payload_mode="raw", http_method="PUT",
                              auth_scheme="basic", basic_username="u", basic_password="p",
                              headers=[{"name": "X-Tenant", "value": "acme"}])
    create_rule(api, ws, hook["id"])
    created = emit(ingest, resource="users", resource_id="u-9")
    settle(meshes_server)
    (request,) = receiver.on("/raw")
    assert request.method == "PUT"
    assert json.loads(request.body) == {"email": "ada@example.com", "first_name": "Ada"}
    assert request.headers["Authorization"] == "Basic dTpw"
    assert request.headers["X-Tenant"] == "acme"
    assert request.headers["X-Meshes-Event-Id"] == created["id"]
    assert request.headers["X-Meshes-Resource-Id"] == "u-9"
    (sink,) = deliveries(meshes_server, connection=hook["id"])
    assert sink["request"]["headers"]["Authorization"] == "***"


def test_webhook_timeout_then_network_error(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    emulator_of(meshes_server).dispatcher.webhook_timeout = 0.2
    release = threading.Event()
    receiver.replies["/slow"] = Reply(200, block=release)
    hook = webhook_connection(api, ws, receiver.url + "/slow", name="slow")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)
    release.set()
    state = rule_event(api, created["id"], rule["id"])
    assert state["status"] == "retrying"
    assert state["last_error"] == "timeout: Webhook request timed out after 0.2s"
    (attempt,) = attempts(api, created["id"], rule["id"])
    assert attempt["outcome_code"] == "timeout" and attempt["http_status"] is None


def test_webhook_refused_connection_is_network_error(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hook = webhook_connection(api, ws, f"http://127.0.0.1:{port}/gone")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)
    (attempt,) = attempts(api, created["id"], rule["id"])
    assert attempt["outcome_code"] == "network_error"
    assert rule_event(api, created["id"], rule["id"])["status"] == "retrying"


def test_rate_limited_honours_retry_after(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    receiver.replies["/busy"] = Reply(429, {"Retry-After": "30"})
    hook = webhook_connection(api, ws, receiver.url + "/busy")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)
    assert meshes_server.admin("GET", "/idle")["next_due"] == "2026-01-01T00:00:30.000Z"
    advance(meshes_server, 29)
    assert len(receiver.on("/busy")) == 1
    receiver.replies["/busy"] = Reply(204)
    advance(meshes_server, 1)
    state = rule_event(api, created["id"], rule["id"])
    assert state["status"] == "completed" and state["attempt_count"] == 2


@pytest.mark.parametrize(
    ("status", "code", "final"),
    [(404, "destination_not_found", "failed"), (410, "destination_gone", "failed"),
     (401, "auth_failed", "failed"), (503, "rejected_server_error", "retrying"),
     (301, "delivered", "completed")],
)
def test_webhook_status_classification(
    api: httpx.Client,
    ingest: httpx.Client,
    meshes_server: MeshesServer,
    receiver: Receiver,
    ws: str,
    status: int,
    code: str,
    final: str,
) -> None:
    receiver.replies["/s"] = Reply(status, {"Location": "http://127.0.0.1:1/"})
    hook = webhook_connection(api, ws, receiver.url + "/s")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)
    (attempt,) = attempts(api, created["id"], rule["id"])
    assert attempt["outcome_code"] == code and attempt["http_status"] == status
    assert rule_event(api, created["id"], rule["id"])["status"] == final


def test_simulated_refusals_fail_at_once(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str
) -> None:
    slack = create_connection(api, ws, "slack")
    hubspot = create_connection(api, ws, "hubspot")
    no_channel = create_rule(api, ws, slack["id"], action="send_message",
                             metadata={"template": "hi"})
    needs_email = create_rule(api, ws, hubspot["id"], action="add_to_list", metadata={"id": "1"})
    created = emit(ingest, payload={"first_name": "NoMail"})
    settle(meshes_server)
    slack_state = rule_event(api, created["id"], no_channel["id"])
    assert slack_state["status"] == "failed" and slack_state["attempt_count"] == 1
    assert slack_state["last_error"].startswith("invalid_request: slack send_message: rule metadata.id")
    hub_state = rule_event(api, created["id"], needs_email["id"])
    assert hub_state["status"] == "failed"
    assert hub_state["last_error"].startswith("mapping_error: Mapping failed: email")
    assert deliveries(meshes_server, event=created["id"]) == []
    (attempt,) = attempts(api, created["id"], needs_email["id"])
    details = api.get(f"/events/{created['id']}/rules/{needs_email['id']}/attempts/"
                      f"{attempt['id']}/response-details").json()
    assert details == {"attempt_id": attempt["id"], "http_status": None,
                       "provider_error_code": None, "headers": {}, "body": None}


def test_slack_message_rendered_into_sink(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str
) -> None:
    slack = create_connection(api, ws, "slack")
    rule = create_rule(api, ws, slack["id"], "order.paid", action="send_message",
                       metadata={"id": "C9", "template": "{{user.name}} paid {{amount}}{{x}}"})
    created = emit(ingest, event="order.paid", payload={"user": {"name": "Ada"}, "amount": 12.5})
    settle(meshes_server)
    (sink,) = deliveries(meshes_server, rule=rule["id"])
    (call,) = sink["request"]["requests"]
    assert call["body"] == {"channel": "C9", "text": "Ada paid 12.5"}
    assert sink["event_id"] == created["id"] and sink["integration_type"] == "slack"


def test_deliveries_filters(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, ws: str
) -> None:
    slack = create_connection(api, ws, "slack")
    discord = create_connection(api, ws, "discord")
    r1 = create_rule(api, ws, slack["id"], action="send_message", metadata={"id": "C", "template": "a"})
    r2 = create_rule(api, ws, discord["id"], action="send_message",
                     metadata={"id": "D", "title": "t", "template": "b"})
    e1, e2 = emit(ingest), emit(ingest)
    settle(meshes_server)
    assert len(deliveries(meshes_server)) == 4
    assert len(deliveries(meshes_server, workspace=ws)) == 4
    assert {d["rule"] for d in deliveries(meshes_server, connection=slack["id"])} == {r1["id"]}
    assert {d["connection"] for d in deliveries(meshes_server, rule=r2["id"])} == {discord["id"]}
    assert {d["event_id"] for d in deliveries(meshes_server, event=e2["id"])} == {e2["id"]}
    assert [d["event_id"] for d in deliveries(meshes_server, integration_type="slack")] == [
        e1["id"], e2["id"]]
    assert deliveries(meshes_server, workspace=UNKNOWN_ID) == []
    with httpx.Client(base_url=meshes_server.url) as raw:
        assert raw.get("/_emulator/deliveries?limit=0").status_code == 400


# -- manual retry (§10.6) --------------------------------------------------------------------


@pytest.fixture
def failing(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event whose webhook rule failed permanently (404): (event, rule)."""
    receiver.replies["/h"] = Reply(404, {}, b'{"code": "no_such_hook"}')
    hook = webhook_connection(api, ws, receiver.url + "/h")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)
    assert rule_event(api, created["id"], rule["id"])["status"] == "failed"
    return created, rule


def test_retry_failed_rule_then_completed(
    api: httpx.Client,
    meshes_server: MeshesServer,
    receiver: Receiver,
    failing: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    created, rule = failing
    assert event_of(api, created["id"])["failed_count"] == 1
    receiver.replies["/h"] = Reply(200)
    response = api.post(f"/events/{created['id']}/rules/{rule['id']}/retry")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "retrying" and body["rule"] == rule["id"] and "completed_at" not in body
    settle(meshes_server)
    event = event_of(api, created["id"])
    assert event["status"] == "completed"
    assert (event["completed_count"], event["failed_count"]) == (1, 0)
    history = attempts(api, created["id"], rule["id"])
    assert [(a["attempt_number"], a["trigger"], a["outcome_code"]) for a in history] == [
        (1, "scheduled", "destination_not_found"), (2, "manual", "delivered")]
    assert rule_event(api, created["id"], rule["id"])["last_error"].startswith(
        "destination_not_found")


def test_retry_of_completed_or_canceled_conflicts(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    hook = webhook_connection(api, ws, receiver.url + "/ok")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)
    response = api.post(f"/events/{created['id']}/rules/{rule['id']}/retry")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "The rule event is already completed"
    receiver.replies["/down"] = Reply(500)
    down = webhook_connection(api, ws, receiver.url + "/down", name="down")
    rule2 = create_rule(api, ws, down["id"], "order.paid")
    second = emit(ingest, event="order.paid")
    settle(meshes_server)
    assert api.post(f"/events/{second['id']}/rules/{rule2['id']}/cancel").status_code == 200
    again = api.post(f"/events/{second['id']}/rules/{rule2['id']}/retry")
    assert again.status_code == 409


def test_retry_too_early_when_retry_is_imminent(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    receiver.replies["/down"] = Reply(500)
    hook = webhook_connection(api, ws, receiver.url + "/down")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)  # attempt 1 failed at t0, retry due t0+1s
    response = api.post(f"/events/{created['id']}/rules/{rule['id']}/retry")
    assert response.status_code == 425
    assert response.json()["error"]["name"] == "TooEarly"
    advance(meshes_server, 1)  # attempt 2 fails at t0+1, retry due t0+3s: not imminent
    forced = api.post(f"/events/{created['id']}/rules/{rule['id']}/retry")
    assert forced.status_code == 200
    settle(meshes_server)
    history = attempts(api, created["id"], rule["id"])
    assert [(a["attempt_number"], a["trigger"]) for a in history] == [
        (1, "scheduled"), (2, "scheduled"), (3, "manual")]
    assert history[2]["started_at"] == "2026-01-01T00:00:01.000Z"


def test_retry_too_early_while_in_flight_and_cancel_in_flight(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    release = threading.Event()
    receiver.replies["/slow"] = Reply(500, block=release)
    hook = webhook_connection(api, ws, receiver.url + "/slow")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    assert receiver.arrived.wait(10)
    assert rule_event(api, created["id"], rule["id"])["status"] == "processing"
    assert event_of(api, created["id"])["status"] == "processing"
    response = api.post(f"/events/{created['id']}/rules/{rule['id']}/retry")
    assert response.status_code == 425
    assert "in flight" in response.json()["error"]["message"]
    canceled = api.post(f"/events/{created['id']}/rules/{rule['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    release.set()
    settle(meshes_server)
    state = rule_event(api, created["id"], rule["id"])
    assert state["status"] == "canceled" and state["attempt_count"] == 1
    (attempt,) = attempts(api, created["id"], rule["id"])
    assert attempt["outcome_code"] == "rejected_server_error"  # the in-flight request finished
    assert meshes_server.admin("GET", "/idle")["scheduled"] == 0
    assert event_of(api, created["id"])["status"] == "canceled"


def test_retry_of_deleted_rule_is_unprocessable(
    api: httpx.Client, failing: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    created, rule = failing
    api.delete(f"/rules/{rule['id']}")
    response = api.post(f"/events/{created['id']}/rules/{rule['id']}/retry")
    assert response.status_code == 422
    assert "deleted" in response.json()["error"]["message"]


def test_retry_not_found_cases(
    api: httpx.Client, meshes_server: MeshesServer, failing: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    created, rule = failing
    unknown_event = api.post(f"/events/{UNKNOWN_ID}/rules/{rule['id']}/retry")
    assert unknown_event.status_code == 404
    assert unknown_event.json()["message"] == "Event not found"
    unknown_rule = api.post(f"/events/{created['id']}/rules/{UNKNOWN_ID}/retry")
    assert unknown_rule.status_code == 404
    assert unknown_rule.json()["message"] == "Rule event not found"
    other, _ = other_org_client(meshes_server)
    with other:
        assert other.post(f"/events/{created['id']}/rules/{rule['id']}/retry").status_code == 404


# -- attempts (§10.7-10.9) -------------------------------------------------------------------


def test_attempt_list_detail_and_details(
    api: httpx.Client, failing: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    created, rule = failing
    base = f"/events/{created['id']}/rules/{rule['id']}/attempts"
    page = api.get(base).json()
    assert page["count"] == 1 and page["limit"] == 50 and page["next_cursor"] is None
    (attempt,) = page["records"]
    assert attempt["event_id"] == created["id"] and attempt["rule_id"] == rule["id"]
    assert attempt["outcome_code"] == "destination_not_found" and attempt["http_status"] == 404
    assert attempt["duration_ms"] == 0
    assert attempt["message"] == "Webhook endpoint answered HTTP 404 Not Found"
    assert api.get(f"{base}/{attempt['id']}").json() == attempt
    details = api.get(f"{base}/{attempt['id']}/response-details").json()
    assert details["http_status"] == 404
    assert details["provider_error_code"] == "no_such_hook"
    assert details["body"] == '{"code": "no_such_hook"}'
    assert details["headers"]["content-length"] == "24"


def test_attempt_pagination(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    receiver.replies["/down"] = Reply(500)
    hook = webhook_connection(api, ws, receiver.url + "/down")
    rule = create_rule(api, ws, hook["id"])
    created = emit(ingest)
    settle(meshes_server)
    for delay in (1, 2, 4):
        advance(meshes_server, delay)
    base = f"/events/{created['id']}/rules/{rule['id']}/attempts"
    first = api.get(f"{base}?limit=3").json()
    assert [a["attempt_number"] for a in first["records"]] == [4, 3, 2]
    rest = api.get(f"{base}?limit=3&cursor={first['next_cursor']}").json()
    assert [a["attempt_number"] for a in rest["records"]] == [1]
    assert rest["next_cursor"] is None


def test_attempts_not_found(
    api: httpx.Client, meshes_server: MeshesServer, failing: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    created, rule = failing
    base = f"/events/{created['id']}/rules/{rule['id']}/attempts"
    assert api.get(f"/events/{UNKNOWN_ID}/rules/{rule['id']}/attempts").status_code == 404
    assert api.get(f"/events/{created['id']}/rules/{UNKNOWN_ID}/attempts").status_code == 404
    missing = api.get(f"{base}/{UNKNOWN_ID}")
    assert missing.status_code == 404 and missing.json()["message"] == "Attempt not found"
    assert api.get(f"{base}/{UNKNOWN_ID}/response-details").status_code == 404
    other, _ = other_org_client(meshes_server)
    with other:
        assert other.get(base).status_code == 404


# -- cancel (§10.10, §10.11) -----------------------------------------------------------------


def test_cancel_rule_in_retry_loop(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    receiver.replies["/down"] = Reply(500)
    hook = webhook_connection(api, ws, receiver.url + "/down")
    rule = create_rule(api, ws, hook["id"])
    slack = create_connection(api, ws, "slack")
    create_rule(api, ws, slack["id"], action="send_message", metadata={"id": "C", "template": "x"})
    created = emit(ingest)
    settle(meshes_server)
    response = api.post(f"/events/{created['id']}/rules/{rule['id']}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "canceled" and body["completed_at"] == "2026-01-01T00:00:00.000Z"
    event = event_of(api, created["id"])
    assert event["status"] == "canceled"
    assert (event["completed_count"], event["failed_count"]) == (1, 0)
    advance(meshes_server, 60)
    assert len(receiver.on("/down")) == 1
    again = api.post(f"/events/{created['id']}/rules/{rule['id']}/cancel")
    assert again.status_code == 409
    assert api.post(f"/events/{UNKNOWN_ID}/rules/{rule['id']}/cancel").status_code == 404
    assert api.post(f"/events/{created['id']}/rules/{UNKNOWN_ID}/cancel").status_code == 404


def test_cancel_event(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    receiver.replies["/down"] = Reply(503)
    a = create_rule(api, ws, webhook_connection(api, ws, receiver.url + "/down", name="a")["id"])
    b = create_rule(api, ws, webhook_connection(api, ws, receiver.url + "/down", name="b")["id"])
    created = emit(ingest)
    settle(meshes_server)
    response = api.post(f"/events/{created['id']}/cancel")
    assert response.status_code == 200
    event = response.json()
    assert event["status"] == "canceled" and event["completed_at"]
    assert {r["rule"]: r["status"] for r in event["rule_events"]} == {
        a["id"]: "canceled", b["id"]: "canceled"}
    assert api.post(f"/events/{created['id']}/cancel").status_code == 409
    assert api.post(f"/events/{UNKNOWN_ID}/cancel").status_code == 404
    other, _ = other_org_client(meshes_server)
    with other:
        assert other.post(f"/events/{created['id']}/cancel").status_code == 404


def test_cancel_event_without_rules_conflicts(api: httpx.Client, ingest: httpx.Client) -> None:
    created = emit(ingest)
    response = api.post(f"/events/{created['id']}/cancel")
    assert response.status_code == 409


# -- admin: settle and idle ------------------------------------------------------------------


def test_settle_reports_what_ran_and_idle(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer, receiver: Receiver, ws: str
) -> None:
    receiver.replies["/down"] = Reply(500)
    rule = create_rule(api, ws, webhook_connection(api, ws, receiver.url + "/down")["id"])
    emit(ingest)
    settle(meshes_server)
    idle = meshes_server.admin("GET", "/idle")
    assert idle["idle"] is True and idle["scheduled"] == 1 and idle["due_now"] == 0
    meshes_server.admin("POST", "/clock", {"now": "2026-01-01T00:00:01.000Z"})
    result = settle(meshes_server)
    assert result["ran"] == 0  # the clock move already ran it
    assert len(receiver.on("/down")) == 2
    assert result["next_due"] == "2026-01-01T00:00:03.000Z"
    assert rule["id"]
