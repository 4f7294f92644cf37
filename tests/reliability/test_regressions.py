"""Regression tests for defects found by the reliability work (probes, fuzzing, kill tests).

Each test names the defect it pins; docs/reliability.md lists them.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import httpx

from pytest_meshes import MeshesServer
from tests.helpers import assert_error


def test_template_index_with_thousands_of_digits_does_not_crash_the_attempt(
    api: httpx.Client, ingest: httpx.Client, meshes_server: MeshesServer
) -> None:
    """Defect: `{{items.999...}}` (5,000 digits) in a Slack template raised in int() (Python caps
    integer parsing at 4,300 digits) inside the dispatcher: a captured internal error."""
    ws = meshes_server.workspace_id
    slack = api.post("/connections", json={"workspace": ws, "type": "slack", "name": "chat",
                                           "metadata": {"access_token": "xoxb-t", "team_id": "T1"}})
    assert slack.status_code == 201, slack.text
    template = "n={{items." + "9" * 5000 + "}}"
    rule = api.post("/rules", json={"workspace": ws, "connection": slack.json()["connection"]["id"],
                                    "event": "deep.index", "metadata": {
                                        "action": "send_message", "id": "C1",
                                        "template": template}})
    assert rule.status_code == 201, rule.text
    event = ingest.post("/events", json={"event": "deep.index", "payload": {"items": [1, 2]}})
    assert event.status_code == 201
    meshes_server.admin("POST", "/settle")
    done = api.get(f"/events/{event.json()['event']['id']}").json()
    assert done["status"] == "completed", done
    assert meshes_server.server_errors() == []


def test_deliveries_limit_with_non_ascii_digits_is_400(meshes_server: MeshesServer) -> None:
    """Defect: GET /_emulator/deliveries?limit=² passed str.isdigit() and then broke int()."""
    with httpx.Client(base_url=meshes_server.url, timeout=30) as admin:
        for value in ("\u00b2", "\u0661", "9" * 5000):
            assert_error(admin.get("/_emulator/deliveries", params={"limit": value}), 400,
                         "BadRequest")


def test_content_length_with_non_ascii_digits_is_not_a_500() -> None:
    """Defect: a Content-Length of '²' passed str.isdigit() in read_body and broke int().

    HTTP servers refuse such a header before the app, so this goes through ASGI directly."""
    import asyncio

    from meshes_emulator import Settings, create_app

    app = create_app(Settings())

    async def call() -> int:
        status = 0
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/_emulator/orgs", "raw_path":
                 b"/_emulator/orgs", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"),
                             (b"content-length", "\u00b2".encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        await app(scope, receive, send)
        return status

    assert asyncio.run(call()) < 500
    assert app.state.emulator.errors == []
