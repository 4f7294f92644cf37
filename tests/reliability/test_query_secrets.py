"""Secrets sent in a URL stay out of the logs and the request journal (issue 13).

`serve --admin-token` (or any serve beyond loopback) opens the dashboard with `/?admin_token=`,
and an embed iframe opens with `?launch=`. Both went verbatim into the access log (stderr, often
kept as a CI artifact) and into /_emulator/requests (shown by the dashboard). So did the
password of a webhook URL (`http://user:pass@host/`) in a request body, which every API answer
masks.
"""

from __future__ import annotations

import signal
from urllib.parse import urlsplit

import httpx
import pytest

from meshes_emulator.journal import MASK, masked_query
from pytest_meshes.clients import MachineAuth
from tests.helpers import serve, start_serve

TOKEN = "Adm1nT0kenNeverLogged"


def test_admin_and_launch_tokens_never_reach_the_log_or_the_journal() -> None:
    process, info = start_serve("--db", ":memory:", "--admin-token", TOKEN, "--log-level", "debug")
    admin = {"X-Meshes-Emulator-Token": TOKEN}
    try:
        base = info["base_url"]
        opened = httpx.get(f"{base}/?admin_token={TOKEN}&tab=events")
        assert opened.status_code == 200
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth, timeout=30) as api:
            session = api.post("/sessions", json={"workspace_id": info["workspaces"][0]["id"]})
        assert session.status_code == 200, session.text
        launch_url = session.json()["launch_url"]
        launch = dict(part.split("=", 1) for part in urlsplit(launch_url).query.split("&"))["launch"]
        assert httpx.get(launch_url).status_code == 200
        journal = httpx.get(f"{base}/_emulator/requests", headers=admin).json()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.stderr is not None and process.stdout is not None
    log = process.stderr.read()
    process.stderr.close()
    process.stdout.close()
    queries = {record["path"]: record["query"] for record in journal["records"]}
    assert queries["/"] == f"admin_token={MASK}&tab=events"
    assert f"launch={MASK}" in queries[urlsplit(launch_url).path]
    assert f"GET /?admin_token={MASK}&tab=events 200" in log
    for secret in (TOKEN, launch):
        assert secret not in log
        assert secret not in str(journal)


@pytest.mark.parametrize(("query", "masked"), [
    ("", ""),
    ("limit=5&cursor=abc", "limit=5&cursor=abc"),
    ("admin_token=x&b=1", f"admin_token={MASK}&b=1"),
    ("launch=abc&launch=def", f"launch={MASK}&launch={MASK}"),
    ("access%5Ftoken=s3cret", f"access%5Ftoken={MASK}"),
    ("api_key=k&flag&x=", f"api_key={MASK}&flag&x="),
])
def test_masked_query(query: str, masked: str) -> None:
    assert masked_query(query) == masked


def test_a_webhook_url_password_is_masked_in_the_journal() -> None:
    with serve("--db", ":memory:") as info:
        auth = MachineAuth(info["access_key"], info["secret_key"], info["org_id"])
        with httpx.Client(base_url=info["api_url"], auth=auth, timeout=30) as api:
            created = api.post("/connections", json={
                "workspace": info["workspaces"][0]["id"], "type": "webhook", "name": "hook",
                "metadata": {"url": "http://hook-user:Pw-n0t-for-logs@127.0.0.1:9/in",
                             "auth_scheme": "none"}})
        assert created.status_code == 201, created.text
        journal = httpx.get(info["base_url"] + "/_emulator/requests").json()
    assert "Pw-n0t-for-logs" not in str(journal)
    bodies = [record["body"] for record in journal["records"] if record["path"] == "/api/v1/connections"]
    assert bodies[0]["metadata"]["url"] == f"http://hook-user:{MASK}@127.0.0.1:9/in"
