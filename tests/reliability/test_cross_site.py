"""What a browser on another site can send is refused (issue 13 item 1), curl's view.

The same attacks from a real browser: tests/browser/test_cross_site_browser.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from meshes_emulator import Settings, create_app
from meshes_emulator.sitecheck import HostPolicy, host_name
from pytest_meshes import MeshesServer
from tests.helpers import assert_error, local_url, serve

EVIL = "https://evil.example"


def _state(meshes_server: MeshesServer) -> tuple[int, int, list[str]]:
    """(organizations, faults, workspace names): what the attacks below try to change."""
    orgs = meshes_server.admin("GET", "/credentials")["organizations"]
    faults = meshes_server.admin("GET", "/faults")["count"]
    return len(orgs), faults, sorted(ws["name"] for ws in orgs[0]["workspaces"])


@pytest.fixture
def with_workspace(meshes_server: MeshesServer) -> MeshesServer:
    meshes_server.create_workspace("Keep me")
    return meshes_server


@pytest.mark.parametrize("path", ["/_emulator/credentials", "/_emulator/token", "/",
                                  "/_emulator/health", "/api/v1/workspaces", "/openapi.json",
                                  "/embed/static/app.js"])
def test_a_foreign_host_name_is_421_on_every_route(meshes_server: MeshesServer,
                                                   path: str) -> None:
    """DNS rebinding: a page on evil.test rebound to 127.0.0.1 sends `Host: evil.test:PORT`."""
    port = meshes_server.url.rsplit(":", 1)[1]
    response = httpx.get(meshes_server.url + path, headers={"Host": f"evil.test:{port}"})
    assert response.status_code == 421
    assert_error(response, 421, "MisdirectedRequest")
    assert "--allowed-host" in response.json()["error"]["message"]
    assert "secret" not in response.text.lower()


@pytest.mark.parametrize("host", ["localhost", "localhost:{port}", "127.0.0.1:{port}",
                                  "127.0.0.1", "[::1]:{port}", "[::1]", "LOCALHOST.:{port}",
                                  "app.localhost:{port}", "10.1.2.3:{port}"])
def test_loopback_names_and_addresses_are_answered(meshes_server: MeshesServer,
                                                   host: str) -> None:
    port = meshes_server.url.rsplit(":", 1)[1]
    response = httpx.get(meshes_server.url + "/_emulator/credentials",
                         headers={"Host": host.format(port=port)})
    assert response.status_code == 200, response.text


def test_host_policy_unit() -> None:
    policy = HostPolicy("0.0.0.0", ["meshes", "Api.Internal."])
    assert [policy.allows(h) for h in (b"meshes:8787", b"api.internal", b"localhost",
                                       b"[::1]:1", b"172.17.0.2:8787", None)] == [True] * 6
    assert [policy.allows(h) for h in (b"evil.test", b"meshes.evil.test", b"localhost.evil",
                                       b"") ] == [False] * 4
    assert HostPolicy("myhost", []).allows(b"myhost:1")
    assert HostPolicy("127.0.0.1", ["*"]).allows(b"anything.example")
    assert host_name("[::1]:8787") == "::1" and host_name("Example.COM.:80") == "example.com"


def test_allowed_host_setting_in_process() -> None:
    app = create_app(Settings(allowed_hosts=("meshes",)))

    async def statuses() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        seen = []
        for base in ("http://meshes:8787", "http://localhost", "http://other"):
            async with httpx.AsyncClient(transport=transport, base_url=base) as client:
                seen.append((await client.get("/_emulator/info")).status_code)
        return seen

    assert asyncio.run(statuses()) == [200, 200, 421]


def test_serve_on_every_interface_answers_loopback_and_allowed_names(
        tmp_path: Any) -> None:
    """`serve --host 0.0.0.0 --allowed-host meshes` (a container): loopback names, its IPs and
    `meshes` are answered; any other name is 421 (before the admin token is even asked)."""
    with serve("--host", "0.0.0.0", "--allowed-host", "meshes", "--db",
               str(tmp_path / "e.db")) as info:
        url, port = local_url(info), info["base_url"].rsplit(":", 1)[1]
        token = {"X-Meshes-Emulator-Token": info["admin_token"]}

        def status(host: str) -> int:
            return httpx.get(url + "/_emulator/info", headers={"Host": host, **token},
                             timeout=30).status_code

        assert [status(h) for h in (f"meshes:{port}", f"localhost:{port}", f"127.0.0.1:{port}",
                                    f"evil.test:{port}")] == [200, 200, 200, 421]


def test_cross_origin_reset_from_the_issue_is_refused(with_workspace: MeshesServer) -> None:
    """`curl -X POST $URL/_emulator/reset -H 'Origin: https://evil.example' -H
    'Content-Type: text/plain'` answered 200 {"reset": true}."""
    before = _state(with_workspace)
    response = httpx.post(with_workspace.url + "/_emulator/reset", content=b"{}",
                          headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert response.status_code == 403
    assert_error(response, 403, "Forbidden")
    assert _state(with_workspace) == before


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/_emulator/reset", b"{}"),
    ("POST", "/_emulator/reset", b""),
    ("POST", "/_emulator/faults", b'{"integration_type": "webhook", "status": 500}'),
    ("POST", "/_emulator/orgs", b'{"name": "Evil"}'),
    ("DELETE", "/_emulator/faults", b""),
])
@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},
    {"Origin": "null"},
    {"Origin": "http://localhost:1"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": EVIL, "Content-Type": "application/json"},
])
def test_cross_site_admin_writes_are_403_and_change_nothing(
        with_workspace: MeshesServer, method: str, path: str, body: bytes,
        headers: dict[str, str]) -> None:
    before = _state(with_workspace)
    response = httpx.request(method, with_workspace.url + path, content=body, headers=headers)
    assert response.status_code == 403, response.text
    assert_error(response, 403, "Forbidden")
    assert _state(with_workspace) == before


@pytest.mark.parametrize("path", ["/_emulator/credentials", "/_emulator/token"])
@pytest.mark.parametrize("headers", [{"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "cross-site",
                                      "Sec-Fetch-Mode": "navigate",
                                      "Sec-Fetch-Dest": "document"}])
def test_cross_site_admin_reads_are_403(meshes_server: MeshesServer, path: str,
                                        headers: dict[str, str]) -> None:
    response = httpx.get(meshes_server.url + path, headers=headers)
    assert response.status_code == 403
    assert meshes_server.secret_key not in response.text


def test_same_origin_browser_requests_pass(meshes_server: MeshesServer) -> None:
    """The dashboard's own calls: same origin, `Sec-Fetch-Site: same-origin`."""
    own = {"Origin": meshes_server.url, "Sec-Fetch-Site": "same-origin"}
    credentials = httpx.get(meshes_server.url + "/_emulator/credentials", headers=own)
    assert credentials.status_code == 200
    advanced = httpx.post(meshes_server.url + "/_emulator/clock/advance", json={"seconds": 1},
                          headers=own)
    assert advanced.status_code == 200, advanced.text
    port = meshes_server.url.rsplit(":", 1)[1]
    via_localhost = httpx.get(meshes_server.url + "/_emulator/clock", headers={
        "Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"})
    assert via_localhost.status_code == 200


def test_a_link_to_the_dashboard_from_another_site_opens_it(meshes_server: MeshesServer) -> None:
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document"}
    assert httpx.get(meshes_server.url + "/", headers=link).status_code == 200
    framed = {**link, "Sec-Fetch-Dest": "iframe"}
    assert httpx.get(meshes_server.url + "/", headers=framed).status_code == 403
    fetched = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors",
               "Sec-Fetch-Dest": "empty"}
    assert httpx.get(meshes_server.url + "/", headers=fetched).status_code == 403


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_admin_writes_with_a_body_want_json(with_workspace: MeshesServer,
                                            content_type: str | None) -> None:
    """No Origin at all (a page could strip none, but an old browser or a plugin might): the
    body must still be declared JSON, which a page cannot do without a CORS preflight."""
    before = _state(with_workspace)
    headers = {"Content-Type": content_type} if content_type else {}
    response = httpx.post(with_workspace.url + "/_emulator/reset", content=b"{}",
                          headers=headers)  # (httpx adds no Content-Type to bytes)
    assert response.status_code == 415, response.text
    assert_error(response, 415, "UnsupportedMediaType")
    assert "application/json" in response.json()["error"]["message"]
    assert _state(with_workspace) == before


def test_admin_writes_without_a_body_or_with_json_pass(meshes_server: MeshesServer) -> None:
    assert httpx.post(meshes_server.url + "/_emulator/settle").status_code == 200
    assert httpx.post(meshes_server.url + "/_emulator/orgs",
                      json={"name": "Second"}).status_code == 201
    merged = httpx.post(meshes_server.url + "/_emulator/clock/advance", content=b'{"seconds": 1}',
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert merged.status_code == 200


def test_public_api_keeps_cross_origin_calls(meshes_server: MeshesServer) -> None:
    """Browsers may call ingestion with CORS: Origin is not checked on /api/v1."""
    key = meshes_server.publishable_key
    assert key is not None
    response = httpx.post(meshes_server.api_url + "/events",
                          json={"event": "user.signup", "payload": {"email": "a@example.com"}},
                          headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site",
                                   "X-Meshes-Publishable-Key": key})
    assert response.status_code in (200, 201, 202), response.text
    with meshes_server.client(headers={"Origin": EVIL}) as api:
        assert api.get("/workspaces").status_code == 200


def test_machine_token_routes_answer_no_cors(meshes_server: MeshesServer) -> None:
    """A page cannot use the well-known default machine key: sending `Authorization`
    cross-origin needs a preflight, which only the ingestion routes answer."""
    preflight = httpx.options(meshes_server.api_url + "/workspaces", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert "access-control-allow-origin" not in preflight.headers
    with meshes_server.client(headers={"Origin": EVIL}) as api:
        listed = api.get("/workspaces")
    assert listed.status_code == 200
    assert "access-control-allow-origin" not in listed.headers
