"""Secrets never appear in a response or a log line: machine secrets, connection credentials,
webhook auth and signing secrets, through a whole delivery scenario (success, failure, retries).

The webhook receiver on 127.0.0.1 must get the real secrets (proof they were used); everything
the emulator answers or logs must not contain them.
"""

from __future__ import annotations

import base64
import json
import logging
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from meshes_emulator.clock import isoformat, parse_instant
from pytest_meshes import MeshesServer
from pytest_meshes.clients import MachineAuth
from pytest_meshes.tokens import mint_token
from tests.engine.webhook_receiver import Receiver, Reply
from tests.helpers import start_serve

MARK = "l3akm3"  # every connection secret below contains it


def with_userinfo(url: str) -> str:
    """`url` with a password in its userinfo (`http://user:pass@host/`, issue 13)."""
    return url.replace("http://", f"http://hook-user:url-{MARK}-pw@", 1)


def hook_metadata(url: str, scheme: str) -> dict[str, Any]:
    if scheme == "userinfo":
        url, scheme = with_userinfo(url), "none"
    metadata: dict[str, Any] = {
        "url": url, "auth_scheme": scheme, "signing_algorithm": "sha256",
        "signing_secret": f"sign-{MARK}-secret",
        "headers": [{"name": "X-Api-Key", "value": f"hdr-{MARK}-key"},
                    {"name": "X-Tenant", "value": "acme"}],
    }
    if scheme == "bearer":
        metadata["bearer_token"] = f"bearer-{MARK}-token"
    elif scheme == "basic":
        metadata.update(basic_username="user", basic_password=f"pw-{MARK}-word")
    elif scheme == "custom_header":
        metadata.update(auth_header_name="X-Custom-Auth", auth_header_value=f"custom-{MARK}")
    return metadata


def run_scenario(server: MeshesServer, api: httpx.Client, receiver_url: str) -> list[httpx.Response]:
    """Connections of every webhook auth scheme, deliveries that pass and fail, every read."""
    ws = server.workspace_id
    responses: list[httpx.Response] = []
    keep = responses.append
    admin = httpx.Client(base_url=server.url + "/_emulator", timeout=30)
    rules = []
    for scheme, path in (("bearer", "/ok"), ("basic", "/fail"), ("custom_header", "/ok"),
                         ("none", "/fail"), ("userinfo", "/fail")):
        created = api.post("/connections", json={"workspace": ws, "type": "webhook",
                                                 "name": f"hook {scheme}",
                                                 "metadata": hook_metadata(receiver_url + path,
                                                                           scheme)})
        keep(created)
        assert created.status_code == 201, created.text
        connection = created.json()["connection"]
        keep(api.get(f"/connections/{connection['id']}"))
        keep(api.put(f"/connections/{connection['id']}", json={
            "name": f"hook {scheme}", "metadata": hook_metadata(receiver_url + path, scheme)}))
        rule = api.post("/rules", json={"workspace": ws, "connection": connection["id"],
                                        "event": "secret.test",
                                        "metadata": {"action": "send_webhook"}})
        keep(rule)
        rules.append(rule.json()["rule"]["id"])
    sendgrid = api.post("/connections", json={"workspace": ws, "type": "sendgrid", "name": "mail",
                                              "metadata": {"api_key": f"SG.{MARK}.key"}})
    keep(sendgrid)
    keep(api.post("/connections", json={"workspace": ws, "type": "sendgrid", "name": "mail",
                                        "metadata": {"api_key": f"SG.{MARK}.dup"}}))  # 409
    keep(api.post("/connections", json={"workspace": ws, "type": "webhook", "name": "bad",
                                        "metadata": {"url": "ftp://x", "auth_scheme": "bearer",
                                                     "bearer_token": f"b-{MARK}"}}))  # 400
    with server.ingest_client() as ingest:
        event = ingest.post("/events", json={"event": "secret.test", "payload": {"n": 1}})
    keep(event)
    event_id = event.json()["event"]["id"]
    keep(admin.post("/settle"))
    for _ in range(8):  # walk the manual clock through every retry
        now = parse_instant(admin.get("/clock").json()["now"])
        keep(admin.post("/clock", json={"now": isoformat(now + timedelta(hours=6))}))
        keep(admin.post("/settle"))
    keep(api.get(f"/events/{event_id}"))
    keep(api.get(f"/events/{event_id}/payload"))
    for rule_id in rules:
        attempts = api.get(f"/events/{event_id}/rules/{rule_id}/attempts")
        keep(attempts)
        for attempt in attempts.json()["records"]:
            base = f"/events/{event_id}/rules/{rule_id}/attempts/{attempt['id']}"
            keep(api.get(base))
            keep(api.get(base + "/response-details"))
        keep(api.post(f"/events/{event_id}/rules/{rule_id}/retry"))
    keep(api.get("/connections", params={"limit": 200}))
    keep(api.get(f"/workspaces/{ws}/connections"))
    keep(api.get("/rules"))
    keep(api.get(f"/workspaces/{ws}/events"))
    keep(admin.get("/deliveries"))
    keep(admin.get("/errors"))
    keep(admin.get("/idle"))
    # refused credentials: the answer must not echo what was sent
    for token in (server.token(secret="W" * 48), server.token(lifetime=600),
                  jwt.encode({"x": server.secret_key}, server.secret_key, algorithm="HS256")):
        keep(httpx.get(server.api_url + "/workspaces", headers={"Authorization": f"Bearer {token}"}))
    admin.close()
    return responses


def test_no_secret_in_any_response_or_log(
    meshes_server: MeshesServer, api: httpx.Client, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    with Receiver() as receiver:
        receiver.replies["/fail"] = Reply(status=503, body=b'{"error": "down"}')
        responses = run_scenario(meshes_server, api, receiver.url)
        received = receiver.requests
    assert {200, 201, 400, 401, 409} <= {r.status_code for r in responses}
    # the secrets were really used on the wire
    seen = json.dumps([dict(r.headers) for r in received])
    userinfo = base64.b64encode(f"hook-user:url-{MARK}-pw".encode()).decode()
    for secret in (f"bearer-{MARK}-token", f"custom-{MARK}", f"hdr-{MARK}-key", userinfo):
        assert secret in seen
    assert any("x-meshes-signature" in {k.lower() for k in r.headers} for r in received)
    secrets = [MARK, meshes_server.secret_key]
    for response in responses:
        for secret in secrets:
            at = response.text.find(secret)
            assert at < 0, (response.request.method, str(response.request.url),
                            response.text[max(0, at - 300):at + 60])
    for secret in secrets:
        assert secret not in caplog.text
        out, err = capfd.readouterr()
        assert secret not in out and secret not in err


def test_no_secret_on_the_servers_stderr(tmp_path: Path) -> None:
    """`serve` as users run it: its stderr (warnings, errors) never carries a secret."""
    process, info = start_serve("--db", str(tmp_path / "s.db"), "--clock", "manual")
    try:
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth, timeout=30) as api, \
                Receiver() as receiver:
            receiver.replies["/fail"] = Reply(status=500)
            ws = info["workspaces"][0]["id"]
            for path in ("/ok", "/fail"):
                hook = api.post("/connections", json={
                    "workspace": ws, "type": "webhook", "name": f"h{path[1:]}",
                    "metadata": hook_metadata(receiver.url + path, "bearer")})
                assert hook.status_code == 201, hook.text
                api.post("/rules", json={"workspace": ws, "connection": hook.json()["connection"]["id"],
                                         "event": "s", "metadata": {"action": "send_webhook"}})
            api.post("/events", json={"workspace": ws, "event": "s", "payload": {"a": 1}})
            httpx.post(info["base_url"] + "/_emulator/settle", timeout=30)
            bad = mint_token(info["access_key"], "W" * 48, info["org_id"])
            httpx.get(info["api_url"] + "/workspaces", headers={"Authorization": f"Bearer {bad}"})
            assert receiver.requests
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.stderr is not None and process.stdout is not None
    err, rest_of_out = process.stderr.read(), process.stdout.read()
    process.stderr.close()
    process.stdout.close()
    for secret in (MARK, info["secret_key"]):
        assert secret not in err
        assert secret not in rest_of_out  # the banner (read already) is the only place


def test_url_userinfo_is_masked_and_kept_on_a_round_trip(
        meshes_server: MeshesServer, api: httpx.Client) -> None:
    """`http://user:pass@host/` shows as `http://user:********@host/` in every read and in the
    delivery sink; sending the masked URL back keeps the stored password (issue 13 item 5)."""
    ws = meshes_server.workspace_id
    with Receiver() as receiver:
        url = with_userinfo(receiver.url + "/ok")
        created = api.post("/connections", json={
            "workspace": ws, "type": "webhook", "name": "userinfo",
            "metadata": {"url": url, "auth_scheme": "none"}})
        assert created.status_code == 201, created.text
        connection = created.json()["connection"]
        masked = receiver.url.replace("http://", "http://hook-user:********@") + "/ok"
        assert connection["metadata"]["url"] == masked
        listed = api.get("/connections").json()["records"]
        assert [c["metadata"]["url"] for c in listed if c["id"] == connection["id"]] == [masked]
        updated = api.put(f"/connections/{connection['id']}", json={
            "name": "userinfo", "metadata": connection["metadata"]})  # the masked URL, sent back
        assert updated.status_code == 200, updated.text
        api.post("/rules", json={"workspace": ws, "connection": connection["id"],
                                 "event": "userinfo.test", "metadata": {"action": "send_webhook"}})
        with meshes_server.ingest_client() as ingest:
            ingest.post("/events", json={"event": "userinfo.test", "payload": {"n": 1}})
        meshes_server.admin("POST", "/settle")
        received = receiver.requests
    password = base64.b64encode(f"hook-user:url-{MARK}-pw".encode()).decode()
    assert [r.headers.get("Authorization") for r in received] == [f"Basic {password}"]
    sink = meshes_server.admin("GET", "/deliveries")["records"]
    assert [record["request"]["url"] for record in sink] == [masked]
    assert MARK not in json.dumps(sink)


@pytest.mark.parametrize(("url", "masked"), [
    ("http://u:p@h/x", "http://u:********@h/x"),
    ("https://token@h:8443/x?y#z", "https://********@h:8443/x?y#z"),
    ("http://u:p@ss@h/", "http://u:********@h/"),
    ("http://h/a@b", "http://h/a@b"),
    ("http://h/?next=http://u:p@x", "http://h/?next=http://u:p@x"),
    ("mailto:a@b.example", "mailto:a@b.example"),
    ("not a url @ all", "not a url @ all"),
])
def test_mask_url(url: str, masked: str) -> None:
    from meshes_emulator.catalog.credentials import mask_url

    assert mask_url(url) == masked
