"""Live action data, field catalogs and the admin controls of a connection (§7.6, §7.7)."""

from __future__ import annotations

import httpx
import pytest

from meshes_emulator.catalog import INTEGRATION_TYPES, get_integration
from meshes_emulator.catalog.action_data import ACTION_DATA_KEYS
from meshes_emulator.catalog.fields import catalog_version, field_catalog
from pytest_meshes import MeshesServer
from tests.api.connection_helpers import UNKNOWN_ID, create, move_clock, other_org_client

# -- actions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("integration_type", INTEGRATION_TYPES)
def test_actions_are_the_catalog_actions_with_live_data(
    api: httpx.Client, meshes_server: MeshesServer, integration_type: str
) -> None:
    connection = create(api, meshes_server.workspace_id or "", integration_type)
    response = api.get(f"/connections/{connection['id']}/actions")
    assert response.status_code == 200
    actions = response.json()
    catalog_actions = get_integration(integration_type)["actions"]  # type: ignore[index]
    assert list(actions) == list(catalog_actions)  # keyed by action key, catalog order
    live = meshes_server.admin("GET", f"/connections/{connection['id']}/action-data")["action_data"]
    assert set(live) == set(ACTION_DATA_KEYS[integration_type])
    used: set[str] = set()
    for key, action in actions.items():
        described = catalog_actions[key]
        assert action["key"] == key
        for name in ("label", "noun", "fields", "display"):
            assert action[name] == described[name], (key, name)
        pickers = [i["key"] for i in described.get("data", []) if i["kind"] != "field"]
        assert action["data"] == {name: live[name] for name in pickers}
        for items in action["data"].values():
            assert items and all(isinstance(item["id"], str) and item["name"] for item in items)
        used.update(pickers)
    assert used == set(live)  # every live list belongs to some action


def test_webhook_shows_send_webhook_and_hubspot_its_lists(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    ws = meshes_server.workspace_id or ""
    webhook = api.get(f"/connections/{create(api, ws, 'webhook')['id']}/actions").json()
    assert webhook == {"send_webhook": {
        "key": "send_webhook", "label": "Send Webhook", "noun": "Webhook", "fields": [],
        "display": webhook["send_webhook"]["display"], "data": {}}}
    assert webhook["send_webhook"]["display"]["label"]
    hubspot = create(api, ws, "hubspot")
    actions = api.get(f"/connections/{hubspot['id']}/actions").json()
    assert set(actions) == {"add_to_list", "remove_from_list", "update_property"}
    lists = actions["add_to_list"]["data"]["lists"]
    assert actions["add_to_list"]["fields"] == ["id"] and lists
    assert actions["remove_from_list"]["data"]["lists"] == lists
    properties = actions["update_property"]["data"]["properties"]
    assert actions["update_property"]["fields"] == ["id", "value"]
    assert all(prop["options"] for prop in properties)
    # an id from the live data makes a rule the connection can deliver
    rule = api.post("/rules", json={"workspace": ws, "connection": hubspot["id"],
                                    "event": "user.signup",
                                    "metadata": {"action": "add_to_list", "id": lists[0]["id"]}})
    assert rule.status_code == 201, rule.text


def test_actions_are_deterministic_for_a_seed(meshes_server: MeshesServer) -> None:
    results = []
    for seed in (3, 3, 4):
        meshes_server.reset(seed=seed)
        with meshes_server.client() as client:
            connection = create(client, meshes_server.workspace_id or "", "hubspot")
            results.append(client.get(f"/connections/{connection['id']}/actions").json())
    assert results[0] == results[1]
    assert results[0] != results[2]


def test_actions_are_stable_across_reads_and_differ_between_connections(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    first = create(api, meshes_server.workspace_id or "", "slack", name="One")
    second = create(api, meshes_server.workspace_id or "", "slack", name="Two")
    one = api.get(f"/connections/{first['id']}/actions").json()
    assert api.get(f"/connections/{first['id']}/actions").json() == one
    assert api.get(f"/connections/{second['id']}/actions").json() != one


def test_admin_replaces_and_restores_action_data(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    connection = create(api, meshes_server.workspace_id or "", "hubspot")
    path = f"/connections/{connection['id']}/actions"
    generated = api.get(path).json()
    custom = {
        "lists": [{"id": "5", "name": "Unit Test List"}],
        "properties": [
            {"id": "lifecycle_stage", "name": "Lifecycle Stage",
             "options": [{"value": "lead"}, {"value": "customer"}]},
        ],
    }
    admin_path = f"/connections/{connection['id']}/action-data"
    replaced = meshes_server.admin("PUT", admin_path, custom)
    assert replaced == {"connection_id": connection["id"], "source": "stored", "action_data": custom}
    actions = api.get(path).json()
    assert actions["add_to_list"]["data"] == {"lists": custom["lists"]}
    assert actions["remove_from_list"]["data"] == {"lists": custom["lists"]}
    assert actions["update_property"]["data"] == {"properties": custom["properties"]}
    assert meshes_server.admin("GET", admin_path)["action_data"] == custom
    restored = meshes_server.admin("DELETE", admin_path)
    assert restored["source"] == "generated"
    assert api.get(path).json() == generated


def test_admin_action_data_refusals(api: httpx.Client, meshes_server: MeshesServer) -> None:
    connection = create(api, meshes_server.workspace_id or "")
    with httpx.Client(base_url=meshes_server.url) as raw:
        bad = raw.put(f"/_emulator/connections/{connection['id']}/action-data", json=["x"])
        assert bad.status_code == 400
        missing = raw.put(f"/_emulator/connections/{UNKNOWN_ID}/action-data", json={})
        assert missing.status_code == 404
        assert missing.json()["message"] == "Connection not found"


def test_actions_of_an_inactive_connection_are_422(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    connection = create(api, meshes_server.workspace_id or "", "intercom")
    path = f"/connections/{connection['id']}/actions"
    deactivated = meshes_server.admin(
        "POST", f"/connections/{connection['id']}/deactivate",
        {"reason": "oauth_authorization_revoked"},
    )
    assert deactivated["active"] is False
    assert deactivated["inactive_reason"] == "oauth_authorization_revoked"
    response = api.get(path)
    assert response.status_code == 422
    assert response.json()["message"] == "Connection is inactive"
    assert "oauth_authorization_revoked" in response.json()["error"]["message"]
    activated = meshes_server.admin("POST", f"/connections/{connection['id']}/activate")
    assert activated["active"] is True
    assert "inactive_reason" not in activated
    assert api.get(path).status_code == 200


def test_deactivate_defaults_and_checks_the_reason(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    connection = create(api, meshes_server.workspace_id or "")
    meshes_server.admin("POST", f"/connections/{connection['id']}/deactivate")
    shown = api.get(f"/connections/{connection['id']}").json()
    assert shown["active"] is False
    assert shown["inactive_reason"] == "manually_inactivated"
    listed = api.get("/connections").json()["records"][0]
    assert listed["inactive_reason"] == "manually_inactivated"
    with httpx.Client(base_url=meshes_server.url) as raw:
        bad = raw.post(
            f"/_emulator/connections/{connection['id']}/deactivate", json={"reason": "bored"}
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["data"][0]["param"] == "reason"


def test_actions_unknown_and_foreign_is_404(api: httpx.Client, meshes_server: MeshesServer) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    with other:
        foreign = create(other, foreign_workspace, "slack")
    for connection_id in (UNKNOWN_ID, foreign["id"]):
        for suffix in ("actions", "fields"):
            response = api.get(f"/connections/{connection_id}/{suffix}")
            assert response.status_code == 404
            assert response.json()["message"] == "Connection not found"


# -- fields --------------------------------------------------------------------------------------


@pytest.mark.parametrize("integration_type", INTEGRATION_TYPES)
def test_field_catalog_for_every_type(
    api: httpx.Client, meshes_server: MeshesServer, integration_type: str
) -> None:
    connection = create(api, meshes_server.workspace_id or "", integration_type)
    response = api.get(f"/connections/{connection['id']}/fields")
    assert response.status_code == 200
    body = response.json()
    assert body["connection_id"] == connection["id"]
    assert body["workspace_id"] == meshes_server.workspace_id
    assert body["integration_type"] == integration_type
    assert body["catalog_version"] == catalog_version(integration_type)
    assert body["fields"] == field_catalog(integration_type)
    assert body["created_by"] == meshes_server.access_key


def test_field_catalog_is_kept_and_refreshed(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    connection = create(api, meshes_server.workspace_id or "", "hubspot")
    path = f"/connections/{connection['id']}/fields"
    first = api.get(path).json()
    assert first["refreshed_at"] == first["created_at"] == "2026-01-01T00:00:00.000Z"
    move_clock(meshes_server, "2026-01-01T00:10:00Z")
    again = api.get(path).json()
    assert again == first
    refreshed = api.get(path, params={"refresh": "true"}).json()
    assert refreshed["id"] == first["id"]
    assert refreshed["created_at"] == first["created_at"]
    assert refreshed["refreshed_at"] == refreshed["updated_at"] == "2026-01-01T00:10:00.000Z"
    assert api.get(path, params={"refresh": "false"}).json() == refreshed


def test_first_read_with_refresh_creates_the_catalog(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    connection = create(api, meshes_server.workspace_id or "", "mailchimp")
    body = api.get(f"/connections/{connection['id']}/fields", params={"refresh": True}).json()
    assert {"email", "ip_signup", "FNAME"} <= {f["key"] for f in body["fields"]}


def test_field_catalog_refresh_parameter_is_checked(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    connection = create(api, meshes_server.workspace_id or "")
    response = api.get(f"/connections/{connection['id']}/fields", params={"refresh": "maybe"})
    assert response.status_code == 400
    assert response.json()["error"]["data"][0]["param"] == "refresh"


def test_inactive_connection_serves_its_catalog_but_cannot_refresh(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    connection = create(api, meshes_server.workspace_id or "", "salesforce")
    meshes_server.admin("POST", f"/connections/{connection['id']}/deactivate",
                        {"reason": "oauth_reauthorization_required"})
    path = f"/connections/{connection['id']}/fields"
    assert api.get(path).status_code == 200
    refused = api.get(path, params={"refresh": "true"})
    assert refused.status_code == 422
    assert refused.json()["message"] == "Connection is inactive"


def test_admin_controls_need_a_known_connection(meshes_server: MeshesServer) -> None:
    with httpx.Client(base_url=meshes_server.url) as raw:
        for method, suffix in (("POST", "deactivate"), ("POST", "activate"),
                               ("GET", "action-data"), ("DELETE", "action-data")):
            response = raw.request(method, f"/_emulator/connections/{UNKNOWN_ID}/{suffix}")
            assert response.status_code == 404


def test_admin_endpoints_answer_their_documented_shapes(
    raw: httpx.Client, api: httpx.Client, meshes_server: MeshesServer
) -> None:
    """`raw` checks each answer against meshes_emulator/openapi/emulator.yaml."""
    connection = create(api, meshes_server.workspace_id or "", "zoom")
    base = f"/_emulator/connections/{connection['id']}"
    assert raw.get(f"{base}/action-data").json()["source"] == "generated"
    assert raw.put(f"{base}/action-data", json={"meetings": []}).json()["source"] == "stored"
    assert raw.delete(f"{base}/action-data").json()["source"] == "generated"
    assert raw.post(f"{base}/deactivate", json={"reason": "authentication_invalid"}).json()[
        "inactive_reason"] == "authentication_invalid"
    assert raw.post(f"{base}/activate").json()["active"] is True
    assert raw.post(f"{base}/deactivate", json={"reason": 5}).status_code == 400


def test_hubspot_lifecycle_property_has_one_id(api: httpx.Client, meshes_server: MeshesServer) -> None:
    """The property a rule sets (action data) is the field a mapping writes (field catalog)."""
    hubspot = create(api, meshes_server.workspace_id or "", "hubspot")
    actions = api.get(f"/connections/{hubspot['id']}/actions").json()
    properties = actions["update_property"]["data"]["properties"]
    lifecycle = [p for p in properties if "lifecycle" in p["id"]]
    fields = api.get(f"/connections/{hubspot['id']}/fields").json()["fields"]
    catalog_lifecycle = [f for f in fields if "lifecycle" in f["key"]]
    assert [p["id"] for p in lifecycle] == [f["key"] for f in catalog_lifecycle] == ["lifecycle_stage"]
    values = {o["value"] for o in lifecycle[0]["options"]}
    assert values == set(catalog_lifecycle[0]["constraints"]["allowed_values"])
