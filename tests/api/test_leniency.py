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
    meshes_server.reset()  # no `strict`: back to the configured mode (lenient here)
    assert meshes_server.admin("GET", "/warnings")["strict"] is False


def test_reset_refuses_a_non_boolean_strict(raw: httpx.Client) -> None:
    response = raw.post("/_emulator/reset", json={"strict": "yes"})
    assert response.status_code == 400
    assert response.json()["error"]["data"] == [{"param": "strict", "msg": "must be a boolean"}]


def test_header_values_are_ascii_one_line() -> None:
    from meshes_emulator.leniency import header_value

    assert header_value("metadata.action: 'café\r\nX: y'") == "metadata.action: 'caf\\xe9  X: y'"
    assert len(header_value("x" * 5000)) == 512
