"""Stored markup is shown as text by the dashboard, in Chromium (issue 13 audit).

Values any API client (or a page holding the public publishable key) can store -- an event's
name, resource, resource id and payload, a webhook receiver's answer (body and headers), a fault's
message -- go through every dashboard page that shows them. None may become an element, and the
page's CSP must not have had to block a script.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.engine.webhook_receiver import Receiver, Reply

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed: run scripts/install-browser")
expect = sync_api.expect

MARKUP = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
PAGES = ["dashboard", "events", "deliveries", "requests", "faults"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def test_stored_markup_stays_text_on_every_page(page: Any, api: httpx.Client,
                                                meshes_server: MeshesServer,
                                                receiver: Receiver) -> None:
    ws = meshes_server.workspace_id or ""
    receiver.replies["/hook"] = Reply(status=500, headers={"Content-Type": "text/html",
                                                           "X-Markup": MARKUP},
                                      body=f"<html>{MARKUP}</html>".encode())
    hook = api.post("/connections", json={"workspace": ws, "type": "webhook", "name": "Hook",
                                          "metadata": {"url": receiver.url + "/hook"}})
    assert hook.status_code == 201, hook.text
    rule = api.post("/rules", json={"workspace": ws, "connection": hook.json()["connection"]["id"],
                                    "event": "user.signup", "metadata": {"action": "send_webhook"}})
    assert rule.status_code == 201, rule.text
    event = api.post("/events", json={"workspace": ws, "event": "user.signup", "resource": MARKUP,
                                      "resource_id": "r-1", "payload": {MARKUP: MARKUP}})
    assert event.status_code == 201, event.text
    meshes_server.admin("POST", "/settle")
    meshes_server.admin("POST", "/faults", {"integration_type": "webhook", "status": 500,
                                            "message": MARKUP})
    page.add_init_script("document.addEventListener('securitypolicyviolation', (e) => "
                         "(window.__violations = window.__violations || []).push(e.violatedDirective))")
    page.goto(meshes_server.url + "/")
    expect(page.locator("#tile-events .value")).to_have_text("1")
    event_id = event.json()["event"]["id"]
    for route in [*PAGES, f"events/{event_id}"]:
        page.evaluate(f"location.hash = '#/{route}'")
        expect(page.locator("#view")).not_to_contain_text("Loading")
        details = page.get_by_text("response details")
        for index in range(details.count()):
            details.nth(index).click()
        if route.startswith("events/"):
            page.get_by_role("button", name="Show payload").click()
            expect(page.locator("#payload pre")).to_contain_text("<script>window.__xss=2</script>")
        assert page.locator("#view img, #view script, #view svg").count() == 0, route
        assert page.evaluate("window.__xss") is None, route
        assert page.evaluate("window.__violations") is None, route
    assert MARKUP in page.locator("#view").inner_text()  # shown, as text
