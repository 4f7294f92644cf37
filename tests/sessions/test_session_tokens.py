"""Session access tokens as API credentials (behavior §1.4, §5.3): scope, role, type, expiry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from pytest_meshes import MeshesServer
from tests.sessions.helpers import connection, emit, mint, move_clock, rule, session_client


@pytest.fixture
def as_session(meshes_server: MeshesServer, api: httpx.Client,
               ws: str) -> Iterator[Any]:
    """as_session(**fields) -> a client holding a fresh session token of the default workspace."""
    clients: list[httpx.Client] = []

    def make(**fields: Any) -> httpx.Client:
        client = session_client(meshes_server, mint(api, ws, **fields)["access_token"])
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_workspace_session_reads_its_workspace(as_session: Any, ws: str) -> None:
    client = as_session()
    assert client.get(f"/workspaces/{ws}").json()["id"] == ws
    for path in ("connections", "rules", "events", "event-types", "resources"):
        assert client.get(f"/workspaces/{ws}/{path}").status_code == 200, path
    assert client.get("/integrations").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/workspaces"),
        ("POST", "/workspaces"),
        ("GET", "/events"),
        ("GET", "/rules"),
        ("GET", "/connections"),
        ("GET", "/sessions"),
        ("POST", "/sessions"),
        ("POST", "/sessions/sess_x/refresh"),
        ("DELETE", "/sessions/sess_x"),
    ],
)
def test_machine_only_operations_are_forbidden(as_session: Any, method: str, path: str) -> None:
    response = as_session().request(method, path, json={} if method == "POST" else None)
    assert response.status_code == 403
    assert response.json()["error"]["name"] == "Forbidden"


def test_other_workspace_is_forbidden(as_session: Any, meshes_server: MeshesServer,
                                      api: httpx.Client) -> None:
    other, _ = meshes_server.create_workspace("Elsewhere")
    hidden = emit(api, other)
    client = as_session()
    assert client.get(f"/workspaces/{other}").status_code == 403
    assert client.get(f"/workspaces/{other}/events").status_code == 403
    assert client.get(f"/events/{hidden['id']}").status_code == 403
    assert client.post("/events", json={"event": "x", "payload": {"a": 1},
                                        "workspace": other}).status_code == 403


def test_unknown_ids_are_still_404(as_session: Any) -> None:
    client = as_session()
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/events/{missing}").status_code == 404
    assert client.get(f"/workspaces/{missing}").status_code == 404


def test_expired_token_is_401(as_session: Any, meshes_server: MeshesServer, ws: str) -> None:
    client = as_session(ttl_seconds=300)
    move_clock(meshes_server, 299)
    assert client.get(f"/workspaces/{ws}").status_code == 200
    move_clock(meshes_server, 1)
    response = client.get(f"/workspaces/{ws}")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Session token has expired"


@pytest.mark.parametrize("kind", ["garbage", "forged", "no-session"])
def test_invalid_bearer_tokens_are_401(api: httpx.Client, meshes_server: MeshesServer, ws: str,
                                       kind: str) -> None:
    real = mint(api, ws)
    claims = jwt.decode(real["access_token"], options={"verify_signature": False})
    token = {
        "garbage": "not-a-jwt",
        "forged": jwt.encode(claims, "x" * 64, algorithm="HS256"),
        "no-session": jwt.encode({"sub": "nobody"}, "x" * 64, algorithm="HS256"),
    }[kind]
    with session_client(meshes_server, token) as client:
        assert client.get(f"/workspaces/{ws}").status_code == 401


def test_dashboard_session_sees_the_shell_only(as_session: Any, ws: str) -> None:
    client = as_session(session_type="dashboard")
    assert client.get(f"/workspaces/{ws}").status_code == 200
    for path in (f"/workspaces/{ws}/events", f"/workspaces/{ws}/rules",
                 f"/workspaces/{ws}/connections", "/integrations"):
        assert client.get(path).status_code == 403, path
    assert client.post("/events", json={"event": "x", "payload": {"a": 1}}).status_code == 403


def test_resource_session_is_locked_to_its_resource(as_session: Any, api: httpx.Client,
                                                    ws: str) -> None:
    mine = emit(api, ws, resource="user", resource_id="u-1")
    theirs = emit(api, ws, resource="user", resource_id="u-2")
    conn = connection(api, ws)
    my_rule = rule(api, ws, conn["id"], resource="user", resource_id="u-1")
    other_rule = rule(api, ws, conn["id"])
    client = as_session(session_type="resource", resource="user", resource_id="u-1",
                        launch_page="events")

    listed = client.get(f"/workspaces/{ws}/events").json()["records"]
    assert [e["id"] for e in listed] == [mine["id"]]
    assert [r["id"] for r in client.get(f"/workspaces/{ws}/rules").json()["records"]] == [
        my_rule["id"]]
    assert client.get(f"/events/{mine['id']}").status_code == 200
    assert client.get(f"/events/{theirs['id']}").status_code == 403
    assert client.get(f"/rules/{other_rule['id']}").status_code == 403
    assert client.get(f"/workspaces/{ws}/events",
                      params={"resource_id": "u-2"}).status_code == 403
    assert client.get(f"/workspaces/{ws}/connections").status_code == 403
    assert client.get(f"/connections/{conn['id']}").status_code == 403


def test_resource_session_emits_inside_its_scope(as_session: Any, api: httpx.Client,
                                                 ws: str) -> None:
    client = as_session(session_type="resource", resource="order", resource_id="o-9")
    created = emit(client, None, "order.paid")
    assert (created["workspace"], created["resource"], created["resource_id"]) == (
        ws, "order", "o-9")
    outside = client.post("/events", json={"event": "order.paid", "payload": {"a": 1},
                                           "resource_id": "o-10"})
    assert outside.status_code == 403
    bulk = client.post("/events/bulk", json=[{"event": "order.paid", "payload": {"a": 1}}])
    assert bulk.status_code == 201
    assert bulk.json()["records"][0]["resource_id"] == "o-9"


def test_events_from_a_session_name_the_session(as_session: Any, api: httpx.Client,
                                                ws: str) -> None:
    created = emit(as_session(), None)
    assert created["created_by"].startswith("sess_")
    assert created["workspace"] == ws


def test_member_cannot_change_configuration(as_session: Any, api: httpx.Client, ws: str) -> None:
    conn = connection(api, ws)
    member = as_session()
    body = {"workspace": ws, "type": "hubspot", "name": "mine",
            "metadata": {"access_token": "t", "portal_id": "1"}}
    response = member.post("/connections", json=body)
    assert response.status_code == 403
    assert "Role member" in response.json()["error"]["message"]
    assert member.delete(f"/connections/{conn['id']}").status_code == 403
    rule_body = {"workspace": ws, "connection": conn["id"], "event": "x",
                 "metadata": {"action": "add_to_list", "id": "1"}}
    assert member.post("/rules", json=rule_body).status_code == 403
    assert member.get(f"/connections/{conn['id']}/mappings/default").status_code == 200

    admin = as_session(role="admin")
    assert admin.post("/connections", json=body).status_code == 201
    assert admin.post("/rules", json=rule_body).status_code == 201
    other_body = {**body, "name": "elsewhere", "workspace": "00000000-0000-4000-8000-000000000000"}
    assert admin.post("/connections", json=other_body).status_code == 403


def test_payload_needs_admin_and_the_scope(as_session: Any, api: httpx.Client, ws: str) -> None:
    event_id = emit(api, ws)["id"]
    scope = ["events.payload:read"]
    assert as_session(scopes=scope).get(f"/events/{event_id}/payload").status_code == 403
    assert as_session(role="admin").get(f"/events/{event_id}/payload").status_code == 403
    allowed = as_session(role="owner", scopes=scope).get(f"/events/{event_id}/payload")
    assert allowed.status_code == 200
    assert allowed.json()["payload"] == {"email": "ada@example.com"}


def test_resource_session_may_create_rules_for_its_resource(as_session: Any, api: httpx.Client,
                                                            ws: str) -> None:
    conn = connection(api, ws)
    client = as_session(role="admin", session_type="resource", resource="user",
                        resource_id="u-1")
    body = {"workspace": ws, "connection": conn["id"], "event": "user.signup",
            "metadata": {"action": "add_to_list", "id": "1"}}
    assert client.post("/rules", json=body).status_code == 403
    scoped = client.post("/rules", json={**body, "resource": "user", "resource_id": "u-1"})
    assert scoped.status_code == 201


def test_attempts_are_readable_in_scope(as_session: Any, api: httpx.Client,
                                        meshes_server: MeshesServer, ws: str) -> None:
    conn = connection(api, ws)
    made = rule(api, ws, conn["id"])
    event = emit(api, ws)
    meshes_server.admin("POST", "/settle")
    client = as_session()
    detail = client.get(f"/events/{event['id']}").json()
    assert detail["rule_events"][0]["status"] == "completed"
    attempts = client.get(f"/events/{event['id']}/rules/{made['id']}/attempts").json()
    assert attempts["records"][0]["outcome_code"] == "delivered"
