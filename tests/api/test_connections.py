"""Connections (reference §7.1-7.5, §6.5): every operation, positive and negative."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from meshes_emulator.catalog import INTEGRATION_TYPES, MASK
from pytest_meshes import MeshesServer
from tests.api.connection_helpers import (
    UNKNOWN_ID,
    VALID_METADATA,
    create,
    insert_rule,
    other_org_client,
    rule_exists,
    stored_metadata,
)
from tests.helpers import walk_pages

STRICT = pytest.mark.meshes(strict=True)  # inferred checks refuse only in strict mode


def error_params(response: httpx.Response) -> list[str]:
    return [item["param"] for item in response.json()["error"].get("data", [])]


# -- create ------------------------------------------------------------------------------------


@pytest.mark.parametrize("integration_type", INTEGRATION_TYPES)
def test_create_every_type(
    api: httpx.Client, meshes_server: MeshesServer, integration_type: str
) -> None:
    connection = create(api, meshes_server.workspace_id or "", integration_type)
    assert connection["type"] == integration_type
    assert connection["workspace"] == meshes_server.workspace_id
    assert connection["name"] == f"{integration_type} main"
    assert connection["active"] is True
    assert connection["hidden"] is False
    assert "inactive_reason" not in connection
    assert connection["created_at"] == connection["updated_at"] == "2026-01-01T00:00:00.000Z"
    assert connection["created_by"] == meshes_server.access_key
    for key, value in VALID_METADATA[integration_type].items():
        if key == "headers":
            assert connection["metadata"][key] == [
                {"name": "X-Tenant", "value": "acme"},
                {"name": "X-Api-Key", "value": MASK},
            ]
        elif "s3cr3t" in str(value):
            assert connection["metadata"][key] == MASK
        else:
            assert connection["metadata"][key] == value


def test_create_fills_webhook_defaults(api: httpx.Client, meshes_server: MeshesServer) -> None:
    connection = create(
        api, meshes_server.workspace_id or "", "webhook", metadata={"url": "https://e.com/h"}
    )
    assert connection["metadata"] == {
        "url": "https://e.com/h",
        "http_method": "POST",
        "payload_mode": "wrapped",
        "auth_scheme": "none",
        "signing_algorithm": "none",
    }


def test_create_hidden(api: httpx.Client, meshes_server: MeshesServer) -> None:
    connection = create(api, meshes_server.workspace_id or "", hidden=True)
    assert connection["hidden"] is True


def test_plain_http_is_accepted_for_loopback_webhooks(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    metadata = {"url": "http://127.0.0.1:9999/hook"}
    connection = create(api, meshes_server.workspace_id or "", "webhook", metadata=metadata)
    assert connection["metadata"]["url"] == "http://127.0.0.1:9999/hook"


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"type": "myspace"}, "type"),
        ({"type": None}, "type"),
        ({"name": ""}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "bad/name"}, "name"),
        ({"name": 7}, "name"),
        ({"metadata": None}, "metadata"),
        ({"metadata": "api_key=1"}, "metadata"),
        pytest.param({"metadata": {}}, "metadata.api_key", marks=STRICT),  # inferred check
        pytest.param({"metadata": {"api_key": ""}}, "metadata.api_key", marks=STRICT),
        ({"metadata": {"api_key": 42}}, "metadata.api_key"),
        ({"workspace": "not-a-uuid"}, "workspace"),
        ({"hidden": "yes"}, "hidden"),
    ],
)
def test_create_validation(
    api: httpx.Client, meshes_server: MeshesServer, changes: dict[str, Any], param: str
) -> None:
    body = {
        "workspace": meshes_server.workspace_id,
        "type": "sendgrid",
        "name": "SG",
        "metadata": {"api_key": "k"},
    }
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    response = api.post("/connections", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "Bad Request"
    assert response.json()["error"]["name"] == "BadRequest"
    assert error_params(response) == [param]


@pytest.mark.parametrize(
    ("integration_type", "metadata", "params"),
    [
        ("activecampaign", {"api_key": "k"}, ["metadata.api_url"]),
        ("activecampaign", {"api_url": "http://acme.api-us1.com", "api_key": "k"},
         ["metadata.api_url"]),
        ("activecampaign", {"api_url": "not a url", "api_key": "k"}, ["metadata.api_url"]),
        ("customer_io", {"region": "APAC", "cdpApiKey": "k"}, ["metadata.region"]),
        ("mailchimp", {"api_key": "k"}, ["metadata.data_center"]),
        ("webhook", {}, ["metadata.url"]),
        ("webhook", {"url": "http://hooks.example.com/x"}, ["metadata.url"]),
        ("webhook", {"url": "https://e.com", "auth_scheme": "basic", "basic_username": "u"},
         ["metadata.basic_password"]),
        ("webhook", {"url": "https://e.com", "signing_algorithm": "sha256"},
         ["metadata.signing_secret"]),
        ("webhook", {"url": "https://e.com", "headers": [{"name": "Authorization", "value": "x"}]},
         ["metadata.headers[0]"]),
    ],
)
@pytest.mark.meshes(strict=True)  # some are inferred checks (tests/api/test_leniency.py)
def test_create_names_each_bad_credential_field(
    api: httpx.Client,
    meshes_server: MeshesServer,
    integration_type: str,
    metadata: dict[str, Any],
    params: list[str],
) -> None:
    response = api.post(
        "/connections",
        json={
            "workspace": meshes_server.workspace_id,
            "type": integration_type,
            "name": "Bad",
            "metadata": metadata,
        },
    )
    assert response.status_code == 400
    assert error_params(response) == params


def test_create_in_unknown_or_foreign_workspace_is_404(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    other.close()
    for workspace in (UNKNOWN_ID, foreign_workspace):
        response = api.post(
            "/connections",
            json={"workspace": workspace, "type": "resend", "name": "R", "metadata": {"api_key": "k"}},
        )
        assert response.status_code == 404
        assert response.json()["message"] == "Workspace not found"


def test_duplicate_name_in_a_workspace_conflicts(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    create(api, meshes_server.workspace_id or "", name="Mail")
    response = api.post(
        "/connections",
        json={
            "workspace": meshes_server.workspace_id,
            "type": "resend",
            "name": "MAIL",
            "metadata": {"api_key": "k"},
        },
    )
    assert response.status_code == 409
    assert response.json()["message"] == "connection already exists"
    assert response.json()["error"]["name"] == "Conflict"
    other_workspace, _ = meshes_server.create_workspace("Second")
    create(api, other_workspace, name="Mail")


def test_create_body_must_be_json_object(api: httpx.Client) -> None:
    assert api.post("/connections", json=["x"]).status_code == 400
    assert api.post("/connections", content=b"{nope", headers={"content-type": "application/json"}
                    ).status_code == 400


# -- read ----------------------------------------------------------------------------------------


def test_get_returns_the_connection_unwrapped(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    created = create(api, meshes_server.workspace_id or "", "hubspot")
    response = api.get(f"/connections/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_get_unknown_and_foreign_is_404(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    with other:
        foreign = create(other, foreign_workspace, "slack")
        assert other.get(f"/connections/{foreign['id']}").status_code == 200
    for connection_id in (UNKNOWN_ID, foreign["id"], "not-a-uuid"):
        response = api.get(f"/connections/{connection_id}")
        assert response.status_code == 404
        assert response.json() == {
            "message": "Connection not found",
            "error": {"name": "NotFound", "message": "Connection not found"},
        }


def test_org_list_spans_workspaces_newest_first(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    second, _ = meshes_server.create_workspace("Second")
    first = create(api, meshes_server.workspace_id or "", "sendgrid")
    other = create(api, second, "slack")
    page = api.get("/connections").json()
    assert page["count"] == 2
    assert page["limit"] == 20
    assert page["next_cursor"] is None
    assert [c["id"] for c in page["records"]] == [other["id"], first["id"]]


def test_org_list_excludes_other_organizations(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    with other:
        foreign = create(other, foreign_workspace, "slack")
        assert [c["id"] for c in other.get("/connections").json()["records"]] == [foreign["id"]]
    assert api.get("/connections").json()["records"] == []


def test_org_list_paginates(api: httpx.Client, meshes_server: MeshesServer) -> None:
    names = [f"Conn {i}" for i in range(5)]
    for name in names:
        create(api, meshes_server.workspace_id or "", name=name)
    seen = [c["name"] for c in walk_pages(api, "/connections", limit=2)]
    assert seen == list(reversed(names))
    assert api.get("/connections", params={"limit": 0}).status_code == 400


def test_workspace_list_only_holds_that_workspace(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    second, _ = meshes_server.create_workspace("Second")
    mine = create(api, meshes_server.workspace_id or "", "sendgrid")
    create(api, second, "slack")
    page = api.get(f"/workspaces/{meshes_server.workspace_id}/connections").json()
    assert [c["id"] for c in page["records"]] == [mine["id"]]
    assert page["limit"] == 20
    assert api.get(f"/workspaces/{second}/connections").json()["count"] == 1


def test_workspace_list_of_unknown_or_foreign_workspace_is_404(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    other.close()
    for workspace in (UNKNOWN_ID, foreign_workspace):
        response = api.get(f"/workspaces/{workspace}/connections")
        assert response.status_code == 404
        assert response.json()["message"] == "Workspace not found"


def test_hidden_connections_are_listed(api: httpx.Client, meshes_server: MeshesServer) -> None:
    hidden = create(api, meshes_server.workspace_id or "", hidden=True)
    assert [c["id"] for c in api.get("/connections").json()["records"]] == [hidden["id"]]


# -- update --------------------------------------------------------------------------------------


def test_update_replaces_name_and_metadata(api: httpx.Client, meshes_server: MeshesServer) -> None:
    created = create(api, meshes_server.workspace_id or "", "activecampaign")
    meshes_server.admin("POST", "/clock", {"now": "2026-01-01T00:01:00Z"})
    response = api.put(
        f"/connections/{created['id']}",
        json={"name": "AC renamed", "metadata": {"api_url": "https://b.api-us1.com",
                                                  "api_key": "new-key"}},
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "AC renamed"
    assert updated["metadata"] == {"api_url": "https://b.api-us1.com", "api_key": MASK}
    assert updated["updated_at"] == "2026-01-01T00:01:00.000Z"
    assert updated["created_at"] == created["created_at"]
    assert updated["type"] == "activecampaign"
    assert api.get(f"/connections/{created['id']}").json() == updated
    assert '"new-key"' in stored_metadata(meshes_server, created["id"])


def test_update_keeps_a_secret_sent_back_masked(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    created = create(api, meshes_server.workspace_id or "", "sendgrid")
    api.put(f"/connections/{created['id']}", json={"name": "SG", "metadata": created["metadata"]})
    assert "SG.s3cr3t.key" in stored_metadata(meshes_server, created["id"])


def test_update_hidden_is_kept_when_absent(api: httpx.Client, meshes_server: MeshesServer) -> None:
    created = create(api, meshes_server.workspace_id or "", hidden=True)
    path = f"/connections/{created['id']}"
    body = {"name": "n1", "metadata": {"api_key": "k"}}
    assert api.put(path, json=body).json()["hidden"] is True
    assert api.put(path, json=body | {"hidden": False}).json()["hidden"] is False


def test_update_ignores_type_and_workspace(api: httpx.Client, meshes_server: MeshesServer) -> None:
    created = create(api, meshes_server.workspace_id or "")
    response = api.put(
        f"/connections/{created['id']}",
        json={"name": "x", "metadata": {"api_key": "k"}, "type": "slack", "workspace": UNKNOWN_ID},
    )
    assert response.status_code == 200
    assert response.json()["type"] == "sendgrid"
    assert response.json()["workspace"] == meshes_server.workspace_id


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"metadata": {"api_key": "k"}}, "name"),
        ({"name": "n"}, "metadata"),
        pytest.param({"name": "n", "metadata": {}}, "metadata.api_key", marks=STRICT),
        ({"name": "n/", "metadata": {"api_key": "k"}}, "name"),
    ],
)
def test_update_validation(
    api: httpx.Client, meshes_server: MeshesServer, body: dict[str, Any], param: str
) -> None:
    created = create(api, meshes_server.workspace_id or "")
    response = api.put(f"/connections/{created['id']}", json=body)
    assert response.status_code == 400
    assert error_params(response) == [param]


def test_update_to_a_taken_name_conflicts(api: httpx.Client, meshes_server: MeshesServer) -> None:
    create(api, meshes_server.workspace_id or "", name="Taken")
    mine = create(api, meshes_server.workspace_id or "", name="Mine")
    path = f"/connections/{mine['id']}"
    response = api.put(path, json={"name": "taken", "metadata": {"api_key": "k"}})
    assert response.status_code == 409
    assert response.json()["message"] == "connection already exists"
    assert api.put(path, json={"name": "MINE", "metadata": {"api_key": "k"}}).status_code == 200


def test_update_unknown_and_foreign_is_404(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    with other:
        foreign = create(other, foreign_workspace)
    body = {"name": "x", "metadata": {"api_key": "k"}}
    for connection_id in (UNKNOWN_ID, foreign["id"]):
        response = api.put(f"/connections/{connection_id}", json=body)
        assert response.status_code == 404
        assert response.json()["message"] == "Connection not found"


# -- delete --------------------------------------------------------------------------------------


def test_delete_returns_id_and_type(api: httpx.Client, meshes_server: MeshesServer) -> None:
    created = create(api, meshes_server.workspace_id or "", "zoom")
    response = api.delete(f"/connections/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "type": "zoom"}
    assert api.get(f"/connections/{created['id']}").status_code == 404
    assert api.delete(f"/connections/{created['id']}").status_code == 404


def test_delete_accepts_the_go_sdk_empty_body(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    created = create(api, meshes_server.workspace_id or "")
    response = api.request("DELETE", f"/connections/{created['id']}", json={})
    assert response.status_code == 200


def test_delete_with_rules_conflicts_unless_forced(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    created = create(api, meshes_server.workspace_id or "", "slack")
    kept = create(api, meshes_server.workspace_id or "", "sendgrid")
    rule_id = insert_rule(meshes_server, created)
    other_rule = insert_rule(meshes_server, kept)
    path = f"/connections/{created['id']}"
    for body in (None, {}, {"force_delete": False}):
        response = api.request("DELETE", path, json=body)
        assert response.status_code == 409
        assert response.json()["message"] == "Connection has active rules"
        assert response.json()["error"]["name"] == "Conflict"
    assert rule_exists(meshes_server, rule_id)
    forced = api.request("DELETE", path, json={"force_delete": True})
    assert forced.status_code == 200
    assert forced.json() == {"id": created["id"], "type": "slack"}
    assert not rule_exists(meshes_server, rule_id)
    assert rule_exists(meshes_server, other_rule)
    assert api.get(path).status_code == 404


def test_delete_force_as_query_parameter(api: httpx.Client, meshes_server: MeshesServer) -> None:
    created = create(api, meshes_server.workspace_id or "")
    insert_rule(meshes_server, created)
    response = api.delete(f"/connections/{created['id']}", params={"force_delete": "true"})
    assert response.status_code == 200


def test_delete_validates_force_delete(api: httpx.Client, meshes_server: MeshesServer) -> None:
    created = create(api, meshes_server.workspace_id or "")
    response = api.request("DELETE", f"/connections/{created['id']}", json={"force_delete": "yes"})
    assert response.status_code == 400
    assert error_params(response) == ["force_delete"]


def test_delete_unknown_and_foreign_is_404(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    with other:
        foreign = create(other, foreign_workspace)
        for connection_id in (UNKNOWN_ID, foreign["id"]):
            response = api.delete(f"/connections/{connection_id}")
            assert response.status_code == 404
            assert response.json()["message"] == "Connection not found"
        assert other.get(f"/connections/{foreign['id']}").status_code == 200


def test_same_seed_gives_same_connection_ids(meshes_server: MeshesServer) -> None:
    ids = []
    for _ in range(2):
        meshes_server.reset(seed=7)
        with meshes_server.client() as client:
            ids.append(create(client, meshes_server.workspace_id or "")["id"])
    assert ids[0] == ids[1]


def _webhook_and_rule_body(api: httpx.Client, ws: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A webhook connection and the body of a rule sending `user.signup` to it."""
    hook = create(api, ws, "webhook")
    return hook, {"workspace": ws, "connection": hook["id"], "event": "user.signup",
                  "metadata": {"action": "send_webhook"}}


def test_inactive_rules_do_not_block_delete_and_go_with_it(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    hook, body = _webhook_and_rule_body(api, meshes_server.workspace_id or "")
    paused = [api.post("/rules", json={**body, "event": event, "active": False}).json()["rule"]
              for event in ("user.signup", "order.paid")]
    assert all(rule["active"] is False for rule in paused)
    deleted = api.delete(f"/connections/{hook['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": hook["id"], "type": "webhook"}
    for rule in paused:
        assert api.get(f"/rules/{rule['id']}").status_code == 404
        assert not rule_exists(meshes_server, rule["id"])
    assert api.get(f"/connections/{hook['id']}").status_code == 404


def test_one_active_rule_blocks_delete_of_a_connection_with_inactive_ones(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    hook, body = _webhook_and_rule_body(api, meshes_server.workspace_id or "")
    paused = api.post("/rules", json={**body, "active": False}).json()["rule"]
    live = api.post("/rules", json={**body, "event": "order.paid"}).json()["rule"]
    refused = api.delete(f"/connections/{hook['id']}")
    assert refused.status_code == 409
    assert refused.json()["message"] == "Connection has active rules"
    assert refused.json()["error"]["message"].startswith("1 active rule(s)")
    assert rule_exists(meshes_server, paused["id"]) and rule_exists(meshes_server, live["id"])
    forced = api.request("DELETE", f"/connections/{hook['id']}", json={"force_delete": True})
    assert forced.status_code == 200
    assert not rule_exists(meshes_server, paused["id"])
    assert not rule_exists(meshes_server, live["id"])
