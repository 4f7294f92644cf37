"""Workspaces (reference §6): every operation, positive and negative."""

from __future__ import annotations

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.helpers import walk_pages


def test_list_has_default_workspace(api: httpx.Client, meshes_server: MeshesServer) -> None:
    body = api.get("/workspaces").json()
    assert body["count"] == 1
    assert body["limit"] == 20
    assert body["next_cursor"] is None
    assert body["records"][0]["id"] == meshes_server.workspace_id
    assert "publishable_key" not in body["records"][0]


def test_create_returns_wrapped_workspace(api: httpx.Client) -> None:
    response = api.post("/workspaces", json={"name": "Shop EU", "description": "europe"})
    assert response.status_code == 201
    workspace = response.json()["workspace"]
    assert workspace["name"] == "Shop EU"
    assert workspace["description"] == "europe"
    assert workspace["created_at"] == workspace["updated_at"]
    assert "publishable_key" not in workspace


def test_create_without_description_emits_null(api: httpx.Client) -> None:
    workspace = api.post("/workspaces", json={"name": "Bare"}).json()["workspace"]
    assert workspace["description"] is None


def test_get_includes_publishable_key(api: httpx.Client) -> None:
    created = api.post("/workspaces", json={"name": "Keyed"}).json()["workspace"]
    detail = api.get(f"/workspaces/{created['id']}").json()
    key = detail["publishable_key"]
    assert key["public_key"].startswith("mesh_pub_")
    assert key["name"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "name"),
        ({"name": "ab"}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "bad/name"}, "name"),
        ({"name": 123}, "name"),
        ({"name": "Okay", "description": "d" * 1025}, "description"),
    ],
)
def test_create_validation(api: httpx.Client, body: dict[str, object], param: str) -> None:
    response = api.post("/workspaces", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["message"] == "Bad Request"
    assert error["error"]["name"] == "BadRequest"
    assert error["error"]["data"][0]["param"] == param


def test_duplicate_name_conflicts(api: httpx.Client) -> None:
    assert api.post("/workspaces", json={"name": "Twice"}).status_code == 201
    response = api.post("/workspaces", json={"name": "twice"})
    assert response.status_code == 409
    assert response.json()["error"]["name"] == "Conflict"


def test_update_replaces_name_and_keeps_absent_description(api: httpx.Client) -> None:
    ws = api.post("/workspaces", json={"name": "Old", "description": "keep"}).json()["workspace"]
    updated = api.put(f"/workspaces/{ws['id']}", json={"name": "New"}).json()
    assert updated["name"] == "New"
    assert updated["description"] == "keep"
    assert "publishable_key" not in updated
    cleared = api.put(f"/workspaces/{ws['id']}", json={"name": "New", "description": None}).json()
    assert cleared["description"] is None
    assert api.get(f"/workspaces/{ws['id']}").json()["name"] == "New"


def test_update_validation_and_unknown(api: httpx.Client) -> None:
    ws = api.post("/workspaces", json={"name": "Valid"}).json()["workspace"]
    assert api.put(f"/workspaces/{ws['id']}", json={"description": "x"}).status_code == 400
    missing = api.put("/workspaces/00000000-0000-4000-8000-000000000000", json={"name": "Zed"})
    assert missing.status_code == 404
    assert missing.json()["message"] == "Workspace not found"


def test_get_unknown_is_404(api: httpx.Client) -> None:
    response = api.get("/workspaces/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"message": "Workspace not found",
                               "error": {"name": "NotFound", "message": "Workspace not found"}}


def test_pagination_walks_every_workspace_once(api: httpx.Client) -> None:
    for index in range(7):
        api.post("/workspaces", json={"name": f"Page {index}"})
    seen = [record["name"] for record in walk_pages(api, "/workspaces", limit=3)]
    assert seen[:3] == ["Page 6", "Page 5", "Page 4"]  # newest first
    assert len(seen) == len(set(seen)) == 8


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"limit": "x"},
                                    {"cursor": "!!"}, {"cursor": "abc"}])
def test_bad_page_parameters(api: httpx.Client, params: dict[str, str | int]) -> None:
    response = api.get("/workspaces", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["data"][0]["param"] in ("limit", "cursor")


def test_catalog_lists_are_bare_arrays(api: httpx.Client, meshes_server: MeshesServer) -> None:
    resources = api.get(f"/workspaces/{meshes_server.workspace_id}/resources").json()
    assert [entry["key"] for entry in resources] == ["global"]
    event_types = api.get(f"/workspaces/{meshes_server.workspace_id}/event-types").json()
    assert [entry["key"] for entry in event_types] == ["contact.created"]


@pytest.mark.parametrize("suffix", ["connections", "events", "rules", "event-types",
                                    "resources"])
def test_workspace_sublists_need_a_known_workspace(api: httpx.Client, suffix: str) -> None:
    response = api.get(f"/workspaces/00000000-0000-4000-8000-000000000000/{suffix}")
    assert response.status_code == 404


def test_other_organization_cannot_see_workspace(meshes_server: MeshesServer,
                                                 api: httpx.Client) -> None:
    other = meshes_server.create_org("Other Co")
    foreign_id = other["workspaces"][0]["id"]
    assert api.get(f"/workspaces/{foreign_id}").status_code == 404
    assert api.put(f"/workspaces/{foreign_id}", json={"name": "Stolen"}).status_code == 404
    assert foreign_id not in [w["id"] for w in api.get("/workspaces").json()["records"]]


def test_new_workspace_has_the_default_event_type(api: httpx.Client,
                                                  meshes_server: MeshesServer) -> None:
    """The quickstart: `contact.created` is "the default event type created for your account"."""
    created = api.post("/workspaces", json={"name": "Fresh"}).json()["workspace"]
    event_types = api.get(f"/workspaces/{created['id']}/event-types").json()
    assert [(e["key"], e["label"], e["active"]) for e in event_types] == [
        ("contact.created", "contact.created", True)]
    with_key = api.get(f"/workspaces/{created['id']}").json()["publishable_key"]["public_key"]
    event = {"event": "contact.created", "payload": {"email": "ada@example.com"}}
    with meshes_server.ingest_client(with_key) as ingest:
        assert ingest.post("/events", json=event).status_code == 201
    again = api.get(f"/workspaces/{created['id']}/event-types").json()
    assert [e["key"] for e in again] == ["contact.created"]  # known already: not added twice
