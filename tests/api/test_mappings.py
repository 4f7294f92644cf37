"""Default mappings of a connection (reference §7.8-7.9, §12.6-12.7)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from meshes_emulator.catalog.fields import catalog_version
from meshes_emulator.catalog.mapping import default_mapping_schema
from meshes_emulator.store import connections as mapping_store
from pytest_meshes import MeshesServer
from tests.api.connection_helpers import MAPPING_SCHEMA as SCHEMA
from tests.api.connection_helpers import UNKNOWN_ID, create, move_clock, other_org_client
from tests.helpers import emulator_of


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


def test_first_put_stores_version_two_then_increments(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    generated = api.get(path_of(hubspot)).json()["mapping"]
    assert generated["version"] == 1
    move_clock(meshes_server, "2026-01-01T00:01:00Z")
    first = api.put(path_of(hubspot), json={"schema": SCHEMA, "name": "CRM"})
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "stored"
    stored = body["mapping"]
    assert stored["version"] == 2  # the generated mapping was version 1
    assert stored["name"] == "CRM"
    assert stored["schema"] == SCHEMA
    assert stored["mapping_id"] == generated["mapping_id"]
    assert stored["created_by"] == meshes_server.access_key
    assert stored["created_at"] == stored["updated_at"] == "2026-01-01T00:01:00.000Z"
    assert api.get(path_of(hubspot)).json() == body
    move_clock(meshes_server, "2026-01-01T00:02:00Z")
    second = api.put(path_of(hubspot), json={"schema": SCHEMA, "expected_version": 2}).json()
    assert second["mapping"]["version"] == 3
    assert second["mapping"]["name"] == "CRM"
    assert second["mapping"]["id"] != stored["id"]
    assert second["mapping"]["mapping_id"] == stored["mapping_id"]
    assert second["mapping"]["created_at"] == "2026-01-01T00:01:00.000Z"
    assert second["mapping"]["updated_at"] == "2026-01-01T00:02:00.000Z"


def test_stale_expected_version_conflicts(api: httpx.Client, hubspot: dict[str, Any]) -> None:
    assert api.put(path_of(hubspot), json={"schema": SCHEMA, "expected_version": 1}).status_code \
        == 200
    api.put(path_of(hubspot), json={"schema": SCHEMA})
    stale = api.put(path_of(hubspot), json={"schema": SCHEMA, "expected_version": 2})
    assert stale.status_code == 409
    assert stale.json()["message"] == "Mapping version conflict"
    assert stale.json()["error"]["name"] == "Conflict"
    assert api.get(path_of(hubspot)).json()["mapping"]["version"] == 3


def renamed(name: str) -> dict[str, Any]:
    return {"schema": SCHEMA, "name": name}


def test_two_writers_of_the_generated_mapping_one_wins(
    api: httpx.Client, hubspot: dict[str, Any]
) -> None:
    """Both read the generated mapping (version 1); the second write must not overwrite the first."""
    version = api.get(path_of(hubspot)).json()["mapping"]["version"]
    first = api.put(path_of(hubspot), json={**renamed("Alice"), "expected_version": version})
    second = api.put(path_of(hubspot), json={**renamed("Bob"), "expected_version": version})
    assert [first.status_code, second.status_code] == [200, 409]
    kept = api.get(path_of(hubspot)).json()
    assert kept["status"] == "stored"
    assert kept["mapping"]["name"] == "Alice" and kept["mapping"]["version"] == 2


@pytest.mark.parametrize("stored_before", [False, True])
def test_concurrent_writers_holding_one_version(
    meshes_server: MeshesServer, api: httpx.Client, hubspot: dict[str, Any], stored_before: bool
) -> None:
    if stored_before:
        api.put(path_of(hubspot), json=renamed("Start"))
    version = api.get(path_of(hubspot)).json()["mapping"]["version"]
    writers = [f"writer-{n}" for n in range(8)]
    barrier = threading.Barrier(len(writers))

    def write(name: str) -> int:
        with meshes_server.client() as client:
            barrier.wait()
            body = {**renamed(name), "expected_version": version}
            return client.put(path_of(hubspot), json=body).status_code

    with ThreadPoolExecutor(len(writers)) as pool:
        statuses = dict(zip(writers, pool.map(write, writers), strict=True))
    winners = [name for name, status in statuses.items() if status == 200]
    assert len(winners) == 1, statuses
    assert sorted(statuses.values()) == [200] + [409] * (len(writers) - 1)
    kept = api.get(path_of(hubspot)).json()["mapping"]
    assert kept["name"] == winners[0] and kept["version"] == version + 1


@pytest.mark.parametrize("stored_before", [False, True])
def test_the_write_itself_refuses_a_version_changed_after_the_check(
    monkeypatch: pytest.MonkeyPatch, meshes_server: MeshesServer, api: httpx.Client,
    hubspot: dict[str, Any], stored_before: bool,
) -> None:
    """The version check and the write are one conditional statement: a writer whose read is
    already stale when it writes (another write landed in between) gets 409, nothing is lost."""
    if stored_before:
        api.put(path_of(hubspot), json=renamed("Start"))
    seen = mapping_store.get_mapping(emulator_of(meshes_server).store, hubspot["id"])
    version = seen["version"] if seen else 1
    assert api.put(path_of(hubspot), json={**renamed("Alice"),
                                           "expected_version": version}).status_code == 200
    monkeypatch.setattr(mapping_store, "get_mapping", lambda store, connection_id: seen)
    late = api.put(path_of(hubspot), json={**renamed("Bob"), "expected_version": version})
    assert late.status_code == 409
    assert late.json()["message"] == "Mapping version conflict"
    monkeypatch.undo()
    kept = api.get(path_of(hubspot)).json()["mapping"]
    assert kept["name"] == "Alice" and kept["version"] == version + 1


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
)
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
                         api.put(path_of(connection), json={"schema": SCHEMA})):
            assert response.status_code == 404
            assert response.json()["message"] == "Connection not found"


def test_mapping_goes_with_its_connection(
    api: httpx.Client, meshes_server: MeshesServer, hubspot: dict[str, Any]
) -> None:
    api.put(path_of(hubspot), json={"schema": SCHEMA})
    api.delete(f"/connections/{hubspot['id']}")
    store = emulator_of(meshes_server).store
    assert store.one("SELECT 1 AS x FROM mappings WHERE connection_id = ?", [hubspot["id"]]) is None
