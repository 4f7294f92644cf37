"""The request journal (GET /_emulator/requests, the toolkit) and the emulator's log records."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from meshes_emulator import Settings, create_app
from pytest_meshes import MeshesServer
from pytest_meshes.server import asgi_request
from pytest_meshes.toolkit import RequestAssertionError
from tests.api.connection_helpers import VALID_METADATA
from tests.api.event_helpers import create_rule, webhook_connection
from tests.engine.webhook_receiver import Receiver


def test_requests_are_journaled_with_caller_error_and_masked_body(
        meshes_server: MeshesServer, api: httpx.Client) -> None:
    ws = meshes_server.workspace_id
    for kind, metadata in VALID_METADATA.items():
        api.post("/connections", json={"workspace": ws, "type": kind, "name": kind,
                                       "metadata": metadata})
    api.post("/connections", json={"type": "webhook", "metadata": {"secret": "s3cr3t-hook"}})
    records = meshes_server.requests("POST", "/api/v1/connections")
    assert len(records) == len(VALID_METADATA) + 1
    assert "s3cr3t" not in json.dumps(records)
    assert records[0]["principal"] == {"kind": "machine", "org_id": meshes_server.org_id,
                                       "workspace_id": None, "key": meshes_server.access_key}
    refused = records[-1]
    assert refused["status"] == 400 and refused["error"] == "workspace: Field required"
    assert refused["body"] == {"type": "webhook", "metadata": {"secret": "********"}}
    assert not meshes_server.requests(path="/_emulator/*")  # the admin API is not journaled


def test_filters_and_assert_requested(meshes_server: MeshesServer, api: httpx.Client,
                                      ingest: httpx.Client) -> None:
    ingest.post("/events", json={"event": "user.signup", "payload": {"email": "a@b.c"}})
    api.get("/workspaces/00000000-0000-4000-8000-000000000000")
    api.get("/workspaces", params={"limit": 5})
    assert [r["status"] for r in meshes_server.requests(status="4xx")] == [404]
    listed = meshes_server.requests("GET", "/api/v1/workspaces")
    assert [r["query"] for r in listed] == ["limit=5"]
    assert len(meshes_server.requests(path="/api/v1/workspaces*")) == 2
    first = meshes_server.requests()[0]
    assert first["principal"]["kind"] == "publishable"
    assert [r["id"] for r in meshes_server.requests(since=first["id"])] == [first["id"] + 1,
                                                                              first["id"] + 2]
    assert len(meshes_server.requests(limit=1)) == 1
    meshes_server.assert_requested("POST", "/api/v1/events", status=201, count=1)
    meshes_server.assert_requested("get", "/api/v1/workspaces/*", status="4xx")
    with pytest.raises(RequestAssertionError) as failure:
        meshes_server.assert_requested("POST", "/api/v1/events", count=2)
    assert "received 1 time(s)" in str(failure.value)
    assert "POST /api/v1/events -> 201" in str(failure.value)
    with pytest.raises(AssertionError, match="status"):
        meshes_server.admin("GET", "/requests?status=teapot")


def test_reset_clears_the_journal(meshes_server: MeshesServer, api: httpx.Client) -> None:
    api.get("/workspaces")
    assert meshes_server.requests()
    meshes_server.reset()
    assert meshes_server.requests() == []


def test_a_journal_of_zero_is_off() -> None:
    app = create_app(Settings(request_journal=0, background_dispatcher=False))
    status, _ = asyncio.run(asgi_request(app, "GET", "/api/v1/workspaces", b"", {},
                                         ("127.0.0.1", 80)))
    assert status == 401
    status, body = asyncio.run(asgi_request(app, "GET", "/_emulator/requests", b"", {},
                                            ("127.0.0.1", 80)))
    assert status == 200
    assert json.loads(body) == {"enabled": False, "capacity": 0, "count": 0, "records": []}


def test_log_records_reach_pytest_capture_without_secrets(
        meshes_server: MeshesServer, api: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    ws = meshes_server.workspace_id or ""
    with Receiver() as receiver:
        connection = webhook_connection(api, ws, receiver.url + "/hook", name="Hook",
                                        secret="s3cr3t-signing")
        rule = create_rule(api, ws, connection["id"])
        with caplog.at_level(logging.INFO, logger="meshes_emulator"):
            with meshes_server.ingest_client() as client:
                event = client.post("/events", json={"event": "user.signup",
                                                     "payload": {"email": "a@b.c"}}).json()["event"]
            meshes_server.settle()
    access = [r for r in caplog.records if r.name == "meshes_emulator.access"]
    assert any(r.getMessage().startswith("POST /api/v1/events 201 ") for r in access)
    delivery = [r for r in caplog.records if r.name == "meshes_emulator.delivery"]
    assert len(delivery) == 1
    line = delivery[0].getMessage()
    assert event["id"] in line and rule["id"] in line and connection["id"] in line
    assert "delivered" in line and "completed" in line
    assert "s3cr3t" not in caplog.text and meshes_server.secret_key not in caplog.text
