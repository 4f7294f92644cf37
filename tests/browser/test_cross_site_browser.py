"""Another web site in the developer's browser cannot drive or read the admin API (issue 13).

Two attacks found by an independent run, replayed in headless Chromium:

* a page on another origin (the test's host site, http://localhost:<port>) sends *simple*
  requests (no preflight: `mode: "no-cors"`, a Blob or text body, a plain HTML form) to reset
  the data, add a delivery fault and create an organization;
* DNS rebinding: Chromium maps `evil.test` to 127.0.0.1 (`--host-resolver-rules`), so a page on
  http://evil.test:<emulator port> is same-origin with the emulator and tries to read
  /_emulator/credentials and /_emulator/token.

Both must leave the state as it was and read nothing. The dashboard's own calls keep working
(test_embed_browser.py::test_local_dashboard drives it, clock writes included).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_meshes import MeshesServer
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HostSite

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed: run scripts/install-browser")

ATTACK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Totally harmless</title></head><body>
<iframe name="sink" id="sink"></iframe>
<form id="csrf" method="post" enctype="text/plain" target="sink"
      action="__EMULATOR__/_emulator/reset"><input name='{"seed": 7, "x": "' value='"}'></form>
<script>
  const base = __EMULATOR__JSON;
  const simple = (path, body, type) => fetch(base + path, {
    method: "POST", mode: "no-cors", body: type === undefined ? new Blob([body]) :
      new Blob([body], {type: type})}).catch((e) => String(e));
  window.attack = (async () => {
    await simple("/_emulator/reset", "{}");
    await simple("/_emulator/faults", JSON.stringify({integration_type: "webhook", status: 500}),
                 "text/plain");
    await simple("/_emulator/orgs", JSON.stringify({name: "Evil Corp"}));
    await fetch(base + "/_emulator/reset", {method: "POST", mode: "no-cors"}).catch(() => null);
    await new Promise((resolve) => {
      document.getElementById("sink").addEventListener("load", resolve, {once: true});
      document.getElementById("csrf").submit();
    });
    return "sent";
  })();
</script></body></html>
"""

REBOUND_READS = """async () => {
  const read = async (path) => {
    try {
      const response = await fetch(path);
      return {status: response.status, body: await response.text()};
    } catch (e) { return {status: 0, body: String(e)}; }
  };
  return {credentials: await read("/_emulator/credentials"),
          token: await read("/_emulator/token"), api: await read("/api/v1/workspaces")};
}"""


def _state(meshes_server: MeshesServer) -> dict[str, Any]:
    credentials = meshes_server.admin("GET", "/credentials")
    return {"orgs": [org["org_id"] for org in credentials["organizations"]],
            "workspaces": sorted(ws["name"] for ws in credentials["organizations"][0]["workspaces"]),
            "faults": meshes_server.admin("GET", "/faults")["count"],
            "seed": meshes_server.admin("GET", "/info")["seed"]}


def test_a_page_on_another_origin_cannot_drive_the_admin_api(
        page: Any, meshes_server: MeshesServer, host_site: HostSite) -> None:
    meshes_server.create_workspace("Keep me")
    before = _state(meshes_server)
    assert "Keep me" in before["workspaces"]
    host_site.pages["/attack"] = (ATTACK_PAGE.replace("__EMULATOR__JSON", json.dumps(meshes_server.url))
                                  .replace("__EMULATOR__", meshes_server.url))
    page.goto(f"{host_site.origin}/attack")
    assert page.evaluate("window.attack") == "sent"
    meshes_server.admin("POST", "/settle")  # (nothing is queued: the requests are all answered)
    assert _state(meshes_server) == before


@pytest.fixture(scope="module")
def rebinding_browser(browser: Any) -> Iterator[Any]:
    """Chromium resolving evil.test to 127.0.0.1, as after a DNS rebinding (launched by the
    module's Playwright: one sync Playwright per thread)."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.test 127.0.0.1",
              # (Local Network Access would ask the user first; the user may well say yes)
              "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
              "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults"])
    yield chromium
    chromium.close()


def test_a_rebound_host_name_cannot_read_credentials_or_tokens(
        rebinding_browser: Any, meshes_server: MeshesServer) -> None:
    port = meshes_server.url.rsplit(":", 1)[1]
    evil = f"http://evil.test:{port}"
    context = rebinding_browser.new_context()
    try:
        page = context.new_page()
        # The attacker's page, as first served by the attacker's own server (before the DNS
        # answer changed); from then on evil.test:<port> reaches the emulator.
        page.route(f"{evil}/attack", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>hi</title>"))
        page.goto(f"{evil}/attack")
        reads = page.evaluate(REBOUND_READS)
        dashboard = page.goto(f"{evil}/")
    finally:
        context.close()
    assert reads["credentials"]["status"] == 421, reads
    assert reads["token"]["status"] == 421, reads
    assert reads["api"]["status"] == 421, reads
    for answer in reads.values():
        assert meshes_server.secret_key not in answer["body"]
        assert "eyJ" not in answer["body"]  # no JWT
    assert dashboard is not None and dashboard.status == 421
