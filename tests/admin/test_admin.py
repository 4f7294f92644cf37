"""The /_emulator admin API of the foundation: health, reset, credentials, orgs, token, clock."""

from __future__ import annotations

from pathlib import Path

import httpx

from pytest_meshes import MeshesServer
from tests.contract import check_response


def test_health(raw: httpx.Client) -> None:
    response = raw.get("/_emulator/health")
    check_response(response)
    assert response.json() == {"status": "ok"}


def test_reset_removes_everything_but_the_bootstrap(meshes_server: MeshesServer,
                                                    api: httpx.Client, raw: httpx.Client) -> None:
    api.post("/workspaces", json={"name": "Temporary"})
    other = meshes_server.create_org("Temp Org")
    response = raw.post("/_emulator/reset", json={})
    check_response(response)
    assert response.json()["reset"] is True
    assert [w["name"] for w in api.get("/workspaces").json()["records"]] == ["Default Workspace"]
    orgs = [o["org_id"] for o in raw.get("/_emulator/credentials").json()["organizations"]]
    assert other["org_id"] not in orgs


def test_credentials_lists_default_org(meshes_server: MeshesServer, raw: httpx.Client) -> None:
    response = raw.get("/_emulator/credentials")
    check_response(response)
    org = response.json()["organizations"][0]
    assert org["org_id"] == meshes_server.org_id
    assert org["machine_keys"][0]["access_key"] == meshes_server.access_key
    assert org["workspaces"][0]["publishable_key"] == meshes_server.publishable_key
    assert response.json()["api_url"] == meshes_server.api_url


def test_token_endpoint_mints_a_working_jwt(meshes_server: MeshesServer,
                                             raw: httpx.Client) -> None:
    response = raw.get("/_emulator/token")
    check_response(response)
    token = response.json()["token"]
    listed = raw.get("/api/v1/workspaces", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert raw.get("/_emulator/token", params={"org_id": "nope"}).status_code == 404


def test_orgs_can_be_minted_without_a_workspace(raw: httpx.Client) -> None:
    response = raw.post("/_emulator/orgs", json={"name": "Bare", "workspace_name": None})
    check_response(response)
    assert response.status_code == 201
    assert response.json()["workspaces"] == []


def test_manual_clock_can_be_read_and_set(raw: httpx.Client) -> None:
    state = raw.get("/_emulator/clock").json()
    assert state == {"mode": "manual", "now": "2026-01-01T00:00:00.000Z"}
    moved = raw.post("/_emulator/clock", json={"now": "2026-01-01T01:00:00Z"})
    check_response(moved)
    assert moved.json()["now"] == "2026-01-01T01:00:00.000Z"
    backwards = raw.post("/_emulator/clock", json={"now": "2025-12-31T00:00:00Z"})
    check_response(backwards)
    assert backwards.status_code == 409


def test_timestamps_follow_the_manual_clock(api: httpx.Client, raw: httpx.Client) -> None:
    raw.post("/_emulator/clock", json={"now": "2026-03-04T05:06:07Z"})
    workspace = api.post("/workspaces", json={"name": "Timed"}).json()["workspace"]
    assert workspace["created_at"] == "2026-03-04T05:06:07.000Z"


def test_reset_with_start_and_seed(raw: httpx.Client, meshes_server: MeshesServer) -> None:
    raw.post("/_emulator/reset", json={"seed": 5, "start": "2030-01-01T00:00:00Z"})
    assert raw.get("/_emulator/clock").json()["now"] == "2030-01-01T00:00:00.000Z"
    first = meshes_server.create_workspace("Seed check")
    raw.post("/_emulator/reset", json={"seed": 5})
    assert meshes_server.create_workspace("Seed check") == first


def test_reset_rejects_bad_fixture(raw: httpx.Client, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-file.yaml")  # (tmp_path: allowed to the plugin's server)
    response = raw.post("/_emulator/reset", json={"fixtures": [missing]})
    check_response(response)
    assert response.status_code == 400
    assert "cannot read fixture" in response.json()["error"]["message"]
    outside = raw.post("/_emulator/reset", json={"fixtures": ["/no/such/file.yaml"]})
    assert outside.status_code == 400
    assert "not allowed" in outside.json()["error"]["message"]  # (before looking at it)
