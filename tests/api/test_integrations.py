"""The integrations catalog (reference §8.1)."""

from __future__ import annotations

import httpx

from meshes_emulator import catalog
from tests.helpers import walk_pages


def test_catalog_is_one_page_of_fifteen(api: httpx.Client) -> None:
    response = api.get("/integrations")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 15
    assert body["limit"] == 20
    assert body["next_cursor"] is None
    assert [r["type"] for r in body["records"]] == list(catalog.INTEGRATION_TYPES)
    assert body["records"] == catalog.integrations()


def test_catalog_pages_walk_every_type_once(api: httpx.Client) -> None:
    seen = [r["type"] for r in walk_pages(api, "/integrations", limit=4)]
    assert seen == list(catalog.INTEGRATION_TYPES)


def test_catalog_rejects_bad_page_parameters(api: httpx.Client) -> None:
    assert api.get("/integrations", params={"limit": 500}).status_code == 400
    assert api.get("/integrations", params={"cursor": "***"}).status_code == 400


def test_catalog_needs_a_machine_token(raw: httpx.Client) -> None:
    response = raw.get("/api/v1/integrations")
    assert response.status_code == 401
    assert response.json()["error"]["name"] == "Unauthorized"


def test_catalog_describes_the_webhook_credentials(api: httpx.Client) -> None:
    records = {r["type"]: r for r in api.get("/integrations").json()["records"]}
    webhook = records["webhook"]
    assert webhook["authentication"]["type"] == "none"
    keys = [f["key"] for f in webhook["authentication"]["fields"]]
    assert keys[:4] == ["url", "http_method", "payload_mode", "auth_scheme"]
    assert list(webhook["actions"]) == ["send_webhook"]
    assert records["hubspot"]["authentication"] == {"type": "oauth", "oauth": {"version": 2}}
