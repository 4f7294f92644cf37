"""Launch URLs, embed pages and the local dashboard over plain HTTP (behavior §5.2, §5.5)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.sessions.helpers import connection, emit, mint, move_clock, rule


@pytest.fixture
def web(meshes_server: MeshesServer) -> Any:
    with httpx.Client(base_url=meshes_server.url, timeout=30) as client:
        yield client


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="meshes-config" type="application/json">(.*?)</script>', html,
                      re.S)
    assert match, html[:500]
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def test_launch_url_serves_the_page_once(api: httpx.Client, web: httpx.Client, ws: str) -> None:
    session = mint(api, ws, launch_page="events", role="admin")
    first = web.get(session["launch_url"])
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    assert first.headers["cache-control"] == "no-store"
    assert "frame-ancestors *" in first.headers["content-security-policy"]
    config = page_config(first.text)
    assert config["mode"] == "embed"
    assert config["page"] == "events"
    assert (config["session_id"], config["workspace_id"], config["role"]) == (
        session["session_id"], ws, "admin")
    assert session["access_token"] not in first.text
    again = web.get(session["launch_url"])
    assert again.status_code == 401
    assert "already used" in again.text


def test_launch_token_expires_on_the_emulator_clock(api: httpx.Client, web: httpx.Client,
                                                    meshes_server: MeshesServer, ws: str) -> None:
    session = mint(api, ws, launch_ttl_seconds=15)
    move_clock(meshes_server, 15)
    response = web.get(session["launch_url"])
    assert response.status_code == 401
    assert "expired" in response.text


def test_revoked_session_cannot_launch(api: httpx.Client, web: httpx.Client, ws: str) -> None:
    session = mint(api, ws)
    api.delete(f"/sessions/{session['session_id']}")
    assert web.get(session["launch_url"]).status_code == 401


@pytest.mark.parametrize("url", ["/embed/workspace/dashboard", "/embed/workspace/dashboard?launch=x"])
def test_missing_or_unknown_launch_token(web: httpx.Client, url: str) -> None:
    response = web.get(url)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")


def test_page_outside_the_session_type_is_refused_without_using_the_token(
        api: httpx.Client, web: httpx.Client, ws: str) -> None:
    session = mint(api, ws, session_type="resource", resource="user", resource_id="u-1")
    token = session["launch_token"]
    refused = web.get(f"/embed/workspace/connections?launch={token}")
    assert refused.status_code == 403
    assert web.get(f"/embed/workspace/settings?launch={token}").status_code == 404
    opened = web.get(f"/embed/workspace/rules?launch={token}")
    assert opened.status_code == 200
    assert page_config(opened.text)["pages"] == ["dashboard", "rules", "events"]


def test_allowed_origins_narrow_the_frame_ancestors(api: httpx.Client, web: httpx.Client,
                                                    ws: str) -> None:
    session = mint(api, ws, allowed_origins=["https://app.example.com/path",
                                             "http://localhost:3000"])
    response = web.get(session["launch_url"])
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors https://app.example.com http://localhost:3000" in policy
    assert page_config(response.text)["allowed_origins"] == [
        "https://app.example.com", "http://localhost:3000"]


def test_static_assets(web: httpx.Client) -> None:
    script = web.get("/embed/static/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "meshes:ready" in script.text
    assert web.get("/embed/static/app.css").headers["content-type"].startswith("text/css")
    missing = web.get("/embed/static/secrets.txt")
    assert missing.status_code == 404
    assert missing.json()["error"]["name"] == "NotFound"


def test_dashboard_page_carries_no_secrets(web: httpx.Client, meshes_server: MeshesServer) -> None:
    response = web.get("/")
    assert response.status_code == 200
    assert page_config(response.text)["mode"] == "local"
    assert meshes_server.secret_key not in response.text
    assert meshes_server.access_key not in response.text


def test_metrics_for_a_session_and_for_the_dashboard(api: httpx.Client, web: httpx.Client,
                                                     meshes_server: MeshesServer, ws: str) -> None:
    conn = connection(api, ws)
    rule(api, ws, conn["id"], resource="user", resource_id="u-1")
    emit(api, ws, resource="user", resource_id="u-1")
    emit(api, ws, resource="user", resource_id="u-2")
    meshes_server.admin("POST", "/settle")

    token = mint(api, ws, session_type="dashboard")["access_token"]
    whole = web.get("/embed/api/metrics", headers={"Authorization": f"Bearer {token}"}).json()
    assert whole["events"]["total"] == 2
    assert whole["deliveries"]["by_status"] == {"completed": 1}
    assert whole["attempts"]["by_outcome"] == {"delivered": 1}
    assert (whole["rules"], whole["connections"]) == (1, 1)

    scoped_token = mint(api, ws, session_type="resource", resource="user",
                        resource_id="u-2")["access_token"]
    scoped = web.get("/embed/api/metrics",
                     headers={"Authorization": f"Bearer {scoped_token}"}).json()
    assert scoped["events"]["total"] == 1
    assert scoped["deliveries"]["by_status"] == {}
    assert (scoped["rules"], scoped["connections"]) == (0, None)

    machine = web.get("/embed/api/metrics", params={"workspace_id": ws},
                      headers={"Authorization": f"Bearer {meshes_server.token()}"})
    assert machine.json()["events"]["total"] == 2
    no_ws = web.get("/embed/api/metrics", headers={"Authorization": f"Bearer {meshes_server.token()}"})
    assert no_ws.status_code == 400
    assert web.get("/embed/api/metrics").status_code == 401
