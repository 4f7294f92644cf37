"""The embed pages and the local dashboard in a real browser (behavior §5.4-5.5).

A host page on another loopback origin (http://localhost:<port>, a tiny server of the test)
embeds a fresh launch_url, answers `meshes:ready` with `meshes:auth`, refreshes on
`meshes:token-refresh` through a backend function (the test), and sizes the iframe on
`meshes:resize`. Events are emitted through the public API. Screenshots go to artifacts/browser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.browser.conftest import HostSite
from tests.sessions.helpers import emit, mint, move_clock, seed_deliveries

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed: run scripts/install-browser")
expect = sync_api.expect

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Host app</title></head>
<body style="font-family: sans-serif; margin: 16px; background: #eef2f7">
<h1 style="font-size: 18px">Acme host app · embedded Meshes workspace</h1>
<iframe id="embed" title="Meshes" style="width: 100%; border: 1px solid #ccd; min-height: 480px;
  background: white"></iframe>
<script>
  const launchUrl = __LAUNCH_URL__;
  const embedOrigin = new URL(launchUrl).origin;
  let token = __TOKEN__;
  window.hostLog = [];
  const frame = document.getElementById("embed");
  window.addEventListener("message", async (event) => {
    if (event.origin !== embedOrigin) return;
    const message = event.data || {};
    window.hostLog.push(message);
    const auth = () => frame.contentWindow.postMessage({type: "meshes:auth", token}, embedOrigin);
    if (message.type === "meshes:ready") auth();
    if (message.type === "meshes:token-refresh") { token = await window.backendRefresh(); auth(); }
    if (message.type === "meshes:resize") frame.style.height = Math.max(480, message.height) + "px";
  });
  frame.src = launchUrl;
</script>
</body></html>
"""


def host_log(page: Any) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = page.evaluate("window.hostLog")
    return log


def test_embedded_events_page(page: Any, api: httpx.Client, meshes_server: MeshesServer,
                              host_site: HostSite, artifacts: Path) -> None:
    ws = meshes_server.workspace_id or ""
    created = seed_deliveries(api, meshes_server, ws)
    session = mint(api, ws, role="admin", launch_page="events", scopes=["events.payload:read"],
                   allowed_origins=[host_site.origin], external_user_id="user-42")
    refreshes: list[str] = []

    def backend_refresh() -> str:
        refreshed = api.post(f"/sessions/{session['session_id']}/refresh")
        assert refreshed.status_code == 200, refreshed.text
        refreshes.append(refreshed.json()["access_token"])
        return refreshes[-1]

    page.expose_function("backendRefresh", backend_refresh)
    html = (HOST_PAGE.replace("__LAUNCH_URL__", json.dumps(session["launch_url"]))
            .replace("__TOKEN__", json.dumps(session["access_token"])))
    host_site.pages["/"] = html
    page.goto(f"{host_site.origin}/")
    embed = page.frame_locator("#embed")

    # the handshake, then the events page with the event and its delivery statuses
    row = embed.locator(f'tr[data-event-id="{created["id"]}"]')
    expect(row).to_be_visible()
    expect(row.locator(".badge", has_text="hubspot: completed")).to_be_visible()
    expect(row.locator(".badge", has_text="webhook: retrying")).to_be_visible()
    types = [m.get("type") for m in host_log(page)]
    assert types[0] == "meshes:ready"
    assert "meshes:navigate" in types
    assert "meshes:resize" in types
    frame = page.frame(url=lambda url: "/embed/workspace/" in url)
    assert frame is not None
    assert "launch=" not in frame.url  # the launch token is dropped from the address
    assert frame.evaluate("window.__meshes.messages.received")[0]["origin"] == host_site.origin
    assert frame.evaluate("window.__meshes.state.refreshIn") == 1800 - 60  # token-refresh schedule
    page.wait_for_function(
        "document.getElementById('embed').getBoundingClientRect().height >= 480")
    page.screenshot(path=str(artifacts / "embed-events.png"), full_page=True)

    # event detail: each rule_event with its attempts as a timeline, and the payload
    row.click()
    expect(embed.locator("#event-title")).to_have_text("user.signup")
    webhook_card = embed.locator(".rule-event", has_text="webhook")
    expect(webhook_card.locator(".timeline li")).to_have_count(1)
    expect(webhook_card).to_contain_text("network_error")
    expect(embed.locator(".rule-event", has_text="hubspot")).to_contain_text("delivered")
    embed.get_by_role("button", name="Show payload").click()
    expect(embed.locator("#payload pre")).to_contain_text("ada@example.com")
    page.screenshot(path=str(artifacts / "embed-event-detail.png"), full_page=True)

    # a token superseded behind the iframe's back: 401, meshes:token-refresh, new meshes:auth
    backend_refresh()
    embed.locator("#reload").click()
    page.wait_for_function(
        "window.hostLog.some((m) => m.type === 'meshes:token-refresh')")
    expect(embed.locator("#event-title")).to_have_text("user.signup")
    expect(embed.locator("#notice")).to_be_hidden()
    assert len(refreshes) == 2

    # past expires_at on the emulator clock: meshes:token-expired, and the page says so
    move_clock(meshes_server, 1801)
    embed.locator("#reload").click()
    page.wait_for_function("window.hostLog.some((m) => m.type === 'meshes:token-expired')")
    expect(embed.locator("#notice")).to_contain_text("expired")


def test_resource_session_shows_only_its_pages(page: Any, api: httpx.Client,
                                               meshes_server: MeshesServer,
                                               host_site: HostSite) -> None:
    ws = meshes_server.workspace_id or ""
    mine = emit(api, ws, resource="user", resource_id="u-1")
    emit(api, ws, resource="user", resource_id="u-2")
    session = mint(api, ws, session_type="resource", resource="user", resource_id="u-1",
                   launch_page="events")
    html = (HOST_PAGE.replace("__LAUNCH_URL__", json.dumps(session["launch_url"]))
            .replace("__TOKEN__", json.dumps(session["access_token"])))
    host_site.pages["/"] = html
    page.goto(f"{host_site.origin}/")
    embed = page.frame_locator("#embed")
    expect(embed.locator("#events-table tbody tr")).to_have_count(1)
    expect(embed.locator(f'tr[data-event-id="{mine["id"]}"]')).to_be_visible()
    nav = embed.locator("#topbar nav a")
    expect(nav).to_have_text(["Dashboard", "Rules", "Events"])
    expect(embed.locator("#scope")).to_contain_text("user/u-1")


def test_local_dashboard(page: Any, api: httpx.Client, meshes_server: MeshesServer,
                         artifacts: Path) -> None:
    ws = meshes_server.workspace_id or ""
    created = seed_deliveries(api, meshes_server, ws)
    mint(api, ws)

    page.goto(meshes_server.url + "/")
    expect(page.locator("#tile-events .value")).to_have_text("1")
    expect(page.locator("#workspace-select")).to_have_value(ws)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    page.locator('#topbar a[data-page="events"]').click()
    row = page.locator(f'tr[data-event-id="{created["id"]}"]')
    expect(row.locator(".badge", has_text="hubspot: completed")).to_be_visible()
    page.locator('#topbar a[data-page="rules"]').click()
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody tr", has_text="add_to_list")).to_contain_text("CRM")
    page.locator('#topbar a[data-page="connections"]').click()
    crm = page.locator("table tbody tr", has_text="CRM")
    expect(crm).to_contain_text("hubspot")
    crm.get_by_role("link", name="Mappings").click()
    expect(page.locator("h1")).to_have_text("Mappings · CRM")
    expect(page.locator("table tbody tr").first).to_be_visible()
    page.screenshot(path=str(artifacts / "dashboard-mappings.png"), full_page=True)
    page.locator('#topbar a[data-page="deliveries"]').click()
    sink = page.locator("table tbody tr", has_text="hubspot")
    expect(sink).to_contain_text("add_to_list")
    expect(sink.locator(".badge")).to_have_text("delivered")
    page.screenshot(path=str(artifacts / "dashboard-deliveries.png"), full_page=True)
    page.locator('#topbar a[data-page="sessions"]').click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.locator('#topbar a[data-page="clock"]').click()
    expect(page.locator("#clock-mode")).to_have_text("manual")
    page.locator("#advance-clock button").click()
    expect(page.locator("#clock-value")).to_have_text("2026-01-01T00:01:00.000Z")
    page.locator('#topbar a[data-page="faults"]').click()
    expect(page.locator("h1")).to_have_text("Fault plan")
    page.screenshot(path=str(artifacts / "dashboard-faults.png"), full_page=True)
