"""`allowed_origins` go into the launch page's `Content-Security-Policy` header (issue 13).

* An international host name (`http://bücher.test:<port>`, as a developer writes it) went into
  the header as Latin-1 bytes no browser matches (a name outside Latin-1 made the launch page a
  500, its one-time launch token spent): now in its ASCII form, as Chromium serializes the
  origin for `frame-ancestors` and `event.origin`, and the host page on it gets its embed.
* `https://a.com; script-src *` passed as an "origin URL" and its directives were written into
  the header: now a 400 like any other item that is not an origin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_meshes import MeshesServer
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HostSite
from tests.browser.test_embed_browser import HOST_PAGE
from tests.sessions.helpers import mint

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed: run scripts/install-browser")
expect = sync_api.expect

IDN_HOST = "bücher.test"
ASCII_HOST = "xn--bcher-kva.test"


@pytest.fixture(scope="module")
def idn_browser(browser: Any) -> Iterator[Any]:
    """Chromium resolving the international host name to 127.0.0.1."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {ASCII_HOST} 127.0.0.1"])
    yield chromium
    chromium.close()


def test_a_host_page_on_an_international_name_gets_its_embed(
        idn_browser: Any, api: httpx.Client, meshes_server: MeshesServer,
        host_site: HostSite) -> None:
    port = host_site.origin.rsplit(":", 1)[1]
    origin = f"http://{ASCII_HOST}:{port}"
    session = mint(api, meshes_server.workspace_id or "", allowed_origins=[f"http://{IDN_HOST}:{port}/app"])
    launch = httpx.get(session["launch_url"])
    assert launch.status_code == 200, launch.text
    assert launch.headers["content-security-policy"].endswith(f"frame-ancestors {origin}")
    second = mint(api, meshes_server.workspace_id or "", allowed_origins=[f"http://{IDN_HOST}:{port}"])
    host_site.pages["/"] = (HOST_PAGE.replace("__LAUNCH_URL__", json.dumps(second["launch_url"]))
                            .replace("__TOKEN__", json.dumps(second["access_token"])))
    context = idn_browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{origin}/")
        page.wait_for_function("window.hostLog.some((m) => m.type === 'meshes:ready')")
        frame = page.frame(url=lambda url: "/embed/workspace/" in url)
        assert frame is not None
        frame.wait_for_function("window.__meshes.messages.received.length > 0")
        assert frame.evaluate("window.__meshes.messages.received")[0]["origin"] == origin
        expect(page.frame_locator("#embed").locator("#topbar nav a").first).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("value", ["https://a.com; script-src 'unsafe-inline' *",
                                   "https://a.com, script-src *", "https://a b.com",
                                   "https://a.com\u2028x"])
def test_an_item_that_is_not_an_origin_is_400(api: httpx.Client, meshes_server: MeshesServer,
                                              value: str) -> None:
    response = api.post("/sessions", json={"workspace_id": meshes_server.workspace_id,
                                           "allowed_origins": ["https://ok.example", value]})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["data"] == [
        {"param": "allowed_origins", "msg": "item 1 must be an http(s) origin URL"}]
