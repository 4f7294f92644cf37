"""The leniency policy (issue 12 item 2): inferred checks warn by default, refuse in strict mode.

Every example input quoted by the issue is accepted by default, with the warning in the
`X-Meshes-Emulator-Warning` header, the `meshes_emulator` log and `meshes_server.warnings()`,
and refused in strict mode with the reference's 400 body (`error.data` = `[{param, msg}]`).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from meshes_emulator.catalog import MASK
from meshes_emulator.leniency import HEADER, MAX_HEADERS
from pytest_meshes import MeshesServer

PAYLOAD = {"email": "ada@example.com", "first_name": "Ada"}

# (body, the params warned about): every one an inferred check only
INFERRED_EVENTS = [
    pytest.param({"event": "user.signup", "payload": {"id": 123, "phone": 5551234, "name": None}},
                 ["payload.id", "payload.name", "payload.phone"], id="numeric-id-phone-null-name"),
    pytest.param({"event": "a", "payload": PAYLOAD, "resource_id": "user@example.com"},
                 ["resource_id"], id="resource_id-with-at"),
    pytest.param({"event": "a", "payload": PAYLOAD, "resource_id": "r" * 80},
                 ["resource_id"], id="resource_id-80-chars"),
    pytest.param({"event": "a", "payload": {}}, ["payload"], id="empty-payload"),
    pytest.param({"event": "a", "payload": {"a": "", "b": None}}, ["payload"], id="blank-values"),
    pytest.param({"event": "a", "payload": {"email": "not-an-email"}}, ["payload.email"],
                 id="malformed-email"),
    pytest.param({"event": "a", "payload": {"x": 1, "email": None}}, ["payload.email"],
                 id="null-email"),
    pytest.param({"event": "a", "payload": {"phone": True}}, ["payload.phone"], id="bool-phone"),
]


def _warned_params(response: httpx.Response) -> list[str]:
    return [value.split(":", 1)[0] for value in response.headers.get_list(HEADER)]


def _event_count(server: MeshesServer) -> int:
    with server.client() as client:
        return len(client.get("/events", params={"limit": 200}).json()["records"])


def assert_refused(response: httpx.Response, params: list[str]) -> None:
    """The reference's 400 body, naming every inferred problem; no warning header."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"] == "Bad Request"
    assert body["error"]["name"] == "BadRequest"
    assert sorted(item["param"] for item in body["error"]["data"]) == sorted(params)
    assert all(set(item) == {"param", "msg"} for item in body["error"]["data"])
    assert HEADER.lower() not in response.headers


@pytest.mark.parametrize(("body", "params"), INFERRED_EVENTS)
def test_inferred_event_checks_warn_by_default(
    meshes_server: MeshesServer, ingest: httpx.Client, caplog: pytest.LogCaptureFixture,
    body: dict[str, Any], params: list[str],
) -> None:
    with caplog.at_level(logging.WARNING, logger="meshes_emulator"):
        response = ingest.post("/events", json=body)
    assert response.status_code == 201, response.text
    assert sorted(_warned_params(response)) == sorted(params)
    assert all("strict mode" in value for value in response.headers.get_list(HEADER))
    assert HEADER in response.headers["access-control-expose-headers"]  # browsers can read it
    warnings = meshes_server.warnings()
    assert sorted(w["param"] for w in warnings) == sorted(params)
    assert {w["method"] for w in warnings} == {"POST"} and {w["path"] for w in warnings} == {"/events"}
    assert {w["check"] for w in warnings} <= {"event.payload", "event.resource_id"}
    logged = [r.getMessage() for r in caplog.records if r.name == "meshes_emulator"]
    assert sorted(line.split("warning: ", 1)[1].split(":", 1)[0] for line in logged) == sorted(params)
    # stored as sent (the reference OpenAPI types these keys as strings, so read unchecked)
    event_id = response.json()["event"]["id"]
    with meshes_server.client() as client:
        stored = client.get(f"/events/{event_id}/payload").json()
    assert stored["payload"] == body["payload"]
    assert stored.get("resource_id") == body.get("resource_id")


@pytest.mark.meshes(strict=True)
@pytest.mark.parametrize(("body", "params"), INFERRED_EVENTS)
def test_inferred_event_checks_refuse_in_strict_mode(
    meshes_server: MeshesServer, ingest: httpx.Client, body: dict[str, Any], params: list[str]
) -> None:
    assert_refused(ingest.post("/events", json=body), params)
    assert _event_count(meshes_server) == 0
    assert meshes_server.warnings() == []


def test_no_warning_no_header(meshes_server: MeshesServer, ingest: httpx.Client) -> None:
    response = ingest.post("/events", json={"event": "a", "payload": PAYLOAD, "resource_id": "u:1"})
    assert response.status_code == 201
    assert HEADER.lower() not in response.headers
    assert meshes_server.warnings() == []


def test_a_documented_problem_still_refuses_and_names_only_itself(ingest: httpx.Client) -> None:
    response = ingest.post("/events", json={"event": "", "payload": {"id": 1}})
    assert response.status_code == 400
    assert [item["param"] for item in response.json()["error"]["data"]] == ["event"]


def test_bulk_items_warn_with_their_index(meshes_server: MeshesServer, ingest: httpx.Client) -> None:
    items = [{"event": "a", "payload": {"id": 1}}, {"event": "a", "payload": PAYLOAD},
             {"event": "a", "payload": PAYLOAD, "resource_id": "a b"}]
    response = ingest.post("/events/bulk", json=items)
    assert response.status_code == 201, response.text
    assert _warned_params(response) == ["[0].payload.id", "[2].resource_id"]
    assert [w["param"] for w in meshes_server.warnings()] == ["[0].payload.id", "[2].resource_id"]


@pytest.mark.meshes(strict=True)
def test_bulk_items_refused_one_by_one_in_strict_mode(
    meshes_server: MeshesServer, ingest: httpx.Client
) -> None:
    items = [{"event": "a", "payload": {"id": 1}}, {"event": "a", "payload": PAYLOAD}]
    response = ingest.post("/events/bulk", json=items)
    assert response.status_code == 207, response.text
    first, second = response.json()["records"]
    assert first["error"]["data"] == [{"param": "[0].payload.id", "msg": "must be a string"}]
    assert "id" in second
    assert _event_count(meshes_server) == 1


def test_many_warnings_are_capped_in_headers(meshes_server: MeshesServer, ingest: httpx.Client) -> None:
    items = [{"event": "a", "payload": {"id": n, "phone": n}} for n in range(15)]
    response = ingest.post("/events/bulk", json=items)
    assert response.status_code == 201
    values = response.headers.get_list(HEADER)
    assert len(values) == MAX_HEADERS + 1
    assert values[-1] == "10 more warning(s): GET /_emulator/warnings"
    assert len(meshes_server.warnings()) == 30


def test_reset_clears_warnings_and_sets_the_mode(
    meshes_server: MeshesServer, ingest: httpx.Client
) -> None:
    ingest.post("/events", json={"event": "a", "payload": {"id": 1}})
    listing = meshes_server.admin("GET", "/warnings")
    assert listing["strict"] is False and listing["count"] == 1
    meshes_server.reset(strict=True)
    assert meshes_server.admin("GET", "/warnings") == {"strict": True, "count": 0, "records": []}
    with meshes_server.ingest_client() as client:
        assert client.post("/events", json={"event": "a", "payload": {"id": 1}}).status_code == 400
    meshes_server.reset()  # no `strict`: the mode is kept
    assert meshes_server.admin("GET", "/warnings")["strict"] is True
    meshes_server.admin("POST", "/reset", {"strict": None})  # null: the configured mode
    assert meshes_server.admin("GET", "/warnings")["strict"] is False


def test_reset_refuses_a_non_boolean_strict(raw: httpx.Client) -> None:
    response = raw.post("/_emulator/reset", json={"strict": "yes"})
    assert response.status_code == 400
    assert response.json()["error"]["data"] == [{"param": "strict", "msg": "must be a boolean"}]


def test_header_values_are_ascii_one_line() -> None:
    from meshes_emulator.leniency import header_value

    assert header_value("metadata.action: 'café\r\nX: y'") == "metadata.action: 'caf\\xe9  X: y'"
    assert len(header_value("x" * 5000)) == 512


# -- rules and connections --------------------------------------------------------------------

# (integration type, connection metadata, action): actions the official clients' examples and
# fixtures send that the catalog does not list for that type
UNKNOWN_ACTIONS = [
    pytest.param("hubspot", "create_or_update_contact", id="mcp-create_or_update_contact"),
    pytest.param("activecampaign", "add_contact", id="go-add_contact"),
    pytest.param("hubspot", "sync_contact", id="go-sync_contact"),
]
# (type, metadata, the params warned about): metadata without the catalog's credential fields
SLOPPY_METADATA = [
    pytest.param("webhook", {"endpoint": "https://hooks.example.com/in"}, ["metadata.url"],
                 id="mcp-webhook-endpoint"),
    pytest.param("customer_io", {"source": "test"}, ["metadata.cdpApiKey"], id="go-customer-io"),
    pytest.param("sendgrid", {}, ["metadata.api_key"], id="empty"),
    pytest.param("mailchimp", {"api_key": "k", "data_center": "eu"}, ["metadata.data_center"],
                 id="data-center-shape"),
]


def _connection(api: httpx.Client, server: MeshesServer, integration_type: str) -> dict[str, Any]:
    from tests.api.connection_helpers import create

    return create(api, server.workspace_id or "", integration_type)


def _rule_body(server: MeshesServer, connection: dict[str, Any], action: str) -> dict[str, Any]:
    return {"workspace": server.workspace_id, "connection": connection["id"],
            "event": "user.signup", "metadata": {"action": action, "id": "5"}}


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "meshes_emulator"]


@pytest.mark.parametrize(("integration_type", "action"), UNKNOWN_ACTIONS)
def test_unknown_rule_action_is_accepted_with_a_warning_and_fails_delivery_clearly(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client,
    caplog: pytest.LogCaptureFixture, integration_type: str, action: str,
) -> None:
    connection = _connection(api, meshes_server, integration_type)
    with caplog.at_level(logging.WARNING, logger="meshes_emulator"):
        response = api.post("/rules", json=_rule_body(meshes_server, connection, action))
    assert response.status_code == 201, response.text
    assert response.json()["rule"]["metadata"]["action"] == action
    (header,) = response.headers.get_list(HEADER)
    assert header.startswith(f"metadata.action: '{action}' is not an action of {integration_type}")
    (warning,) = meshes_server.warnings()
    assert warning["check"] == "rule.metadata.action" and warning["path"] == "/rules"
    assert any(f"'{action}' is not an action" in line for line in _logged(caplog))
    event = ingest.post("/events", json={"event": "user.signup", "payload": PAYLOAD}).json()["event"]
    (delivery,) = meshes_server.rule_events(event=event)
    assert delivery["status"] == "failed"
    explained = meshes_server.explain(event)
    (rule,) = explained["rules"]
    (attempt,) = rule["delivery"]["attempts"]
    assert attempt["outcome_code"] == "invalid_request"
    assert f"{integration_type} has no action '{action}' (its actions: " in attempt["message"]
    assert any(f"no action '{action}'" in line for line in explained["timeline"])


@pytest.mark.meshes(strict=True)
@pytest.mark.parametrize(("integration_type", "action"), UNKNOWN_ACTIONS)
def test_unknown_rule_action_is_refused_in_strict_mode(
    meshes_server: MeshesServer, api: httpx.Client, integration_type: str, action: str
) -> None:
    connection = _connection(api, meshes_server, integration_type)
    assert_refused(api.post("/rules", json=_rule_body(meshes_server, connection, action)),
                   ["metadata.action"])
    assert api.get("/rules").json()["count"] == 0


def test_webhook_rule_with_another_action_still_posts(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client
) -> None:
    """A webhook has one thing to do (post the event): its rule's action does not change it."""
    from tests.api.event_helpers import webhook_connection

    hook = webhook_connection(api, meshes_server.workspace_id or "", "http://127.0.0.1:9/x")
    response = api.post("/rules", json=_rule_body(meshes_server, hook, "do_thing"))
    assert response.status_code == 201
    assert len(response.headers.get_list(HEADER)) == 1
    event = ingest.post("/events", json={"event": "user.signup", "payload": PAYLOAD}).json()["event"]
    meshes_server.settle()
    (attempt,) = meshes_server.explain(event)["rules"][0]["delivery"]["attempts"]
    assert attempt["outcome_code"] == "network_error"  # it was sent (nothing listens on :9)


@pytest.mark.parametrize(("integration_type", "metadata", "params"), SLOPPY_METADATA)
def test_missing_credential_fields_are_accepted_with_a_warning(
    meshes_server: MeshesServer, api: httpx.Client, caplog: pytest.LogCaptureFixture,
    integration_type: str, metadata: dict[str, Any], params: list[str],
) -> None:
    body = {"workspace": meshes_server.workspace_id, "type": integration_type, "name": "Loose",
            "metadata": metadata}
    with caplog.at_level(logging.WARNING, logger="meshes_emulator"):
        response = api.post("/connections", json=body)
    assert response.status_code == 201, response.text
    stored = response.json()["connection"]["metadata"]
    assert all(stored[key] in (value, MASK) for key, value in metadata.items())  # kept as given
    assert _warned_params(response) == params
    assert [w["param"] for w in meshes_server.warnings()] == params
    assert {w["check"] for w in meshes_server.warnings()} == {"connection.metadata"}
    assert len(_logged(caplog)) == len(params)
    # the same on update
    updated = api.put(f"/connections/{response.json()['connection']['id']}",
                      json={"name": "Loose", "metadata": metadata})
    assert updated.status_code == 200 and _warned_params(updated) == params


@pytest.mark.meshes(strict=True)
@pytest.mark.parametrize(("integration_type", "metadata", "params"), SLOPPY_METADATA)
def test_missing_credential_fields_are_refused_in_strict_mode(
    meshes_server: MeshesServer, api: httpx.Client,
    integration_type: str, metadata: dict[str, Any], params: list[str],
) -> None:
    body = {"workspace": meshes_server.workspace_id, "type": integration_type, "name": "Loose",
            "metadata": metadata}
    assert_refused(api.post("/connections", json=body), params)
    assert api.get("/connections").json()["count"] == 0


def test_a_documented_metadata_problem_names_inferred_ones_only_in_strict_mode(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    body = {"workspace": meshes_server.workspace_id, "type": "webhook", "name": "Hook",
            "metadata": {"url": "http://hooks.example.com/x", "auth_scheme": "bearer"}}
    response = api.post("/connections", json=body)  # plain http off loopback: documented
    assert response.status_code == 400
    assert [d["param"] for d in response.json()["error"]["data"]] == ["metadata.url"]
    meshes_server.reset(strict=True)
    with meshes_server.client() as client:
        strict = client.post("/connections", json=body)
    assert sorted(d["param"] for d in strict.json()["error"]["data"]) == [
        "metadata.bearer_token", "metadata.url"]


@pytest.mark.parametrize(
    ("integration_type", "metadata", "outcome", "needle"),
    [
        pytest.param("webhook", {"endpoint": "https://hooks.example.com/in"}, "invalid_request",
                     "metadata.url: url is required", id="webhook-without-url"),
        pytest.param("customer_io", {"source": "test"}, "auth_failed",
                     "customer_io connection has no cdpApiKey", id="customer-io-without-key"),
    ],
)
def test_a_delivery_that_needs_a_missing_field_fails_clearly(
    meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client,
    integration_type: str, metadata: dict[str, Any], outcome: str, needle: str,
) -> None:
    body = {"workspace": meshes_server.workspace_id, "type": integration_type, "name": "Loose",
            "metadata": metadata}
    connection = api.post("/connections", json=body).json()["connection"]
    from meshes_emulator.catalog import action_keys

    action = action_keys(integration_type)[0]
    assert api.post("/rules", json=_rule_body(meshes_server, connection, action)).status_code == 201
    event = ingest.post("/events", json={"event": "user.signup", "payload": PAYLOAD}).json()["event"]
    meshes_server.settle()
    (attempt,) = meshes_server.explain(event)["rules"][0]["delivery"]["attempts"]
    assert attempt["outcome_code"] == outcome
    assert needle in attempt["message"]
    (delivery,) = meshes_server.rule_events(event=event)
    assert delivery["status"] == "failed" and needle in delivery["last_error"]


def test_seed_files_follow_the_mode(meshes_server: MeshesServer, tmp_path: Any) -> None:
    path = tmp_path / "loose.yaml"
    path.write_text("workspaces:\n  - name: Loose\n    connections:\n"
                    "      - {name: Hook, type: webhook, metadata: {endpoint: 'https://e.com/x'}}\n")
    meshes_server.reset(fixtures=[str(path)])
    assert [w["param"] for w in meshes_server.warnings()] == ["metadata.url"]
    with httpx.Client(base_url=meshes_server.url) as raw:
        refused = raw.post("/_emulator/reset", json={"fixtures": [str(path)], "strict": True})
    assert refused.status_code == 400 and "metadata.url" in refused.json()["error"]["message"]


# -- sessions ---------------------------------------------------------------------------------


def test_resource_fields_on_a_workspace_session_are_ignored_with_a_warning(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    body = {"workspace_id": meshes_server.workspace_id, "session_type": "workspace",
            "resource": "user", "resource_id": "u-1"}
    response = api.post("/sessions", json=body)
    assert response.status_code == 200, response.text
    assert _warned_params(response) == ["resource", "resource_id"]
    assert {w["check"] for w in meshes_server.warnings()} == {"session.resource"}
    session_id = response.json()["session_id"]
    listed = api.get("/sessions", params={"workspace_id": meshes_server.workspace_id}).json()
    (record,) = [r for r in listed["records"] if r["session_id"] == session_id]
    assert "resource" not in record and "resource_id" not in record  # ignored, not a scope


@pytest.mark.meshes(strict=True)
def test_resource_fields_on_a_workspace_session_are_refused_in_strict_mode(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    body = {"workspace_id": meshes_server.workspace_id, "resource_id": "u-1"}
    response = api.post("/sessions", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "invalid session_type"
    assert response.json()["error"]["data"] == [
        {"param": "resource_id", "msg": "is only allowed for resource sessions"}]


# -- workspaces -------------------------------------------------------------------------------


def test_workspace_update_name_outside_the_create_pattern_warns(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    path = f"/workspaces/{meshes_server.workspace_id}"
    response = api.put(path, json={"name": "Acme, Inc."})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Acme, Inc."
    assert _warned_params(response) == ["name"]
    assert [w["check"] for w in meshes_server.warnings()] == ["workspace.update.name"]
    assert api.put(path, json={"name": "Ac"}).status_code == 400  # 3-50: documented (MCP)
    created = api.post("/workspaces", json={"name": "Acme, Inc"})  # create: documented pattern
    assert created.status_code == 400


@pytest.mark.meshes(strict=True)
def test_workspace_update_name_outside_the_create_pattern_refused_in_strict_mode(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    response = api.put(f"/workspaces/{meshes_server.workspace_id}", json={"name": "Acme, Inc."})
    assert_refused(response, ["name"])


# -- snapshots --------------------------------------------------------------------------------


def test_a_snapshot_keeps_the_mode_and_a_restore_forgets_warnings(
    meshes_server: MeshesServer, ingest: httpx.Client
) -> None:
    meshes_server.reset(strict=True)
    meshes_server.save_snapshot("strict-world")
    meshes_server.reset(strict=False)
    assert ingest.post("/events", json={"event": "a", "payload": {"id": 1}}).status_code == 201
    assert len(meshes_server.warnings()) == 1
    meshes_server.restore_snapshot("strict-world")
    assert meshes_server.admin("GET", "/warnings") == {"strict": True, "count": 0, "records": []}
    with meshes_server.ingest_client() as client:
        assert client.post("/events", json={"event": "a", "payload": {"id": 1}}).status_code == 400
    meshes_server.delete_snapshot("strict-world")


def test_a_failed_reset_keeps_the_mode_and_the_warnings(
    meshes_server: MeshesServer, ingest: httpx.Client, tmp_path: Any
) -> None:
    assert ingest.post("/events", json={"event": "a", "payload": {"id": 1}}).status_code == 201
    bad = tmp_path / "bad.yaml"
    bad.write_text("workspaces:\n  - name: Bad\n    events:\n      - {event: a, payload: [1]}\n")
    with httpx.Client(base_url=meshes_server.url) as raw:
        refused = raw.post("/_emulator/reset", json={"fixtures": [str(bad)], "strict": True})
    assert refused.status_code == 400, refused.text
    listing = meshes_server.admin("GET", "/warnings")
    assert listing["strict"] is False and [w["param"] for w in listing["records"]] == ["payload.id"]


# -- default mappings -------------------------------------------------------------------------

MAPPING = {"schema_version": 1, "fields": [{"dest": "email", "source": {"type": "path", "value": "email"}}]}


def test_a_mapping_put_naming_another_workspace_warns_and_stores(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    hubspot = _connection(api, meshes_server, "hubspot")
    path = f"/connections/{hubspot['id']}/mappings/default"
    other = "00000000-0000-4000-8000-000000000000"
    response = api.put(path, json={"schema": MAPPING, "workspace_id": other})
    assert response.status_code == 200, response.text
    assert response.json()["mapping"]["workspace_id"] == meshes_server.workspace_id
    assert _warned_params(response) == ["workspace_id"]
    assert [w["check"] for w in meshes_server.warnings()] == ["mapping.workspace_id"]


@pytest.mark.meshes(strict=True)
def test_a_mapping_put_naming_another_workspace_is_422_in_strict_mode(
    meshes_server: MeshesServer, api: httpx.Client
) -> None:
    hubspot = _connection(api, meshes_server, "hubspot")
    other = "00000000-0000-4000-8000-000000000000"
    response = api.put(f"/connections/{hubspot['id']}/mappings/default",
                       json={"schema": MAPPING, "workspace_id": other})
    assert response.status_code == 422
    assert response.json()["error"]["data"] == [
        {"param": "workspace_id", "msg": "must be the connection's workspace"}]
