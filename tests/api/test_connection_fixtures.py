"""Seed files: the `connections:` section of a workspace, and fixtures/demo.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from meshes_emulator.catalog import INTEGRATION_TYPES, MASK
from pytest_meshes import MeshesServer

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo.yaml"
DEMO_WORKSPACE = "5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


def write_seed(tmp_path: Path, connections: list[dict[str, Any]]) -> str:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump({"workspaces": [{"name": "Seeded", "connections": connections}]}))
    return str(path)


def seed_error(meshes_server: MeshesServer, path: str) -> str:
    with httpx.Client(base_url=meshes_server.url) as raw:
        response = raw.post("/_emulator/reset", json={"fixtures": [path]})
    assert response.status_code == 400
    message: str = response.json()["error"]["message"]
    return message


def test_demo_has_one_connection_of_every_type(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    meshes_server.reset(fixtures=[str(DEMO)])
    page = api.get(f"/workspaces/{DEMO_WORKSPACE}/connections", params={"limit": 50}).json()
    assert sorted(c["type"] for c in page["records"]) == sorted(INTEGRATION_TYPES)
    assert all(c["active"] and c["created_by"] == "fixture" for c in page["records"])
    demo_text = DEMO.read_text()
    for connection in page["records"]:
        for key, value in connection["metadata"].items():
            if value == MASK:
                continue
            assert not (isinstance(value, str) and "token" in key), key
    assert "demo-hubspot-access-token" in demo_text
    assert "demo-hubspot-access-token" not in str(page)


def test_demo_fixes_hubspot_action_data_and_mapping(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    meshes_server.reset(fixtures=[str(DEMO)])
    hubspot = "0c000001-0000-4000-8000-000000000005"
    actions = api.get(f"/connections/{hubspot}/actions").json()
    assert actions["add_to_list"]["data"]["lists"] == [
        {"id": "5", "name": "Unit Test List"}, {"id": "6", "name": "Newsletter"}]
    mapping = api.get(f"/connections/{hubspot}/mappings/default").json()
    assert mapping["status"] == "stored"
    assert mapping["mapping"]["name"] == "HubSpot contacts"
    assert mapping["mapping"]["version"] == 1
    assert mapping["mapping"]["created_by"] == "fixture"
    slack = "0c000001-0000-4000-8000-00000000000d"
    assert api.get(f"/connections/{slack}/mappings/default").json()["status"] == "generated"
    assert api.get(f"/connections/{slack}/actions").json()["send_message"]["data"]["channels"]


def test_seed_inactive_connection_and_ref(
    api: httpx.Client, meshes_server: MeshesServer, tmp_path: Path
) -> None:
    path = write_seed(tmp_path, [
        {"name": "Zoom", "type": "zoom", "active": False,
         "inactive_reason": "oauth_authorization_revoked", "hidden": True},
    ])
    meshes_server.reset(fixtures=[path])
    [zoom] = api.get("/connections").json()["records"]
    assert zoom["active"] is False
    assert zoom["inactive_reason"] == "oauth_authorization_revoked"
    assert zoom["hidden"] is True
    assert zoom["metadata"] == {}


def test_seed_reloads_without_duplicates(
    api: httpx.Client, meshes_server: MeshesServer, tmp_path: Path
) -> None:
    path = write_seed(tmp_path, [{"name": "Mail", "type": "resend", "metadata": {"api_key": "k"}}])
    meshes_server.reset(fixtures=[path, path])
    assert api.get("/connections").json()["count"] == 1


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        ({"name": "X", "type": "myspace"}, "type"),
        ({"name": "X", "type": "sendgrid", "metadata": {"api_key": 42}}, "metadata.api_key"),
        ({"name": "bad/name", "type": "slack"}, "name"),
        ({"name": "X", "type": "slack", "id": "nope"}, "must be a UUID"),
        ({"name": "X", "type": "slack", "inactive_reason": "sleepy"}, "unknown reason"),
        ({"name": "X", "type": "slack", "action_data": ["x"]}, "action_data"),
        ({"name": "X", "type": "slack", "mapping": {"name": "m"}}, "needs a `schema`"),
        ({"name": "X", "type": "slack", "mapping": {"schema": {"schema_version": 9,
                                                               "fields": []}}},
         "schema.schema_version"),
        ("just a string", "must be a mapping"),
    ],
)
def test_bad_seed_connections_are_refused_with_a_reason(
    meshes_server: MeshesServer, tmp_path: Path, connection: Any, expected: str
) -> None:
    message = seed_error(meshes_server, write_seed(tmp_path, [connection]))
    assert expected in message
    assert "seed.yaml" in message


def test_a_refused_seed_loads_nothing(
    api: httpx.Client, meshes_server: MeshesServer, tmp_path: Path
) -> None:
    path = write_seed(tmp_path, [
        {"name": "Good", "type": "slack"},
        {"name": "Bad", "type": "sendgrid", "metadata": {"api_key": 42}},
    ])
    seed_error(meshes_server, path)
    meshes_server.reset()
    assert api.get("/connections").json()["count"] == 0


def test_seed_ids_must_be_unused(meshes_server: MeshesServer, tmp_path: Path) -> None:
    same = "0c000001-0000-4000-8000-0000000000aa"
    path = write_seed(tmp_path, [
        {"name": "One", "type": "slack", "id": same},
        {"name": "Two", "type": "slack", "id": same},
    ])
    assert "already used" in seed_error(meshes_server, path)
