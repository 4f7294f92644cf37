"""Ingestion from a browser page on another origin (issue 12 item 1, behavior §1.3).

The page (http://localhost:<port>, the test's HostSite) calls the emulator (http://127.0.0.1:<port>)
with `fetch` exactly as @mesheshq/events does: POST, JSON body, `Content-Type: application/json`,
`Accept`, `X-Meshes-Publishable-Key` and `X-Meshes-Client`. Those headers make Chromium send a
preflight first; then it hands the page the actual response only when that response carries
`Access-Control-Allow-Origin`. The page reads the 201, 207 and 400 bodies (and Retry-After of a
429); the API then shows each accepted event stored exactly once.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.browser.conftest import HostSite

pytest.importorskip("playwright.sync_api",
                    reason="playwright is not installed: run scripts/install-browser")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Signup app</title></head><body>
<script>
  const base = __BASE__;
  const key = __KEY__;
  // What @mesheshq/events sends (src/client: the contract headers it refuses to let callers override).
  window.emit = async (path, body) => {
    const response = await fetch(base + "/api/v1" + path, {
      method: "POST",
      headers: {
        "X-Meshes-Publishable-Key": key,
        "X-Meshes-Client": "Meshes Events Client v1.0.0",
        "Content-Type": "application/json",
        "Accept": "application/json",
      },
      body: JSON.stringify(body),
    });
    return {status: response.status, body: await response.json(),
            retryAfter: response.headers.get("Retry-After")};
  };
</script></body></html>
"""


def open_app(page: Any, host_site: HostSite, meshes_server: MeshesServer) -> None:
    host_site.pages["/"] = (PAGE.replace("__BASE__", json.dumps(meshes_server.url))
                            .replace("__KEY__", json.dumps(meshes_server.publishable_key)))
    page.goto(f"{host_site.origin}/")
    assert host_site.origin.split(":")[1] != meshes_server.url.split(":")[1]  # another origin


def emit(page: Any, path: str, body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate("([path, body]) => window.emit(path, body)", [path, body])
    return answer


def stored(api: httpx.Client, event: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = api.get("/events", params={"limit": 100}).json()["records"]
    return [record for record in records if record["event"] == event]


def test_browser_reads_201_207_and_400(page: Any, api: httpx.Client, meshes_server: MeshesServer,
                                       host_site: HostSite) -> None:
    open_app(page, host_site, meshes_server)

    single = emit(page, "/events", {"event": "user.signup", "payload": {"email": "ada@example.com"}})
    assert single["status"] == 201
    assert single["body"]["event"]["event"] == "user.signup"

    bulk = emit(page, "/events/bulk", [
        {"event": "order.paid", "payload": {"email": "ada@example.com"}},
        {"payload": {"email": "no-event-name@example.com"}},
    ])
    assert bulk["status"] == 207
    assert bulk["body"]["count"] == 2 and bulk["body"]["error_count"] == 1
    accepted, refused = bulk["body"]["records"]
    assert accepted["event"] == "order.paid"
    assert refused["error"]["name"] == "BadRequest"

    invalid = emit(page, "/events", {"payload": {"email": "ada@example.com"}})
    assert invalid["status"] == 400
    assert invalid["body"]["error"]["data"][0]["param"] == "event"

    # each event the browser sent is stored once (no "Failed to fetch" then a retry)
    assert [e["id"] for e in stored(api, "user.signup")] == [single["body"]["event"]["id"]]
    assert [e["id"] for e in stored(api, "order.paid")] == [accepted["id"]]
    assert api.get("/events").json()["count"] == 2


def test_browser_reads_retry_after_of_429(page: Any, api: httpx.Client,
                                          meshes_server: MeshesServer,
                                          host_site: HostSite) -> None:
    open_app(page, host_site, meshes_server)
    meshes_server.fail_api(429, method="POST", path="/events", retry_after=7, times=1)
    limited = emit(page, "/events", {"event": "user.signup", "payload": {"email": "ada@example.com"}})
    assert limited["status"] == 429
    assert limited["retryAfter"] == "7"
    assert limited["body"]["error"]["name"] == "TooManyRequests"
    again = emit(page, "/events", {"event": "user.signup", "payload": {"email": "ada@example.com"}})
    assert again["status"] == 201
    assert api.get("/events").json()["count"] == 1
