"""Export and import: the whole state as a seed file, round trip to the same text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from meshes_emulator import Settings, create_app
from meshes_emulator.services import export
from pytest_meshes import MeshesServer
from tests.api.connection_helpers import MAPPING_SCHEMA as SCHEMA
from tests.api.event_helpers import create_connection, create_rule, emit
from tests.helpers import ENV_KEYS, serve

SECRET_TOKEN = "hubspot-secret-token-0001"


def build_world(server: MeshesServer, api: httpx.Client, ingest: httpx.Client) -> dict[str, Any]:
    """Connections (one with a stored mapping), rules, delivered and retried events, a session,
    a fault, another organization."""
    ws = server.workspace_id or ""
    hubspot = create_connection(api, ws, "hubspot", name="HubSpot",
                                metadata={"access_token": SECRET_TOKEN})
    assert api.put(f"/connections/{hubspot['id']}/mappings/default",
                   json={"schema": SCHEMA, "name": "CRM"}).status_code == 200
    slack = create_connection(api, ws, "slack", name="Slack")
    create_rule(api, ws, hubspot["id"], action="add_to_list", metadata={"id": "42"})
    create_rule(api, ws, slack["id"], action="send_message",
                metadata={"id": "C1", "template": "Hi {{first_name}}"})
    server.fail(status=503, connection=hubspot, first=1)
    first = emit(ingest)
    server.advance(5)
    emit(ingest, resource="contacts", resource_id="c-1")
    server.settle()
    assert api.post("/sessions", json={"workspace_id": ws}).status_code == 200
    server.create_org("Other Co")
    return {"hubspot": hubspot, "event": first}


def exported(server: MeshesServer, secrets: bool = True) -> str:
    response = httpx.get(f"{server.url}/_emulator/export", params={"secrets": str(secrets).lower()})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    return response.text


def test_round_trip_keeps_everything(meshes_server: MeshesServer, api: httpx.Client,
                                     ingest: httpx.Client, tmp_path: Path) -> None:
    world = build_world(meshes_server, api, ingest)
    before = {path: api.get(path).json() for path in (
        "/workspaces", "/connections", "/rules", "/events", f"/events/{world['event']['id']}",
        f"/connections/{world['hubspot']['id']}/mappings/default", "/sessions")}
    text = exported(meshes_server)
    data = yaml.safe_load(text)
    assert data["format"] == "meshes-emulator-export/1"
    assert data["clock"] == "2026-01-01T00:00:05.000Z"
    assert len(data["organizations"]) == 2
    workspace = data["organizations"][0]["workspaces"][0]
    events = workspace["events"]
    assert [len(e["rule_events"]) for e in events] == [2, 2]
    assert any(a["outcome_code"] == "rejected_server_error"
               for r in events[0]["rule_events"] for a in r["attempts"])
    assert workspace["connections"][0]["mapping"]["version"] == 2  # first PUT over the generated v1
    path = tmp_path / "state.yaml"
    path.write_text(text)
    meshes_server.reset(fixtures=[str(path)])  # an export loads as a seed file: the whole state
    assert exported(meshes_server) == text
    assert meshes_server.now() == "2026-01-01T00:00:05.000Z"
    with meshes_server.client() as again:
        assert {p: again.get(p).json() for p in before} == before
    assert meshes_server.faults()[0]["hits"] == 2  # attempt 1 of each event
    # new ids come from a stream of their own: nothing imported is issued again
    created = api.post("/workspaces", json={"name": "After import"}).json()["workspace"]
    assert created["id"] not in text
    meshes_server.reset(fixtures=[str(path)])
    assert api.post("/workspaces", json={"name": "After import"}).json()["workspace"] == created


def test_secrets_only_on_request(meshes_server: MeshesServer, api: httpx.Client,
                                 ingest: httpx.Client, admin: httpx.Client, tmp_path: Path) -> None:
    build_world(meshes_server, api, ingest)
    text = exported(meshes_server, secrets=False)
    assert SECRET_TOKEN not in text and meshes_server.secret_key not in text
    data = yaml.safe_load(text)
    org = data["organizations"][0]
    assert "secret_key" not in org["machine_keys"][0]
    assert org["workspaces"][0]["connections"][0]["metadata"]["access_token"] == "********"
    assert "launch_token" not in org["workspaces"][0]["sessions"][0]
    assert "session_signing_key" not in data["meta"]
    assert SECRET_TOKEN in exported(meshes_server, secrets=True)
    path = tmp_path / "public.yaml"
    path.write_text(text)
    meshes_server.reset(fixtures=[str(path)])
    assert exported(meshes_server, secrets=False) == text
    with meshes_server.client() as client:  # the default machine key still works
        assert client.get("/workspaces").status_code == 200
    as_json = admin.get("/export", params={"format": "json"})  # contract-checked
    assert as_json.json()["organizations"][0]["id"] == meshes_server.org_id
    assert admin.get("/export", params={"format": "xml"}).status_code == 400
    assert admin.get("/export", params={"secrets": "maybe"}).status_code == 400


@pytest.mark.parametrize(("document", "problem"), [
    ({"format": "meshes-emulator-export/1", "extra": 1}, "unknown key 'extra'"),
    ({"format": "meshes-emulator-export/1", "organizations": {}}, "organizations: must be a list"),
    ({"format": "meshes-emulator-export/1", "organizations": [{"id": "o", "name": "x",
      "created_at": "t", "colour": "red"}]}, "organizations[0]: unknown key 'colour'"),
    ({"format": "meshes-emulator-export/1", "organizations": [{"id": "o", "name": "x"}]},
     "organizations[0]: NOT NULL constraint failed: orgs.created_at"),
    ({"format": "meshes-emulator-export/1", "organizations": [{"id": "o", "name": ["x"],
      "created_at": "t"}]}, "organizations[0]: name: must be a string or a number"),
    ({"format": "meshes-emulator-export/1", "clock": "soon"}, "clock: must be an RFC 3339"),
    ({"format": "meshes-emulator-export/1", "meta": [1]}, "meta: must be a mapping"),
    ({"format": "meshes-emulator-export/1", "organizations": [{"id": "o", "name": "x",
      "created_at": 2**70}]}, "organizations[0]: Python int too large"),
    ({"format": "meshes-emulator-export/1", "faults": [{"id": "f", "kind": "api", "position": 1,
      "spec": {1, 2}, "created_at": "t"}]}, "faults[0]: Type is not JSON serializable: set"),
])
def test_a_refused_document_changes_nothing(document: dict[str, Any], problem: str) -> None:
    emulator = create_app(Settings(db_path=":memory:", clock="manual")).state.emulator
    before = export.dump_text(emulator.store)
    with pytest.raises(export.StateFileError) as refused:
        export.load(emulator, document, "bad.yaml")
    assert problem in str(refused.value) and str(refused.value).startswith("bad.yaml: ")
    assert export.dump_text(emulator.store) == before


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS and not k.startswith("MESHES_")}
    return subprocess.run([sys.executable, "-m", "meshes_emulator", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd, check=False)


def test_cli_export_serve_import_and_export_on_exit(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    with serve("--db", str(db)) as info:
        body = {"event": "user.signup", "payload": {"email": "a@b.io"}}
        key = info["workspaces"][0]["publishable_key"]
        assert httpx.post(info["api_url"] + "/events", json=body,
                          headers={"X-Meshes-Publishable-Key": key}).status_code == 201
    printed = _cli("export", "--db", str(db), cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert "secret_key" not in printed.stdout and "user.signup" in printed.stdout
    out = tmp_path / "state.yaml"
    written = _cli("export", "--db", str(db), "--out", str(out), "--with-secrets", cwd=tmp_path)
    assert written.returncode == 0 and "secret_key" in out.read_text()
    again = tmp_path / "again.yaml"
    with serve("--db", ":memory:", "--import", str(out), "--export-on-exit", str(again),
               "--export-with-secrets") as info:
        events = httpx.get(info["base_url"] + "/_emulator/export?format=json").json()
        assert events["organizations"][0]["workspaces"][0]["events"][0]["event"] == "user.signup"
    assert again.read_text() == out.read_text()
    as_json = _cli("export", "--db", str(db), "--json", cwd=tmp_path)
    assert json.loads(as_json.stdout)["format"] == "meshes-emulator-export/1"
    missing = _cli("export", "--db", str(tmp_path / "none.db"), cwd=tmp_path)
    assert missing.returncode == 2 and "no database" in missing.stderr
    (tmp_path / "seed.yaml").write_text("workspaces: [{name: Shop}]\n")
    not_export = _cli("serve", "--port", "0", "--db", ":memory:", "--import",
                      str(tmp_path / "seed.yaml"), cwd=tmp_path)
    assert not_export.returncode == 2 and "is not an export" in not_export.stderr


def test_exec_export_on_exit(tmp_path: Path) -> None:
    script = ("import os, json, urllib.request; req = urllib.request.Request("
              "os.environ['MESHES_EVENTS_URL'] + '/api/v1/events', method='POST', "
              "data=json.dumps({'event': 'from.exec', 'payload': {'a': 1}}).encode(), headers={"
              "'Content-Type': 'application/json', "
              "'X-Meshes-Publishable-Key': os.environ['MESHES_PUBLISHABLE_KEY']}); "
              "urllib.request.urlopen(req)")
    out = tmp_path / "after.yaml"
    result = _cli("exec", "--clock", "manual", "--export-on-exit", str(out), "--",
                  sys.executable, "-c", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(out.read_text())
    assert data["clock"] == "2026-01-01T00:00:00.000Z"
    assert data["organizations"][0]["workspaces"][0]["events"][0]["event"] == "from.exec"
