"""CORS on the ingestion routes (issue 12 item 1): every actual response of POST /events and
POST /events/bulk carries the headers a browser needs, whatever its status; management routes
carry none. The real-browser check is tests/browser/test_ingest_browser.py."""

from __future__ import annotations

import httpx
import pytest

from meshes_emulator import Settings, create_app, defaults
from meshes_emulator.cors import PREFLIGHT_HEADERS
from meshes_emulator.services import events as event_service
from meshes_emulator.settings import DEFAULT_MAX_BODY_BYTES
from pytest_meshes import MeshesServer
from tests.engine.aio import run_async

EVENT = {"event": "user.signup", "payload": {"email": "ada@example.com"}}
ORIGIN = "http://127.0.0.2:8000"


def assert_cors(response: httpx.Response) -> None:
    """The actual response may be read by a page of any origin, Retry-After included."""
    assert response.headers["access-control-allow-origin"] == "*", response.headers
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"retry-after", "x-meshes-emulator-warning"} <= exposed


@pytest.mark.parametrize("path", ["/events", "/events/bulk"])
def test_preflight_and_actual_response_agree(raw: httpx.Client, ingest: httpx.Client,
                                             path: str) -> None:
    preflight = raw.options(f"/api/v1{path}", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-meshes-publishable-key,x-meshes-client"})
    assert preflight.status_code == 204
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "x-meshes-client" in allowed and "x-meshes-publishable-key" in allowed
    body = EVENT if path == "/events" else [EVENT]
    actual = ingest.post(path, json=body, headers={"Origin": ORIGIN})
    assert actual.status_code == 201
    assert_cors(actual)
    assert actual.headers["access-control-allow-origin"] == PREFLIGHT_HEADERS[
        "Access-Control-Allow-Origin"]


def test_207_400_413_and_auth_failures(ingest: httpx.Client, raw: httpx.Client,
                                       meshes_server: MeshesServer) -> None:
    partial = ingest.post("/events/bulk", json=[EVENT, {"payload": {}}])
    assert partial.status_code == 207
    assert_cors(partial)
    invalid = ingest.post("/events", json={"payload": {}})
    assert invalid.status_code == 400
    assert_cors(invalid)
    not_json = ingest.post("/events", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert_cors(not_json)
    too_large = ingest.post("/events/bulk", content=b"[" + b" " * DEFAULT_MAX_BODY_BYTES + b"]",
                            headers={"Content-Type": "application/json"})
    assert too_large.status_code == 413
    assert_cors(too_large)
    for headers in ({}, {"X-Meshes-Publishable-Key": "mesh_pub_nope_nope_nope"}):
        for path in ("/api/v1/events", "/api/v1/events/bulk"):
            refused = raw.post(path, json=EVENT, headers=headers)
            assert refused.status_code == 401
            assert_cors(refused)


def test_api_faults_expose_retry_after(ingest: httpx.Client, meshes_server: MeshesServer) -> None:
    meshes_server.fail_api(429, method="POST", path="/events", retry_after=7, times=1)
    limited = ingest.post("/events", json=EVENT)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert_cors(limited)
    meshes_server.fail_api(503, method="POST", path="/events/bulk", times=1)
    unavailable = ingest.post("/events/bulk", json=[EVENT])
    assert unavailable.status_code == 503
    assert_cors(unavailable)


def test_management_routes_have_no_cors(api: httpx.Client, meshes_server: MeshesServer) -> None:
    for response in (api.get("/events"), api.get("/workspaces"),
                     api.post("/workspaces", json={"name": "No CORS here"})):
        assert "access-control-allow-origin" not in response.headers


def test_unexpected_error_500_still_has_cors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 500 of CatchAllMiddleware is answered inside the CORS middleware."""

    def explode(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(event_service, "parse_one", explode)
    monkeypatch.setattr(event_service, "create_bulk", explode)
    app = create_app(Settings())

    async def call(path: str, body: object) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.post(path, json=body, headers={
                "X-Meshes-Publishable-Key": defaults.DEFAULT_PUBLISHABLE_KEY})

    for path, body in (("/api/v1/events", EVENT), ("/api/v1/events/bulk", [EVENT])):
        response = run_async(call(path, body))
        assert response.status_code == 500
        assert_cors(response)
    assert len(app.state.emulator.errors) == 2
