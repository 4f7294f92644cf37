"""Default mappings of a connection (reference §7.8-7.9, §12.6-12.7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from meshes_emulator.catalog.fields import catalog_version
from meshes_emulator.catalog.mapping import default_mapping_schema
from pytest_meshes import MeshesServer
from tests.api.connection_helpers import UNKNOWN_ID, create, move_clock, other_org_client

SCHEMA: dict[str, Any] = {
    "schema_version": 1,
    "fields": [
        {
            "dest": "email",
            "source": {"type": "path", "value": "email"},
            "transforms": [{"type": "lower"}, {"type": "trim"}],
            "on_error": "skip_field",
        },
        {"dest": "lifecyclestage", "source": {"type": "literal", "value": "lead"}},
    ],
}


@pytest.fixture
def hubspot(api: httpx.Client, meshes_server: MeshesServer) -> dict[str, Any]:
    return create(api, meshes_server.workspace_id or "", "hubspot")


def path_of(connection: dict[str, Any]) -> str:
    return f"/connections/{connection['id']}/mappings/default"


def test_generated_mapping_before_any_put(api: httpx.Client, hubspot: dict[str, Any]) -> None:
    response = api.get(path_of(hubspot))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "generated"
    mapping = body["mapping"]
    assert mapping["version"] == 1
    assert mapping["name"] == "Default Mapping"
    assert mapping["connection_id"] == hubspot["id"]
    assert mapping["workspace_id"] == hubspot["workspace"]
    assert mapping["integration_type"] == "hubspot"
    assert mapping["schema"] == default_mapping_schema("hubspot")
    assert mapping["catalog_version"] == catalog_version("hubspot")
    assert api.get(path_of(hubspot)).json() == body


def test_put_stores_version_one_then_increments(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    generated = api.get(path_of(hubspot)).json()["mapping"]
    move_clock(meshes_server, "2026-01-01T00:01:00Z")
    first = api.put(path_of(hubspot), json={"schema": SCHEMA, "name": "CRM"})
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "stored"
    stored = body["mapping"]
    assert stored["version"] == 1
    assert stored["name"] == "CRM"
    assert stored["schema"] == SCHEMA
    assert stored["mapping_id"] == generated["mapping_id"]
    assert stored["created_by"] == meshes_server.access_key
    assert stored["created_at"] == stored["updated_at"] == "2026-01-01T00:01:00.000Z"
    assert api.get(path_of(hubspot)).json() == body
    move_clock(meshes_server, "2026-01-01T00:02:00Z")
    second = api.put(path_of(hubspot), json={"schema": SCHEMA, "expected_version": 1}).json()
    assert second["mapping"]["version"] == 2
    assert second["mapping"]["name"] == "CRM"
    assert second["mapping"]["id"] != stored["id"]
    assert second["mapping"]["mapping_id"] == stored["mapping_id"]
    assert second["mapping"]["created_at"] == "2026-01-01T00:01:00.000Z"
    assert second["mapping"]["updated_at"] == "2026-01-01T00:02:00.000Z"


def test_stale_expected_version_conflicts(api: httpx.Client, hubspot: dict[str, Any]) -> None:
    assert api.put(path_of(hubspot), json={"schema": SCHEMA, "expected_version": 1}).status_code \
        == 200  # fmt: skip
    api.put(path_of(hubspot), json={"schema": SCHEMA})
    stale = api.put(path_of(hubspot), json={"schema": SCHEMA, "expected_version": 1})
    assert stale.status_code == 409
    assert stale.json()["message"] == "Mapping version conflict"
    assert stale.json()["error"]["name"] == "Conflict"
    assert api.get(path_of(hubspot)).json()["mapping"]["version"] == 2


def test_first_put_against_a_wrong_version_conflicts(
    api: httpx.Client, hubspot: dict[str, Any]
) -> None:
    response = api.put(path_of(hubspot), json={"schema": SCHEMA, "expected_version": 3})
    assert response.status_code == 409
    assert api.get(path_of(hubspot)).json()["status"] == "generated"


def test_go_path_form_is_stored_in_canonical_form(
    api: httpx.Client, hubspot: dict[str, Any]
) -> None:
    schema = {
        "schema_version": 1,
        "fields": [{"dest": "email", "source": {"type": "path", "path": "$.payload.email"}}],
    }
    stored = api.put(path_of(hubspot), json={"schema": schema}).json()["mapping"]
    assert stored["schema"]["fields"][0]["source"] == {"type": "path", "value": "email"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "schema"),
        ({"schema": "x"}, "schema"),
        ({"schema": {"schema_version": 2, "fields": []}}, "schema.schema_version"),
        ({"schema": {"schema_version": 1}}, "schema.fields"),
        ({"schema": {"schema_version": 1, "fields": [{"dest": "", "source": {}}]}},
         "schema.fields[0].dest"),
        ({"schema": {"schema_version": 1, "fields": [
            {"dest": "a", "source": {"type": "path", "value": "no-dash"}}]}},
         "schema.fields[0].source.value"),
        ({"schema": {"schema_version": 1, "fields": [
            {"dest": "a", "source": {"type": "literal", "value": 1},
             "transforms": [{"type": "explode"}]}]}},
         "schema.fields[0].transforms[0].type"),
        ({"schema": {"schema_version": 1, "fields": [
            {"dest": "a", "source": {"type": "literal", "value": 1}}] * 251}}, "schema.fields"),
        ({"schema": SCHEMA, "name": ""}, "name"),
        ({"schema": SCHEMA, "name": "x" * 65}, "name"),
        ({"schema": SCHEMA, "expected_version": 0}, "expected_version"),
        ({"schema": SCHEMA, "expected_version": "1"}, "expected_version"),
        ({"schema": SCHEMA, "mapping_id": "nope"}, "mapping_id"),
        pytest.param({"schema": SCHEMA, "workspace_id": UNKNOWN_ID}, "workspace_id",  # inferred
                     marks=pytest.mark.meshes(strict=True)),
    ],
)  # fmt: skip
def test_invalid_bodies_are_422(
    api: httpx.Client, hubspot: dict[str, Any], body: dict[str, Any], param: str
) -> None:
    response = api.put(path_of(hubspot), json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["error"]["name"] == "UnprocessableEntity"
    assert error["error"]["data"][0]["param"] == param
    assert api.get(path_of(hubspot)).json()["status"] == "generated"


def test_matching_workspace_and_mapping_id_are_accepted(
    api: httpx.Client, hubspot: dict[str, Any]
) -> None:
    mapping_id = api.get(path_of(hubspot)).json()["mapping"]["mapping_id"]
    body = {"schema": SCHEMA, "workspace_id": hubspot["workspace"], "mapping_id": mapping_id}
    assert api.put(path_of(hubspot), json=body).status_code == 200


def test_unknown_mapping_id_is_404(api: httpx.Client, hubspot: dict[str, Any]) -> None:
    response = api.put(path_of(hubspot), json={"schema": SCHEMA, "mapping_id": UNKNOWN_ID})
    assert response.status_code == 404
    assert response.json()["message"] == "Mapping not found"


def test_unknown_and_foreign_connection_is_404(
    api: httpx.Client, meshes_server: MeshesServer
) -> None:
    other, foreign_workspace = other_org_client(meshes_server)
    with other:
        foreign = create(other, foreign_workspace, "hubspot")
    for connection in ({"id": UNKNOWN_ID}, foreign):
        for response in (api.get(path_of(connection)),
                         api.put(path_of(connection), json={"schema": SCHEMA})):  # fmt: skip
            assert response.status_code == 404
            assert response.json()["message"] == "Connection not found"


def test_mapping_goes_with_its_connection(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    api.put(path_of(hubspot), json={"schema": SCHEMA})
    api.delete(f"/connections/{hubspot['id']}")
    store = meshes_server.emulator.store
    assert store.one("SELECT 1 AS x FROM mappings WHERE connection_id = ?", [hubspot["id"]]) is None
