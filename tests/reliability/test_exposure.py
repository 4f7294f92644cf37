"""Exposure: bound beyond loopback, the admin API and the dashboard want the admin token.

A real `meshes-emulator serve --host 0.0.0.0` (every interface, so beyond loopback) is reached
through 127.0.0.1: this test talks to this machine only.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from meshes_emulator import Settings, create_app
from meshes_emulator.cli import main
from meshes_emulator.exposure import admin_token_for, is_loopback, is_public
from meshes_emulator.routes import all_routes
from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from tests.helpers import assert_error, clean_env, local_url, serve

TOKEN_RE = re.compile(r"^[A-Za-z0-9]{32}$")


def _api(info: dict[str, Any]) -> httpx.Client:
    return httpx.Client(base_url=local_url(info) + "/api/v1", timeout=30,
                        auth=MachineAuth(info["access_key"], info["secret_key"], info["org_id"]))


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One server bound to 0.0.0.0 for the module."""
    db = tmp_path_factory.mktemp("exposed") / "e.db"
    with serve("--host", "0.0.0.0", "--db", str(db)) as info:
        yield info


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST", True), ("0.0.0.0", False), ("::", False),
    ("192.0.2.2", False), ("10.0.0.1", False), ("fd00::2", False), ("example.com", False),
    ("", False),
])
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_token_policy() -> None:
    assert admin_token_for("127.0.0.1", None) is None
    assert admin_token_for("127.0.0.1", "my-own-token") == "my-own-token"
    drawn = admin_token_for("0.0.0.0", None)
    assert drawn is not None and TOKEN_RE.match(drawn)
    assert admin_token_for("0.0.0.0", None) != drawn  # not seeded: never the same twice
    auto = admin_token_for("127.0.0.1", "auto")
    assert auto is not None and TOKEN_RE.match(auto)
    assert admin_token_for("0.0.0.0", None, enabled=False) is None
    for bad in ("short", "has space in it", "semi;colon;token", "émulateur-token"):
        with pytest.raises(ValueError, match="admin token"):
            admin_token_for("0.0.0.0", bad)


def test_exposed_start_prints_a_fresh_token(exposed: dict[str, Any]) -> None:
    assert exposed["admin"] == "token"
    assert TOKEN_RE.match(exposed["admin_token"])


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/_emulator/credentials"), ("GET", "/_emulator/info"), ("POST", "/_emulator/reset"),
    ("GET", "/_emulator/token"), ("POST", "/_emulator/orgs"), ("GET", "/_emulator/clock"),
    ("POST", "/_emulator/clock"), ("GET", "/_emulator/errors"), ("GET", "/_emulator/deliveries"),
    ("POST", "/_emulator/settle"), ("GET", "/"), ("GET", "/dashboard"), ("GET", "/nothing-here"),
])
def test_protected_paths_refuse_without_token(exposed: dict[str, Any], method: str,
                                              path: str) -> None:
    url = local_url(exposed) + path
    response = httpx.request(method, url, json={}, timeout=30)
    body = assert_error(response, 401, "Unauthorized")
    assert "admin token" in str(body["error"]).lower()
    assert response.headers["www-authenticate"].startswith("Bearer")
    for headers in ({"X-Meshes-Emulator-Token": "x" * 32},
                    {"Authorization": "Bearer " + "y" * 32},
                    {"X-Meshes-Emulator-Token": exposed["admin_token"][:-1]},
                    {"Cookie": "meshes_emulator_admin=" + "z" * 32}):
        wrong = httpx.request(method, url, json={}, headers=headers, timeout=30)
        assert "not valid" in str(assert_error(wrong, 401, "Unauthorized")["error"])


def test_admin_token_opens_the_admin_api(exposed: dict[str, Any]) -> None:
    token = exposed["admin_token"]
    base = local_url(exposed)
    by_header = httpx.get(base + "/_emulator/credentials",
                          headers={"X-Meshes-Emulator-Token": token}, timeout=30)
    assert by_header.status_code == 200
    assert by_header.json()["organizations"][0]["org_id"] == exposed["org_id"]
    by_bearer = httpx.get(base + "/_emulator/clock", headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
    assert by_bearer.status_code == 200 and by_bearer.json()["mode"] == "system"


def test_refused_admin_write_changes_nothing(exposed: dict[str, Any]) -> None:
    with _api(exposed) as api:
        created = api.post("/workspaces", json={"name": "Survives Reset"})
        assert created.status_code == 201
        refused = httpx.post(local_url(exposed) + "/_emulator/reset", json={}, timeout=30)
        assert_error(refused, 401, "Unauthorized")
        names = [w["name"] for w in api.get("/workspaces").json()["records"]]
        assert "Survives Reset" in names
        refused_org = httpx.post(local_url(exposed) + "/_emulator/orgs", json={"name": "X"},
                                 timeout=30)
        assert_error(refused_org, 401, "Unauthorized")
    creds = httpx.get(local_url(exposed) + "/_emulator/credentials", timeout=30,
                      headers={"X-Meshes-Emulator-Token": exposed["admin_token"]}).json()
    assert len(creds["organizations"]) == 1


def test_public_surface_keeps_its_own_auth(exposed: dict[str, Any]) -> None:
    base = local_url(exposed)
    assert httpx.get(base + "/_emulator/health", timeout=30).json() == {"status": "ok"}
    assert httpx.get(base + "/openapi.json", timeout=30).status_code == 200
    # the API refuses anonymous calls with its own 401, not the admin one
    anonymous = assert_error(httpx.get(base + "/api/v1/workspaces", timeout=30), 401,
                             "Unauthorized")
    assert "admin token" not in str(anonymous).lower()
    # ... and the admin token is no API credential
    with_admin = httpx.get(base + "/api/v1/workspaces", timeout=30,
                           headers={"Authorization": "Bearer " + exposed["admin_token"]})
    assert_error(with_admin, 401, "Unauthorized")
    with _api(exposed) as api:
        assert api.get("/workspaces").status_code == 200
    with httpx.Client(base_url=base + "/api/v1", timeout=30) as ingest:
        sent = ingest.post("/events", json={"event": "exposed.ping", "payload": {"a": 1}},
                           headers={"X-Meshes-Publishable-Key":
                                    exposed["workspaces"][0]["publishable_key"]})
        assert sent.status_code in (201, 501), sent.text
    # embed launch pages answer on their own terms (a bad launch token is refused by the page)
    launch = httpx.get(base + "/embed/workspace/dashboard?launch=not-a-token", timeout=30)
    assert launch.status_code != 401 or "admin token" not in launch.text.lower()


def test_dashboard_opens_with_token_in_query_and_remembers_it(exposed: dict[str, Any]) -> None:
    base = local_url(exposed)
    token = exposed["admin_token"]
    with httpx.Client(base_url=base, timeout=30) as browser:
        page = browser.get("/", params={"admin_token": token})
        assert page.status_code == 200, page.text
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # the dashboard's own fetches now carry the cookie
        minted = browser.get("/_emulator/token")
        assert minted.status_code == 200 and minted.json()["token"].count(".") == 2
    # the query token works on the dashboard page only, never on the admin API
    refused = httpx.get(base + "/_emulator/credentials", params={"admin_token": token}, timeout=30)
    assert_error(refused, 401, "Unauthorized")


def test_pytest_plugin_handle_sends_the_admin_token(exposed: dict[str, Any]) -> None:
    handle = MeshesServer(local_url(exposed), admin_token=exposed["admin_token"])
    try:
        assert handle.org_id == exposed["org_id"]
        assert handle.server_errors() == []
    finally:
        handle.close()


def test_no_admin_switches_admin_and_dashboard_off(tmp_path: Path) -> None:
    with serve("--host", "0.0.0.0", "--no-admin", "--db", str(tmp_path / "n.db")) as info:
        assert info["admin"] == "off" and info["admin_token"] is None
        base = local_url(info)
        for path in ("/_emulator/credentials", "/_emulator/token", "/"):
            response = httpx.get(base + path, timeout=30)
            assert "--no-admin" in str(assert_error(response, 404, "NotFound")["error"])
        reset = httpx.post(base + "/_emulator/reset", json={}, timeout=30)
        assert_error(reset, 404, "NotFound")
        assert httpx.get(base + "/_emulator/health", timeout=30).status_code == 200
        with _api(info) as api:
            assert api.get("/workspaces").status_code == 200


def test_loopback_stays_open_unless_a_token_is_forced(tmp_path: Path) -> None:
    with serve("--db", str(tmp_path / "l.db")) as info:
        assert info["admin"] == "open" and info["admin_token"] is None
        assert httpx.get(info["base_url"] + "/_emulator/credentials", timeout=30).status_code == 200
    forced = "forced-token-0123456789"
    with serve("--db", str(tmp_path / "f.db"), "--admin-token", forced) as info:
        assert info["admin"] == "token" and info["admin_token"] == forced
        base = info["base_url"]
        assert_error(httpx.get(base + "/_emulator/credentials", timeout=30), 401, "Unauthorized")
        ok = httpx.get(base + "/_emulator/credentials", timeout=30,
                       headers={"X-Meshes-Emulator-Token": forced})
        assert ok.status_code == 200
    env = clean_env(MESHES_EMULATOR_ADMIN_TOKEN=forced)
    with serve("--db", str(tmp_path / "v.db"), env=env) as info:
        assert info["admin_token"] == forced


def test_unusable_admin_token_is_refused_at_start() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--admin-token", "short"])
    assert result.exit_code == 2
    assert "admin token" in result.output


def test_human_banner_prints_the_token(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "meshes_emulator", "serve", "--host", "0.0.0.0", "--port", "0",
         "--db", str(tmp_path / "h.db")], stdout=subprocess.PIPE, text=True, env=clean_env(),
    ) as process:
        assert process.stdout is not None
        try:
            lines: list[str] = []
            while not any("to your own on a shared host" in line for line in lines):
                line = process.stdout.readline()
                assert line, "banner ended without the admin token"
                lines.append(line)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
    text = "".join(lines)
    token = re.search(r"Admin token:  (\S+)", text)
    assert token and TOKEN_RE.match(token.group(1))
    assert f"export MESHES_EMULATOR_ADMIN_TOKEN={token.group(1)}" in text
    assert "public default" in text  # the default machine key is public knowledge


def test_every_non_public_route_is_guarded_in_process() -> None:
    """Every route of the table outside the public surface wants the token (ASGI, no socket)."""
    app = create_app(Settings(admin_token="in-process-token-123"))
    paths = _route_paths(all_routes())
    guarded = [(m, p) for m, p in paths if not is_public(p)]
    assert ("GET", "/") in guarded and any(p.startswith("/_emulator/") for _, p in guarded)

    async def run() -> list[tuple[str, str, int]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            seen = []
            for method, path in guarded:
                concrete = re.sub(r"\{[^}]+\}", "x", path)
                response = await client.request(method, concrete)
                seen.append((method, path, response.status_code))
            return seen

    refused = asyncio.run(run())
    assert [r for r in refused if r[2] != 401] == []
    assert app.state.emulator.errors == []


def _route_paths(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in routes:
        if hasattr(route, "routes") and not hasattr(route, "methods"):
            found += _route_paths(route.routes, prefix + route.path)
        else:
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, prefix + route.path))
    return found
