"""Fidelity edges a real client meets (issue: fresh-eyes audit of /api/v1).

Each test names the behaviour of the real service it keeps: a UUID is case-insensitive, so an
upper-case id names the same record as its lower-case form (RFC 9562; Postgres-style uuid
columns compare values, not spellings), in paths, bodies and queries.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from pytest_meshes import MeshesServer
from pytest_meshes.tokens import mint_token
from tests.api.event_helpers import create_connection, create_rule, emit
from tests.helpers import assert_error


@pytest.fixture
def hook(api: httpx.Client, ws: str) -> dict[str, Any]:
    return create_connection(api, ws, "webhook", name="hook",
                             metadata={"url": "https://example.com/hook"})


def test_upper_case_path_ids_name_the_same_records(api: httpx.Client, ingest: httpx.Client,
                                                   ws: str, hook: dict[str, Any]) -> None:
    rule = create_rule(api, ws, hook["id"])
    event = emit(ingest)
    assert api.get(f"/workspaces/{ws.upper()}").json()["id"] == ws
    assert api.get(f"/workspaces/{ws.upper()}/rules").json()["count"] == 1
    assert api.get(f"/connections/{hook['id'].upper()}").json()["id"] == hook["id"]
    assert api.get(f"/rules/{rule['id'].upper()}").json()["id"] == rule["id"]
    assert api.get(f"/events/{event['id'].upper()}").json()["id"] == event["id"]
    assert api.get(f"/events/{event['id'].upper()}/payload").status_code == 200
    response = api.get(f"/events/{event['id'].upper()}/rules/{rule['id'].upper()}/attempts")
    assert response.status_code == 200
    assert api.delete(f"/rules/{rule['id'].upper()}").json()["id"] == rule["id"]


def test_publishable_key_with_its_own_workspace_in_upper_case_is_accepted(
        ingest: httpx.Client, ws: str) -> None:
    response = ingest.post("/events", json={"event": "user.signup", "workspace": ws.upper(),
                                            "payload": {"email": "ada@example.com"}})
    assert response.status_code == 201, response.text
    assert response.json()["event"]["workspace"] == ws


def test_upper_case_body_ids_are_stored_lower_case(api: httpx.Client, ws: str,
                                                   hook: dict[str, Any]) -> None:
    created = api.post("/connections", json={"workspace": ws.upper(), "type": "webhook",
                                             "name": "upper", "metadata": {"url": "https://e.x/"}})
    assert created.status_code == 201, created.text
    assert created.json()["connection"]["workspace"] == ws
    rule = api.post("/rules", json={"workspace": ws.upper(), "connection": hook["id"].upper(),
                                    "event": "user.signup", "metadata": {"action": "send_webhook"}})
    assert rule.status_code == 201, rule.text
    assert (rule.json()["rule"]["workspace"], rule.json()["rule"]["connection"]) == (ws, hook["id"])
    event = api.post("/events", json={"event": "x", "workspace": ws.upper(), "payload": {"a": 1}})
    assert event.status_code == 201, event.text
    assert event.json()["event"]["workspace"] == ws
    mapping = api.put(f"/connections/{hook['id']}/mappings/default",
                      json={"workspace_id": ws.upper(),
                            "schema": {"schema_version": 1, "fields": []}})
    assert mapping.status_code == 200, mapping.text
    assert "x-meshes-emulator-warning" not in mapping.headers


def test_sessions_take_an_upper_case_workspace_id(api: httpx.Client, ws: str) -> None:
    created = api.post("/sessions", json={"workspace_id": ws.upper()})
    assert created.status_code == 200, created.text
    assert created.json()["workspace_id"] == ws
    listed = api.get("/sessions", params={"workspace_id": ws.upper()})
    assert listed.status_code == 200, listed.text
    assert [r["session_id"] for r in listed.json()["records"]] == [created.json()["session_id"]]


def test_embed_session_may_name_its_workspace_in_upper_case(
        meshes_server: MeshesServer, api: httpx.Client, ws: str) -> None:
    token = api.post("/sessions", json={"workspace_id": ws, "role": "admin"}).json()["access_token"]
    response = httpx.post(f"{meshes_server.api_url}/events",
                          json={"event": "x", "workspace": ws.upper(), "payload": {"a": 1}},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text


def test_seed_file_ids_in_upper_case_are_stored_lower_case(
        meshes_server: MeshesServer, api: httpx.Client, tmp_path: Path) -> None:
    ids = {name: str(uuid.uuid4()) for name in ("workspace", "connection", "rule", "event")}
    seed = {"workspaces": [{
        "name": "Seeded", "id": ids["workspace"].upper(),
        "connections": [{"name": "Hook", "type": "webhook", "id": ids["connection"].upper(),
                         "metadata": {"url": "https://example.com/hook"}}],
        "rules": [{"id": ids["rule"].upper(), "connection": ids["connection"].upper(),
                   "event": "user.signup", "metadata": {"action": "send_webhook"}}],
        "events": [{"id": ids["event"].upper(), "event": "user.signup", "payload": {"a": 1}}],
    }]}
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(seed))
    with httpx.Client(base_url=meshes_server.url) as raw:
        response = raw.post("/_emulator/reset", json={"fixtures": [str(path)]})
    assert response.status_code == 200, response.text
    for kind, path_of in (("workspace", "/workspaces/{}"), ("connection", "/connections/{}"),
                          ("rule", "/rules/{}"), ("event", "/events/{}")):
        for spelling in (ids[kind], ids[kind].upper()):
            assert api.get(path_of.format(spelling)).json()["id"] == ids[kind]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/workspaces/", 200),
    ("GET", "/workspaces/{ws}/", 200),
    ("GET", "/workspaces/{ws}/events/", 200),
    ("GET", "/rules/", 200),
    ("GET", "/workspaces/00000000-0000-4000-8000-000000000000/", 404),
    ("DELETE", "/workspaces/{ws}/", 405),
])
def test_a_trailing_slash_is_the_same_resource(meshes_server: MeshesServer, ws: str, method: str,
                                               path: str, status: int) -> None:
    with meshes_server.client() as plain:  # not contract-checked: the spec has no slash paths
        response = plain.request(method, path.format(ws=ws))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()


def test_a_write_with_a_trailing_slash_is_the_write(meshes_server: MeshesServer,
                                                    api: httpx.Client) -> None:
    with meshes_server.client() as plain, meshes_server.ingest_client() as ingest:
        created = plain.post("/workspaces/", json={"name": "Slashed"})
        event = ingest.post("/events/", json={"event": "x", "payload": {"a": 1}})
    assert created.status_code == 201, created.text
    assert event.status_code == 201, event.text
    assert api.get("/workspaces").json()["count"] == 2


# -- JSON has one number type: 3600.0 is the integer 3600 (JSON Schema, the reference OpenAPI 3.1)


def test_session_ttls_may_be_sent_as_whole_floats(api: httpx.Client, ws: str) -> None:
    response = api.post("/sessions", json={"workspace_id": ws, "ttl_seconds": 600.0,
                                           "launch_ttl_seconds": 45.0})
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 600
    refused = api.post("/sessions", json={"workspace_id": ws, "ttl_seconds": 600.5})
    assert_error(refused, 400, "BadRequest")


def test_mapping_integers_may_be_sent_as_whole_floats(api: httpx.Client,
                                                      hook: dict[str, Any]) -> None:
    url = f"/connections/{hook['id']}/mappings/default"
    field = {"dest": "name", "source": {"type": "path", "value": "name"},
             "transforms": [{"type": "substring", "start": 1.0, "length": 2.0}]}
    first = api.put(url, json={"schema": {"schema_version": 1.0, "fields": [field]}})
    assert first.status_code == 200, first.text
    stored = first.json()["mapping"]
    transform = stored["schema"]["fields"][0]["transforms"][0]
    assert transform == {"type": "substring", "start": 1, "length": 2}
    assert isinstance(transform["start"], int)
    second = api.put(url, json={"schema": {"schema_version": 1, "fields": []},
                                "expected_version": float(stored["version"])})
    assert second.status_code == 200, second.text
    fraction = api.put(url, json={"schema": {"schema_version": 1, "fields": [
        {**field, "transforms": [{"type": "substring", "start": 0.5}]}]}})
    assert_error(fraction, 422, "UnprocessableEntity")


# -- a UTF-8 byte order mark before the JSON (RFC 8259 §8.1; .NET and PowerShell write one)

BOM = b"\xef\xbb\xbf"
JSON = {"content-type": "application/json"}


def test_a_byte_order_mark_before_the_json_is_skipped(api: httpx.Client,
                                                      ingest: httpx.Client) -> None:
    created = api.post("/workspaces", content=BOM + b'{"name": "Bommed"}', headers=JSON)
    assert created.status_code == 201, created.text
    event = ingest.post("/events", content=BOM + b'{"event": "x", "payload": {"a": 1}}',
                        headers=JSON)
    assert event.status_code == 201, event.text
    bulk = ingest.post("/events/bulk", content=BOM + b'[{"event": "x", "payload": {"a": 1}}]',
                       headers=JSON)
    assert bulk.status_code == 201, bulk.text
    assert_error(api.post("/workspaces", content=BOM, headers=JSON), 400, "BadRequest")


def test_a_byte_order_mark_does_not_hide_a_body_from_the_session_scope(
        meshes_server: MeshesServer, api: httpx.Client, ws: str) -> None:
    session = api.post("/sessions", json={"workspace_id": ws, "role": "admin",
                                          "session_type": "resource", "resource": "user",
                                          "resource_id": "u-1"}).json()
    body = b'{"event": "x", "resource": "user", "resource_id": "u-2", "payload": {"a": 1}}'
    response = httpx.post(f"{meshes_server.api_url}/events", content=BOM + body,
                          headers={**JSON, "Authorization": f"Bearer {session['access_token']}"})
    assert_error(response, 403, "Forbidden")
    assert api.get("/events").json()["count"] == 0


def test_no_credentials_on_an_ingestion_route_names_the_publishable_key(
        meshes_server: MeshesServer) -> None:
    response = httpx.post(f"{meshes_server.api_url}/events", json={"event": "x", "payload": {"a": 1}})
    assert "X-Meshes-Publishable-Key" in assert_error(response, 401, "Unauthorized")["error"]["message"]
    listed = httpx.get(f"{meshes_server.api_url}/workspaces")
    assert "Publishable" not in assert_error(listed, 401, "Unauthorized")["error"]["message"]


def test_an_empty_session_status_filter_is_one_problem(api: httpx.Client, ws: str) -> None:
    body = assert_error(api.get("/sessions", params={"workspace_id": ws, "status": ""}),
                        400, "BadRequest")
    assert body["error"]["data"] == [{"param": "status", "msg": "must not be empty"}]


def test_a_long_event_name_says_characters(ingest: httpx.Client) -> None:
    body = assert_error(ingest.post("/events", json={"event": "x" * 257, "payload": {"a": 1}}),
                        400, "BadRequest")
    assert body["error"]["data"] == [{"param": "event", "msg": "must be at most 256 characters"}]


def test_a_token_may_name_its_organization_in_upper_case(meshes_server: MeshesServer) -> None:
    token = mint_token(meshes_server.access_key, meshes_server.secret_key,
                       meshes_server.org_id.upper())
    response = httpx.get(f"{meshes_server.api_url}/workspaces",
                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["records"][0]["id"] == meshes_server.workspace_id


def test_a_machine_token_with_a_publishable_key_ingests_into_the_keys_workspace(
        meshes_server: MeshesServer, api: httpx.Client, ws: str) -> None:
    other, other_key = meshes_server.create_workspace("Other")
    token = meshes_server.token()
    headers = {"Authorization": f"Bearer {token}", "X-Meshes-Publishable-Key": other_key}
    event = {"event": "x", "payload": {"a": 1}}
    single = httpx.post(f"{meshes_server.api_url}/events", json=event, headers=headers)
    assert single.status_code == 201, single.text
    assert single.json()["event"]["workspace"] == other
    assert single.json()["event"]["created_by"] == meshes_server.access_key
    bulk = httpx.post(f"{meshes_server.api_url}/events/bulk",
                      json=[event, {**event, "workspace": ws}], headers=headers)
    assert bulk.status_code == 201, bulk.text
    assert [r["workspace"] for r in bulk.json()["records"]] == [other, ws]
    unknown = {**headers, "X-Meshes-Publishable-Key": "mesh_pub_a_b_c"}
    assert_error(httpx.post(f"{meshes_server.api_url}/events", json=event, headers=unknown),
                 400, "BadRequest")
    listed = httpx.get(f"{meshes_server.api_url}/workspaces", headers=headers)
    assert listed.status_code == 200, listed.text
