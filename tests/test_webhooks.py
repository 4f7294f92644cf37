"""Receiving webhooks: verify_signature, the meshes_webhook_receiver fixture, plain-http opt-in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshes_emulator.webhooks import sign, verify_signature
from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from pytest_meshes.webhooks import WebhookReceiver
from tests.helpers import clean_env, serve

pytest_plugins = ["pytester"]
BODY = b'{"event":"user.signup","payload":{"email":"ada@example.com"}}'


def test_verify_signature_accepts_only_the_exact_body_and_secret() -> None:
    good = sign(BODY, "s3cret")
    assert good.startswith("sha256=") and verify_signature(BODY, good, "s3cret")
    assert verify_signature(BODY.decode(), good, "s3cret")
    assert verify_signature(BODY, sign(BODY, "s3cret", "sha512"), "s3cret")
    assert not verify_signature(BODY + b" ", good, "s3cret")
    assert not verify_signature(BODY, good, "other")
    assert not verify_signature(BODY, None, "s3cret")
    assert not verify_signature(BODY, "md5=" + good[7:], "s3cret")
    assert not verify_signature(BODY, good.upper(), "s3cret")


def _hook(meshes_server: MeshesServer, api: httpx.Client, metadata: dict[str, Any]) -> None:
    created = api.post("/connections", json={"workspace": meshes_server.workspace_id,
                                             "type": "webhook", "name": "My app",
                                             "metadata": metadata})
    assert created.status_code == 201, created.text
    rule = api.post("/rules", json={"workspace": meshes_server.workspace_id,
                                    "connection": created.json()["connection"]["id"],
                                    "event": "user.signup", "metadata": {"action": "send_webhook"}})
    assert rule.status_code == 201, rule.text


def test_the_receiver_records_signed_deliveries_and_scripts_answers(
        meshes_server: MeshesServer, api: httpx.Client, ingest: httpx.Client,
        meshes_webhook_receiver: WebhookReceiver) -> None:
    receiver = meshes_webhook_receiver
    _hook(meshes_server, api, receiver.connection_metadata())
    receiver.respond(500, {"error": "down"}, times=2)
    event = ingest.post("/events", json={"event": "user.signup",
                                         "payload": {"email": "ada@example.com"}}).json()["event"]
    meshes_server.advance(10)  # attempts at 0 s, 1 s, 3 s: two 500s, then the default 200
    assert len(receiver.deliveries) == 3
    delivery = receiver.deliveries[-1]
    assert delivery.method == "POST" and delivery.path == "/meshes-webhook"
    assert delivery.json["uuid"] == event["id"] and delivery.json["event"] == "user.signup"
    assert delivery.json["payload"] == {"email": "ada@example.com"}
    assert delivery.header("content-type") == "application/json"
    assert delivery.header("X-Meshes-Timestamp")
    assert all(d.signature_valid for d in receiver.deliveries)
    meshes_server.assert_delivered(event=event, attempts=3)


def test_a_wrong_secret_is_caught(meshes_server: MeshesServer, api: httpx.Client,
                                  ingest: httpx.Client) -> None:
    receiver = WebhookReceiver().start()
    try:
        _hook(meshes_server, api, receiver.connection_metadata(signing_secret="not-the-one"))
        ingest.post("/events", json={"event": "user.signup", "payload": {"email": "a@b.c"}})
        meshes_server.settle()
    finally:
        receiver.stop()
    assert [d.signature_valid for d in receiver.deliveries] == [False]
    assert receiver.bad_signatures() == receiver.deliveries


def test_the_fixture_fails_a_test_whose_delivery_is_badly_signed(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="""
        def test_bad(meshes_server, meshes_webhook_receiver):
            receiver = meshes_webhook_receiver
            with meshes_server.client() as api:
                hook = api.post("/connections", json={
                    "workspace": meshes_server.workspace_id, "type": "webhook", "name": "Hook",
                    "metadata": receiver.connection_metadata(signing_secret="wrong-secret")})
                api.post("/rules", json={"workspace": meshes_server.workspace_id,
                                         "connection": hook.json()["connection"]["id"],
                                         "event": "user.signup",
                                         "metadata": {"action": "send_webhook"}})
            with meshes_server.ingest_client() as client:
                client.post("/events", json={"event": "user.signup", "payload": {"a": 1}})
            meshes_server.settle()
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*signature that does not verify*"])


def test_plain_http_beyond_loopback_is_opt_in(tmp_path: Path) -> None:
    def create(info: dict[str, Any], url: str) -> httpx.Response:
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth) as client:
            return client.post("/connections", json={
                "workspace": info["workspaces"][0]["id"], "type": "webhook",
                "name": "App " + url[7:10], "metadata": {"url": url}})

    with serve("--db", ":memory:") as info:
        refused = create(info, "http://app:3000/hook")
        assert refused.status_code == 400 and "https" in refused.text
    with serve("--db", ":memory:", "--allow-http-webhooks", "app,API.internal") as info:
        assert create(info, "http://app:3000/hook").status_code == 201
        assert create(info, "http://api.internal/hook").status_code == 201
        assert create(info, "http://other:3000/hook").status_code == 400
    bad = subprocess.run(
        [sys.executable, "-m", "meshes_emulator", "serve", "--port", "0", "--db", ":memory:",
         "--allow-http-webhooks", "http://app:3000"], capture_output=True, text=True,
        env=clean_env(), timeout=30)
    assert bad.returncode == 2 and "--allow-http-webhooks" in bad.stderr


def test_meshes_url_leaves_the_server_alone_unless_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_attached="""
        def test_one(meshes_server):
            with meshes_server.client() as api:
                names = [w["name"] for w in api.get("/workspaces").json()["records"]]
                assert api.post("/workspaces", json={"name": "From the test"}).status_code == 201
            print("NAMES", names)
    """)
    with serve("--db", ":memory:") as info:
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth) as client:
            client.post("/workspaces", json={"name": "Kept by the user"})
        kept = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s",
                                             "--meshes-url", info["base_url"])
        kept.assert_outcomes(passed=1)
        kept.stdout.fnmatch_lines(["meshes: using http://*, left as it is: not reset*"])
        kept.stdout.fnmatch_lines(["*NAMES*Kept by the user*"])
        wiped = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s",
                                              "--meshes-url", info["base_url"], "--meshes-reset")
        wiped.assert_outcomes(passed=1)
        assert "NAMES ['Default Workspace']" in wiped.stdout.str()
