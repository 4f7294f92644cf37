"""No secret a connection was created with appears in any response, list or log line."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from meshes_emulator.catalog import INTEGRATION_TYPES, MASK
from pytest_meshes import MeshesServer
from tests.api.connection_helpers import VALID_METADATA, create, insert_rule, stored_metadata

MARK = "s3cr3t"  # every secret value in VALID_METADATA (and below) contains it


def rotated(metadata: dict[str, Any]) -> dict[str, Any]:
    """New secret values (still containing MARK) for every secret of `metadata`."""
    return {k: (f"n3w-{v}" if isinstance(v, str) and MARK in v else v)
            for k, v in metadata.items()}


def run_scenario(api: httpx.Client, meshes_server: MeshesServer) -> list[httpx.Response]:
    """Every connection operation, positive and negative, for every type."""
    workspace = meshes_server.workspace_id or ""
    responses: list[httpx.Response] = []
    keep = responses.append
    admin = httpx.Client(base_url=meshes_server.url + "/_emulator")
    for integration_type in INTEGRATION_TYPES:
        metadata = VALID_METADATA[integration_type]
        body = {"workspace": workspace, "type": integration_type,
                "name": f"{integration_type} secrets", "metadata": metadata}
        created = api.post("/connections", json=body)
        keep(created)
        connection = created.json()["connection"]
        path = f"/connections/{connection['id']}"
        keep(api.post("/connections", json=body))  # 409 duplicate, body carries the secrets
        keep(api.get(path))
        keep(api.put(path, json={"name": body["name"], "metadata": connection["metadata"]}))
        keep(api.put(path, json={"name": body["name"], "metadata": rotated(metadata)}))
        keep(api.put(path, json={"name": "bad/name", "metadata": rotated(metadata)}))
        keep(api.get(f"{path}/actions"))
        keep(api.get(f"{path}/fields"))
        keep(api.get(f"{path}/fields", params={"refresh": "true"}))
        keep(api.get(f"{path}/mappings/default"))
        keep(api.put(f"{path}/mappings/default",
                     json={"schema": {"schema_version": 1, "fields": []}}))
        keep(admin.post(f"/connections/{connection['id']}/deactivate"))
        keep(api.get(f"{path}/actions"))
        keep(admin.post(f"/connections/{connection['id']}/activate"))
        keep(admin.get(f"/connections/{connection['id']}/action-data"))
        insert_rule(meshes_server, connection)
        keep(api.delete(path))
    broken: dict[str, dict[str, Any]] = {
        "activecampaign": {"api_url": "http://acme.api-us1.com", "api_key": f"ac-{MARK}"},
        "customer_io": {"region": "APAC", "cdpApiKey": f"cio-{MARK}"},
        "mailchimp": {"api_key": f"mc-{MARK}", "data_center": ["us6"]},
        "webhook": {"url": "https://e.com", "auth_scheme": "bearer", "bearer_token": f"b-{MARK}",
                    "headers": [{"name": "X-Key", "value": f"{MARK}\r\nInjected: 1"}]},
    }
    for integration_type, metadata in broken.items():
        refused = api.post("/connections", json={"workspace": workspace, "type": integration_type,
                                                 "name": "Broken", "metadata": metadata})
        assert refused.status_code == 400, refused.text
        keep(refused)
    keep(api.post("/connections", json={"workspace": workspace, "type": "sendgrid",
                                        "name": "Typed", "metadata": {"api_key": [MARK]}}))
    # accepted with a warning (a missing field, leniency policy): the warning names no secret
    loose = api.post("/connections", json={"workspace": workspace, "type": "mailchimp",
                                           "name": "Loose", "metadata": {"api_key": f"mc-{MARK}"}})
    assert loose.status_code == 201 and loose.headers.get("x-meshes-emulator-warning")
    keep(loose)
    keep(admin.get("/warnings"))
    keep(api.get("/connections", params={"limit": 200}))
    keep(api.get(f"/workspaces/{workspace}/connections", params={"limit": 200}))
    keep(api.get("/integrations"))
    for connection in api.get("/connections", params={"limit": 200}).json()["records"]:
        keep(api.request("DELETE", f"/connections/{connection['id']}",
                         json={"force_delete": True}))
    keep(admin.get("/credentials"))
    keep(admin.get("/errors"))
    admin.close()
    return responses


def test_no_secret_in_any_response_or_log(
    api: httpx.Client,
    meshes_server: MeshesServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = run_scenario(api, meshes_server)
    statuses = {r.status_code for r in responses}
    assert {200, 201, 400, 409, 422} <= statuses  # the scenario did reach every path
    for response in responses:
        assert MARK not in response.text, (response.request.method, response.request.url,
                                           response.text[:500])
    assert MASK in "".join(r.text for r in responses)
    assert MARK not in caplog.text
    out, err = capfd.readouterr()
    assert MARK not in out
    assert MARK not in err


def test_the_store_keeps_the_real_secrets(api: httpx.Client, meshes_server: MeshesServer) -> None:
    """The mask is only on the way out: deliveries need the real values."""
    connection = create(api, meshes_server.workspace_id or "", "webhook")
    assert "wh-s3cr3t-bearer" in stored_metadata(meshes_server, connection["id"])
    assert "wh-s3cr3t-signing" in stored_metadata(meshes_server, connection["id"])
