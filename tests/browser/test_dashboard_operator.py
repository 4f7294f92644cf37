"""The local dashboard's operator pages (issue 15): requests, faults table, next attempt due."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.sessions.helpers import seed_deliveries

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed: run scripts/install-browser")
expect = sync_api.expect


def test_requests_faults_and_next_attempt(page: Any, api: httpx.Client,
                                          meshes_server: MeshesServer, artifacts: Path) -> None:
    ws = meshes_server.workspace_id or ""
    created = seed_deliveries(api, meshes_server, ws)  # the webhook cannot connect: retrying
    retrying = next(r for r in meshes_server.rule_events(event=created["id"])
                    if r["status"] == "retrying")
    meshes_server.fail(integration_type="hubspot", status=503, first=2)
    assert api.get("/workspaces/00000000-0000-4000-8000-000000000000").status_code == 404

    page.goto(meshes_server.url + "/")
    expect(page.locator("#tile-moving .label")).to_have_text("Deliveries pending or retrying")
    page.goto(meshes_server.url + "/#/events/" + created["id"])
    due = page.locator(f'.rule-event[data-rule="{retrying["rule"]}"] .next-due')
    expect(due).to_contain_text("Next attempt due " + retrying["next_attempt_at"][:19].replace("T", " "))

    page.locator('#topbar a[data-page="faults"]').click()
    row = page.locator("table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("integration_type=hubspot")
    expect(row).to_contain_text("status=503")
    page.screenshot(path=str(artifacts / "dashboard-faults-table.png"), full_page=True)
    row.get_by_role("button", name="Remove").click()
    expect(page.locator(".empty")).to_contain_text("No faults planned")
    assert meshes_server.faults() == []

    page.locator('#topbar a[data-page="requests"]').click()
    expect(page.locator("h1")).to_have_text("Requests")
    missing = page.locator("table tbody tr", has_text="404")
    expect(missing).to_contain_text("/api/v1/workspaces/00000000-0000-4000-8000-000000000000")
    expect(missing).to_contain_text("Workspace not found")
    page.locator('#request-filters input[name="status"]').fill("4xx")
    page.locator("#request-filters button").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.screenshot(path=str(artifacts / "dashboard-requests.png"), full_page=True)
