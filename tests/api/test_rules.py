"""Rules (reference §9): every operation, positive and negative."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.api.connection_helpers import other_org_client
from tests.api.event_helpers import UNKNOWN_ID, create_connection, create_rule


@pytest.fixture
def hubspot(api: httpx.Client, meshes_server: MeshesServer) -> dict[str, Any]:
    return create_connection(api, meshes_server.workspace_id or "", "hubspot")


def body(meshes_server: MeshesServer, conn: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "workspace": meshes_server.workspace_id,
        "connection": conn["id"],
        "event": "user.signup",
        "metadata": {"action": "add_to_list", "id": "list-1"},
        **extra,
    }


def test_create_returns_wrapped_rule(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    response = api.post("/rules", json=body(meshes_server, hubspot, resource="contacts"))
    assert response.status_code == 201
    rule = response.json()["rule"]
    assert rule["type"] == "hubspot"
    assert rule["workspace"] == meshes_server.workspace_id
    assert rule["connection"] == hubspot["id"]
    assert rule["event"] == "user.signup"
    assert rule["resource"] == "contacts"
    assert "resource_id" not in rule
    assert rule["metadata"] == {"action": "add_to_list", "id": "list-1"}
    assert rule["active"] is True and rule["hidden"] is False
    assert rule["created_by"] == meshes_server.access_key
    assert rule["created_at"] == rule["updated_at"] == "2026-01-01T00:00:00.000Z"


def test_create_keeps_flags_and_extra_metadata(api: httpx.Client, meshes_server: MeshesServer) -> None:
    slack = create_connection(api, meshes_server.workspace_id or "", "slack")
    extra = {"action": "send_message", "id": "C1", "template": "Hi {{name}}", "n": 3}
    rule = create_rule(api, meshes_server.workspace_id or "", slack["id"], "order.paid",
                       action="send_message", metadata=extra, active=False, hidden=True,
                       resource_id="ord:1")
    assert rule["metadata"] == extra
    assert rule["active"] is False and rule["hidden"] is True
    assert rule["resource_id"] == "ord:1"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"workspace": None}, "workspace"),
        ({"workspace": "not-a-uuid"}, "workspace"),
        ({"connection": None}, "connection"),
        ({"connection": 12}, "connection"),
        ({"event": None}, "event"),
        ({"event": ""}, "event"),
        ({"event": "   "}, "event"),
        ({"metadata": None}, "metadata"),
        ({"metadata": "add_to_list"}, "metadata"),
        ({"metadata": {}}, "metadata.action"),
        ({"metadata": {"action": ""}}, "metadata.action"),
        pytest.param({"metadata": {"action": "explode"}}, "metadata.action",  # inferred check
                     marks=pytest.mark.meshes(strict=True)),
        ({"resource": ""}, "resource"),
        ({"resource_id": "has space"}, "resource_id"),
        ({"resource_id": "x" * 65}, "resource_id"),
        ({"active": "yes"}, "active"),
        ({"hidden": 1}, "hidden"),
    ],
)
def test_create_validation(
    api: httpx.Client,
    meshes_server: MeshesServer,
    hubspot: dict[str, Any],
    change: dict[str, Any],
    param: str,
) -> None:
    data = body(meshes_server, hubspot)
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    response = api.post("/rules", json=data)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["message"] == "Bad Request"
    assert error["error"]["data"][0]["param"] == param


def test_create_body_must_be_object(api: httpx.Client) -> None:
    assert api.post("/rules", json=[1]).status_code == 400
    assert (
        api.post("/rules", content=b"{nope", headers={"content-type": "application/json"}).status_code == 400
    )
    assert api.post("/rules").status_code == 400


def test_create_unknown_workspace_or_connection(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    response = api.post("/rules", json=body(meshes_server, hubspot, workspace=UNKNOWN_ID))
    assert response.status_code == 404
    assert response.json()["message"] == "Workspace not found"
    response = api.post("/rules", json=body(meshes_server, hubspot, connection=UNKNOWN_ID))
    assert response.status_code == 404
    assert response.json()["message"] == "Connection not found"


def test_create_connection_of_another_workspace(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    other_ws, _ = meshes_server.create_workspace("Second")
    response = api.post("/rules", json=body(meshes_server, hubspot, workspace=other_ws))
    assert response.status_code == 400
    assert response.json()["error"]["data"] == [
        {"param": "connection", "msg": "connection does not belong to the workspace"}
    ]


def test_create_other_org_ids_are_not_found(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    other, other_ws = other_org_client(meshes_server)
    with other:
        response = other.post("/rules", json=body(meshes_server, hubspot, workspace=other_ws))
        assert response.status_code == 404
        assert response.json()["message"] == "Connection not found"
        response = other.post("/rules", json=body(meshes_server, hubspot))
        assert response.status_code == 404
        assert response.json()["message"] == "Workspace not found"


def test_duplicate_rule_conflicts(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    assert api.post("/rules", json=body(meshes_server, hubspot)).status_code == 201
    response = api.post("/rules", json=body(meshes_server, hubspot))
    assert response.status_code == 409
    assert response.json()["message"] == "Rule already exists"
    other_list = body(meshes_server, hubspot, metadata={"action": "add_to_list", "id": "list-2"})
    assert api.post("/rules", json=other_list).status_code == 201


def test_get_and_404(api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]) -> None:
    rule = api.post("/rules", json=body(meshes_server, hubspot)).json()["rule"]
    assert api.get(f"/rules/{rule['id']}").json() == rule
    response = api.get(f"/rules/{UNKNOWN_ID}")
    assert response.status_code == 404
    assert response.json()["message"] == "Rule not found"
    other, _ = other_org_client(meshes_server)
    with other:
        assert other.get(f"/rules/{rule['id']}").status_code == 404


def test_lists_and_filters(api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]) -> None:
    ws = meshes_server.workspace_id or ""
    a = create_rule(api, ws, hubspot["id"], "user.signup", action="add_to_list",
                    metadata={"id": "1"}, resource="contacts", resource_id="c1")
    b = create_rule(api, ws, hubspot["id"], "user.signup", action="add_to_list",
                    metadata={"id": "2"})
    c = create_rule(api, ws, hubspot["id"], "order.paid", action="add_to_list",
                    metadata={"id": "3"}, resource="orders")
    page = api.get("/rules").json()
    assert page["limit"] == 20 and page["next_cursor"] is None
    assert [r["id"] for r in page["records"]] == [c["id"], b["id"], a["id"]]
    assert [r["id"] for r in api.get("/rules?event=user.signup").json()["records"]] == [b["id"], a["id"]]
    assert [r["id"] for r in api.get("/rules?resource=orders").json()["records"]] == [c["id"]]
    assert [r["id"] for r in api.get("/rules?resource_id=c1").json()["records"]] == [a["id"]]
    assert api.get("/rules?event=nope").json()["records"] == []
    ws_page = api.get(f"/workspaces/{ws}/rules?event=order.paid").json()
    assert [r["id"] for r in ws_page["records"]] == [c["id"]]
    first = api.get("/rules?limit=2").json()
    assert first["count"] == 2 and first["next_cursor"]
    rest = api.get(f"/rules?limit=2&cursor={first['next_cursor']}").json()
    assert [r["id"] for r in rest["records"]] == [a["id"]]


def test_workspace_rules_of_empty_and_unknown_workspace(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    other_ws, _ = meshes_server.create_workspace("Empty one")
    assert api.get(f"/workspaces/{other_ws}/rules").json()["records"] == []
    response = api.get(f"/workspaces/{UNKNOWN_ID}/rules")
    assert response.status_code == 404
    assert response.json()["message"] == "Workspace not found"


def test_other_org_sees_no_rules(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    create_rule(api, meshes_server.workspace_id or "", hubspot["id"], action="add_to_list")
    other, _ = other_org_client(meshes_server)
    with other:
        assert other.get("/rules").json()["records"] == []


def test_delete_returns_summary(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    rule = create_rule(api, meshes_server.workspace_id or "", hubspot["id"], action="add_to_list",
                       resource="contacts")
    response = api.delete(f"/rules/{rule['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": rule["id"], "connection": hubspot["id"],
                               "event": "user.signup", "type": "hubspot", "resource": "contacts"}
    assert api.get(f"/rules/{rule['id']}").status_code == 404
    again = api.delete(f"/rules/{rule['id']}")
    assert again.status_code == 404
    assert again.json()["message"] == "Rule not found"


def test_rule_creation_fills_catalogs(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    ws = meshes_server.workspace_id
    create_rule(api, ws or "", hubspot["id"], "invoice.sent", action="add_to_list",
                resource="invoices")
    event_types = [e["key"] for e in api.get(f"/workspaces/{ws}/event-types").json()]
    resources = [e["key"] for e in api.get(f"/workspaces/{ws}/resources").json()]
    assert "invoice.sent" in event_types
    assert "invoices" in resources


def test_publishable_key_cannot_manage_rules(ingest: httpx.Client) -> None:
    assert ingest.get("/rules").status_code == 401
    assert ingest.post("/rules", json={}).status_code == 401
