"""Every error path answers the Meshes error body (reference §4.1): one helper checks them all."""

from __future__ import annotations

import httpx
import pytest

from meshes_emulator import Settings, create_app, defaults
from pytest_meshes import MeshesServer
from pytest_meshes.handle import mint_token
from tests.engine.aio import run_async
from tests.helpers import assert_error, emulator_of


def test_unknown_route(raw: httpx.Client) -> None:
    assert_error(raw.get("/api/v1/nothing-here"), 404, "NotFound")
    assert_error(raw.get("/api/v2/workspaces"), 404, "NotFound")


def test_wrong_method(api: httpx.Client) -> None:
    response = api.delete("/workspaces")
    assert_error(response, 405, "MethodNotAllowed")
    assert "GET" in response.headers["allow"]


def test_malformed_json(api: httpx.Client) -> None:
    response = api.post("/workspaces", content=b'{"name": ',
                        headers={"content-type": "application/json"})
    assert "Malformed JSON" in str(assert_error(response, 400, "BadRequest"))


def test_wrong_content_type(api: httpx.Client) -> None:
    response = api.post("/workspaces", content=b"name=x",
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert "Content-Type" in str(assert_error(response, 400, "BadRequest"))


def test_missing_body(api: httpx.Client) -> None:
    assert_error(api.post("/workspaces"), 400, "BadRequest")


def test_non_object_body(api: httpx.Client) -> None:
    assert_error(api.post("/workspaces", json=["name"]), 400, "BadRequest")


def test_non_utf8_body(api: httpx.Client) -> None:
    response = api.post("/workspaces", content=b'{"name": "\xff\xfe"}',
                        headers={"content-type": "application/json"})
    assert_error(response, 400, "BadRequest")


def test_oversized_body(api: httpx.Client, meshes_server: MeshesServer) -> None:
    limit = emulator_of(meshes_server).settings.max_body_bytes
    response = api.post("/workspaces", content=b" " * (limit + 1),
                        headers={"content-type": "application/json"})
    assert_error(response, 413, "PayloadTooLarge")
    names = [w["name"] for w in api.get("/workspaces").json()["records"]]
    assert names == ["Default Workspace"]


def test_validation_error_lists_parameters(api: httpx.Client) -> None:
    body = assert_error(api.post("/workspaces", json={"name": "!"}), 400, "BadRequest")
    assert body["error"]["data"][0]["param"] == "name"


def test_unauthorized(raw: httpx.Client) -> None:
    assert_error(raw.get("/api/v1/workspaces"), 401, "Unauthorized")


def test_not_found(api: httpx.Client) -> None:
    assert_error(api.get("/workspaces/nope"), 404, "NotFound")


def test_conflict(api: httpx.Client) -> None:
    api.post("/workspaces", json={"name": "Same"})
    assert_error(api.post("/workspaces", json={"name": "Same"}), 409, "Conflict")


def test_admin_errors_share_the_shape(raw: httpx.Client) -> None:
    assert_error(raw.post("/_emulator/reset", json={"seed": "x"}), 400, "BadRequest")
    assert_error(raw.post("/_emulator/clock", json={"now": "yesterday"}), 400, "BadRequest")


def test_unexpected_exception_is_a_500_in_shape_and_is_captured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from meshes_emulator.services import workspaces

    def explode(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(workspaces, "list_page", explode)
    app = create_app(Settings())
    emulator = app.state.emulator
    token = mint_token(defaults.DEFAULT_ACCESS_KEY, defaults.DEFAULT_SECRET_KEY,
                       defaults.DEFAULT_ORG_ID)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get("/api/v1/workspaces",
                                    headers={"Authorization": f"Bearer {token}"})

    response = run_async(call())
    assert_error(response, 500, "InternalServerError")
    assert "boom" not in response.text  # no internals leak to the client
    assert [e.error for e in emulator.errors] == ["RuntimeError('boom')"]
