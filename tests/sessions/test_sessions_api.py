"""Embed sessions (reference §11, §12.11; behavior §5.1-5.2): mint, list, refresh, revoke."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from tests.contract import validating_hooks
from tests.sessions.helpers import UNKNOWN_ID, mint, move_clock, session_client

# -- createSession ------------------------------------------------------------------------------


def test_create_with_defaults(api: httpx.Client, meshes_server: MeshesServer, ws: str) -> None:
    body = mint(api, ws)
    assert body["session_id"].startswith("sess_")
    assert body["expires_in"] == 1800
    assert body["expires_at"] == "2026-01-01T00:30:00.000Z"
    assert body["launch_expires_at"] == "2026-01-01T00:00:30.000Z"
    assert body["workspace_id"] == ws
    assert (body["role"], body["session_type"]) == ("member", "workspace")
    assert "resource" not in body and "resource_id" not in body
    assert body["launch_url"] == (f"{meshes_server.url}/embed/workspace/dashboard"
                                  f"?launch={body['launch_token']}")
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256" and "kid" not in header
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sid"] == body["session_id"]
    assert claims["exp"] - claims["iat"] == 1800


def test_create_with_every_field(api: httpx.Client, ws: str) -> None:
    body = mint(api, ws, role="admin", ttl_seconds=300, launch_ttl_seconds=60,
                launch_page="events", scopes=["events.payload:read"],
                allowed_origins=["https://app.example.com/settings"], external_user_id="user-7")
    assert (body["role"], body["expires_in"]) == ("admin", 300)
    assert body["expires_at"] == "2026-01-01T00:05:00.000Z"
    assert body["launch_expires_at"] == "2026-01-01T00:01:00.000Z"
    assert "/embed/workspace/events?launch=" in body["launch_url"]


def test_resource_session_echoes_its_scope(api: httpx.Client, ws: str) -> None:
    body = mint(api, ws, session_type="resource", resource="user", resource_id="u-1",
                launch_page="rules")
    assert (body["session_type"], body["resource"], body["resource_id"]) == (
        "resource", "user", "u-1")


def test_dashboard_session_launches_on_dashboard(api: httpx.Client, ws: str) -> None:
    body = mint(api, ws, session_type="dashboard")
    assert "/embed/workspace/dashboard?" in body["launch_url"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"ttl_seconds": 299}, "ttl_seconds"),
        ({"ttl_seconds": 3601}, "ttl_seconds"),
        ({"ttl_seconds": "1800"}, "ttl_seconds"),
        ({"ttl_seconds": 1800.5}, "ttl_seconds"),
        ({"launch_ttl_seconds": 14}, "launch_ttl_seconds"),
        ({"launch_ttl_seconds": 61}, "launch_ttl_seconds"),
        ({"role": "boss"}, "role"),
        ({"session_type": "kiosk"}, "session_type"),
        ({"launch_page": "settings"}, "launch_page"),
        ({"launch_page": "members"}, "launch_page"),
        ({"scopes": ["events.write"]}, "scopes"),
        ({"scopes": ["events.payload:read"] * 21}, "scopes"),
        ({"external_user_id": "x" * 256}, "external_user_id"),
        ({"allowed_origins": [f"https://a{i}.example.com" for i in range(11)]}, "allowed_origins"),
        ({"allowed_origins": ["not a url"]}, "allowed_origins"),
        ({"allowed_origins": ["ftp://files.example.com"]}, "allowed_origins"),
        ({"launch_path": "/settings"}, "launch_path"),
    ],
)
def test_create_validation(api: httpx.Client, ws: str, fields: dict[str, Any], param: str) -> None:
    response = api.post("/sessions", json={"workspace_id": ws, **fields})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"] == f"invalid {param}"
    assert body["error"]["name"] == "BadRequest"
    assert body["error"]["data"][0]["param"].split(".")[0] == param


@pytest.mark.parametrize("body", [{}, {"workspace_id": "ws_123"}, {"workspace_id": 7}])
def test_create_needs_a_workspace_uuid(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post("/sessions", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "invalid workspace_id"


@pytest.mark.parametrize(
    ("fields", "message", "params"),
    [
        ({"session_type": "resource"}, "invalid session_type", ["resource", "resource_id"]),
        ({"session_type": "resource", "resource": "user"}, "invalid session_type", ["resource_id"]),
        pytest.param({"resource": "user", "resource_id": "u-1"}, "invalid session_type",
                     ["resource", "resource_id"], marks=pytest.mark.meshes(strict=True)),  # inferred check
        pytest.param({"session_type": "dashboard", "resource_id": "u-1"}, "invalid session_type",
                     ["resource_id"], marks=pytest.mark.meshes(strict=True)),
        ({"session_type": "resource", "resource": "user", "resource_id": "u-1",
          "launch_page": "connections"}, "invalid launch_page", ["launch_page"]),
        ({"session_type": "dashboard", "launch_page": "events"}, "invalid launch_page",
         ["launch_page"]),
        ({"session_type": "dashboard", "launch_path": "/workspace/rules"}, "invalid launch_page",
         ["launch_page"]),
    ],
)
def test_session_type_rules(api: httpx.Client, ws: str, fields: dict[str, Any], message: str,
                            params: list[str]) -> None:
    response = api.post("/sessions", json={"workspace_id": ws, **fields})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"] == message
    assert [item["param"] for item in body["error"]["data"]] == params


def test_legacy_launch_path_is_accepted(api: httpx.Client, ws: str) -> None:
    body = mint(api, ws, launch_path="/workspace/rules")
    assert "/embed/workspace/rules?launch=" in body["launch_url"]


def test_unknown_workspace_is_404(api: httpx.Client) -> None:
    response = api.post("/sessions", json={"workspace_id": UNKNOWN_ID})
    assert response.status_code == 404
    assert response.json()["message"] == "Workspace not found"


def test_another_orgs_workspace_is_404(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other = meshes_server.create_org("Other")
    response = api.post("/sessions", json={"workspace_id": other["workspaces"][0]["id"]})
    assert response.status_code == 404


# (Same seed, same session was promised here; session ids and tokens are now unguessable:
# test_session_secrets.py::test_session_ids_and_launch_tokens_are_unguessable_under_a_fixed_seed)


# -- listSessions -------------------------------------------------------------------------------


def test_list_newest_first_without_tokens(api: httpx.Client, ws: str) -> None:
    first = mint(api, ws, external_user_id="u-1")
    second = mint(api, ws, session_type="resource", resource="user", resource_id="u-2")
    body = api.get("/sessions", params={"workspace_id": ws}).json()
    assert (body["count"], body["limit"], body["next_cursor"]) == (2, 50, None)
    newest, oldest = body["records"]
    assert newest["session_id"] == second["session_id"]
    assert (newest["resource"], newest["resource_id"]) == ("user", "u-2")
    assert "external_user_id" not in newest
    assert oldest["external_user_id"] == "u-1"
    assert oldest == {
        "session_id": first["session_id"], "workspace_id": ws, "role": "member",
        "session_type": "workspace", "status": "active", "is_expired": False,
        "created_at": "2026-01-01T00:00:00.000Z", "expires_at": first["expires_at"],
        "external_user_id": "u-1",
    }


def test_list_pages_with_a_cursor(api: httpx.Client, ws: str) -> None:
    ids = [mint(api, ws)["session_id"] for _ in range(3)]
    page = api.get("/sessions", params={"workspace_id": ws, "limit": 2}).json()
    assert page["count"] == 2 and page["next_cursor"]
    rest = api.get("/sessions", params={"workspace_id": ws, "limit": 2,
                                        "cursor": page["next_cursor"]}).json()
    seen = [r["session_id"] for r in page["records"] + rest["records"]]
    assert seen == ids[::-1]
    assert rest["next_cursor"] is None


def test_list_filters(api: httpx.Client, ws: str) -> None:
    keep = mint(api, ws, session_type="resource", resource="user", resource_id="u-1")
    mint(api, ws, session_type="resource", resource="user", resource_id="u-2")
    gone = mint(api, ws)
    api.delete(f"/sessions/{gone['session_id']}")

    def ids(**query: str) -> list[str]:
        body = api.get("/sessions", params={"workspace_id": ws, **query}).json()
        return [r["session_id"] for r in body["records"]]

    assert ids(resource_id="u-1") == [keep["session_id"]]
    assert len(ids(resource="user")) == 2
    assert ids(status="revoked") == [gone["session_id"]]
    assert gone["session_id"] not in ids(status="active")


def test_list_shows_expiry_on_the_emulator_clock(api: httpx.Client, meshes_server: MeshesServer,
                                                 ws: str) -> None:
    mint(api, ws, ttl_seconds=300)
    move_clock(meshes_server, 300)
    record = api.get("/sessions", params={"workspace_id": ws}).json()["records"][0]
    assert (record["status"], record["is_expired"]) == ("active", True)


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({}, "workspace_id"),
        ({"workspace_id": "nope"}, "workspace_id"),
        ({"status": "expired"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "***"}, "cursor"),
    ],
)
def test_list_validation(meshes_server: MeshesServer, ws: str, query: dict[str, str],
                         param: str) -> None:
    params = {"workspace_id": ws, **query} if param != "workspace_id" else query
    with meshes_server.client() as client:  # not contract-checked: the query itself is invalid
        response = client.get("/sessions", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["data"][0]["param"] == param


def test_list_unknown_workspace_is_404(api: httpx.Client) -> None:
    assert api.get("/sessions", params={"workspace_id": UNKNOWN_ID}).status_code == 404


# -- refreshSession -----------------------------------------------------------------------------


def test_refresh_supersedes_the_previous_token(api: httpx.Client, meshes_server: MeshesServer,
                                               ws: str) -> None:
    created = mint(api, ws, ttl_seconds=600)
    move_clock(meshes_server, 120)
    response = api.post(f"/sessions/{created['session_id']}/refresh")
    assert response.status_code == 200
    body = response.json()
    assert body["session_id"] == created["session_id"]
    assert body["access_token"] != created["access_token"]
    assert body["expires_in"] == 600
    assert body["expires_at"] == "2026-01-01T00:12:00.000Z"
    assert not {"launch_token", "launch_url", "launch_expires_at"} & set(body)
    with session_client(meshes_server, created["access_token"]) as old:
        stale = old.get(f"/workspaces/{ws}")
    assert stale.status_code == 401
    assert "superseded" in stale.json()["error"]["message"]
    with session_client(meshes_server, body["access_token"]) as new:
        assert new.get(f"/workspaces/{ws}").status_code == 200
    listed = api.get("/sessions", params={"workspace_id": ws}).json()["records"][0]
    assert listed["expires_at"] == body["expires_at"]


def test_refresh_keeps_a_resource_scope(api: httpx.Client, ws: str) -> None:
    created = mint(api, ws, session_type="resource", resource="user", resource_id="u-1")
    body = api.post(f"/sessions/{created['session_id']}/refresh").json()
    assert (body["resource"], body["resource_id"]) == ("user", "u-1")


def test_refresh_of_revoked_or_expired_session_conflicts(api: httpx.Client,
                                                         meshes_server: MeshesServer,
                                                         ws: str) -> None:
    revoked = mint(api, ws)
    api.delete(f"/sessions/{revoked['session_id']}")
    response = api.post(f"/sessions/{revoked['session_id']}/refresh")
    assert response.status_code == 409
    assert response.json()["message"] == "Session revoked"
    expired = mint(api, ws, ttl_seconds=300)
    move_clock(meshes_server, 301)
    response = api.post(f"/sessions/{expired['session_id']}/refresh")
    assert response.status_code == 409
    assert response.json()["message"] == "Session expired"


def test_refresh_unknown_session_is_404(api: httpx.Client) -> None:
    response = api.post("/sessions/sess_missing/refresh")
    assert response.status_code == 404
    assert response.json()["message"] == "Session not found"


# -- revokeSession ------------------------------------------------------------------------------


def test_revoke_stops_the_token(api: httpx.Client, meshes_server: MeshesServer, ws: str) -> None:
    created = mint(api, ws)
    with session_client(meshes_server, created["access_token"]) as client:
        assert client.get(f"/workspaces/{ws}").status_code == 200
        response = api.delete(f"/sessions/{created['session_id']}")
        assert (response.status_code, response.json()) == (200, {"revoked": True})
        after = client.get(f"/workspaces/{ws}")
    assert after.status_code == 401
    assert after.json()["error"]["message"] == "Session has been revoked"
    record = api.get("/sessions", params={"workspace_id": ws}).json()["records"][0]
    assert record["status"] == "revoked"


def test_revoke_twice_is_idempotent(api: httpx.Client, ws: str) -> None:
    created = mint(api, ws)
    assert api.delete(f"/sessions/{created['session_id']}").json() == {"revoked": True}
    again = api.delete(f"/sessions/{created['session_id']}")
    assert (again.status_code, again.json()) == (200, {"revoked": True})


def test_revoke_unknown_or_foreign_session_is_404(api: httpx.Client,
                                                  meshes_server: MeshesServer, ws: str) -> None:
    assert api.delete("/sessions/sess_missing").status_code == 404
    created = mint(api, ws)
    other = meshes_server.create_org("Other")
    auth = MachineAuth(other["access_key"], other["secret_key"], other["org_id"])
    with httpx.Client(base_url=meshes_server.api_url, auth=auth,
                      event_hooks=validating_hooks()) as foreign:
        assert foreign.delete(f"/sessions/{created['session_id']}").status_code == 404
        assert foreign.post(f"/sessions/{created['session_id']}/refresh").status_code == 404
        listed = foreign.get("/sessions", params={"workspace_id": ws})
        assert listed.status_code == 404
